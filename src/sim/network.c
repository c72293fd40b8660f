#include "network.h"

#include <stdlib.h>
#include <string.h>

#define NETWORK_STREAM 0x6e6574776f726bull /* "network" */

int sim_network_init(sim_network *net, const sim_network_config *cfg, uint64_t seed)
{
    memset(net, 0, sizeof *net);
    net->cfg = *cfg;
    sim_rng_seed(&net->rng, seed, NETWORK_STREAM);
    net->side = calloc(cfg->members ? cfg->members : 1, 1);
    if (!net->side) return -1;
    /* A random half on side 1 (partial Fisher-Yates over the indices). */
    uint32_t n = cfg->members;
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return -1;
    for (uint32_t i = 0; i < n; i++) idx[i] = i;
    sim_rng part;
    sim_rng_seed(&part, seed, NETWORK_STREAM + 1);
    for (uint32_t i = 0; i < n / 2; i++) {
        uint32_t j = i + (uint32_t)sim_rng_below(&part, n - i);
        uint32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        net->side[idx[i]] = 1;
    }
    free(idx);
    return 0;
}

void sim_network_free(sim_network *net)
{
    free(net->side);
    net->side = NULL;
}

void sim_network_heal(sim_network *net)
{
    net->healed = 1;
}

int sim_network_partitioned(const sim_network *net, uint64_t now_ms)
{
    return net->cfg.partition && !net->healed && now_ms >= net->cfg.partition_start_ms &&
           now_ms < net->cfg.partition_end_ms;
}

uint64_t sim_network_base_delay_ms(sim_network *net, uint32_t from, uint32_t to)
{
    const sim_latency *l = &net->cfg.latency;
    switch (l->kind) {
    case SIM_LATENCY_UNIFORM: return sim_rng_range(&net->rng, l->delay_ms_min, l->delay_ms_max);
    case SIM_LATENCY_MATRIX: {
        uint32_t k = l->matrix->regions;
        return sim_latency_matrix_one_way_ms(l->matrix, from % k, to % k);
    }
    default: return l->delay_ms_min;
    }
}

static uint64_t one_copy_delay(sim_network *net, uint32_t from, uint32_t to)
{
    uint64_t d = sim_network_base_delay_ms(net, from, to);
    if (net->cfg.reorder_ms) d += sim_rng_below(&net->rng, (uint64_t)net->cfg.reorder_ms + 1);
    return d < 1 ? 1 : d;
}

uint32_t sim_network_route(sim_network *net, uint64_t now_ms, uint32_t from, uint32_t to,
                           uint64_t delays_ms[2])
{
    int isolated = net->cfg.isolate && (from == 0 || to == 0) &&
                   now_ms >= net->cfg.isolate_start_ms && now_ms < net->cfg.isolate_end_ms;
    if (isolated || (sim_network_partitioned(net, now_ms) && net->side[from] != net->side[to])) {
        net->cut_by_partition++;
        return 0;
    }
    if (!net->healed && sim_rng_chance(&net->rng, net->cfg.loss)) {
        net->lost++;
        return 0;
    }
    uint32_t copies = 1;
    delays_ms[0] = one_copy_delay(net, from, to);
    if (sim_rng_chance(&net->rng, net->cfg.duplicate)) {
        delays_ms[1] = one_copy_delay(net, from, to);
        copies = 2;
        net->duplicated++;
    }
    net->copies_scheduled += copies;
    return copies;
}

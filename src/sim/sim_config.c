/* The simulator's configuration: defaults, the limits derived from it, and its check (the
 * messages name the command-line flags of `aleph sim`). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

const char *sim_behaviour_name(sim_behaviour b)
{
    static const char *names[] = {"honest", "crash", "silent", "forker", "garbage", "mix"};
    return b <= SIM_MIX ? names[b] : "?";
}

int sim_behaviour_parse(const char *s)
{
    for (int b = SIM_CRASH; b <= SIM_MIX; b++)
        if (strcmp(s, sim_behaviour_name((sim_behaviour)b)) == 0) return b;
    return -1;
}

void sim_config_defaults(sim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->members = 4;
    cfg->byzantine_kind = SIM_MIX;
    cfg->seed = 1;
    cfg->rounds = 40;
    cfg->net.latency.kind = SIM_LATENCY_UNIFORM;
    cfg->net.latency.delay_ms_min = 20;
    cfg->net.latency.delay_ms_max = 80;
    cfg->coin_mode = ALEPH_COIN_THRESHOLD;
    cfg->txs_per_tick = 1;
    cfg->round_delay_ms = -1;
    cfg->parent_wait_ms = -1;
    cfg->candidate_wait_ms = -1;
    cfg->head_parent_wait_ms = -1;
    cfg->down_ms_min = SIM_DOWN_MS_MIN_DEFAULT;
    cfg->down_ms_max = SIM_DOWN_MS_MAX_DEFAULT;
    cfg->fsync_ms = -1;
    cfg->pause_ms = SIM_PAUSE_MS_DEFAULT;
}

uint64_t sim_faulty_ms_max(const sim_config *cfg)
{
    if (cfg->faulty_ms_max) return cfg->faulty_ms_max;
    uint64_t base = 30000 + 500ull * cfg->rounds;
    if (cfg->net.partition) base += cfg->net.partition_end_ms;
    if (cfg->net.isolate) base += cfg->net.isolate_end_ms;
    return base;
}

uint64_t sim_liveness_ms_max(const sim_config *cfg)
{
    return cfg->liveness_ms_max ? cfg->liveness_ms_max : 60000 + 2000ull * cfg->rounds;
}

uint32_t sim_target_round(const sim_config *cfg)
{
    return cfg->rounds;
}

uint32_t sim_rounds_max(const sim_config *cfg)
{
    /* With restarts, the others must still be creating when a member comes back far behind:
     * its late units are ordered only once one of its units is a parent of theirs (it climbs
     * from its newest own unit). Room for one round per 10 ms of every downtime. */
    uint64_t extra = cfg->restarts ? (uint64_t)cfg->restarts * (cfg->down_ms_max / 10 + 1) : 0;
    extra += (uint64_t)cfg->pauses * (cfg->pause_ms / 10 + 1); /* the same for a pause */
    uint64_t max = (uint64_t)cfg->rounds + SIM_ROUNDS_SLACK + extra;
    return max > 2000000 ? 2000000 : (uint32_t)max;
}

const char *sim_config_check(const sim_config *cfg, char *buf, size_t len)
{
    uint32_t n = cfg->members;
    if (n < 1 || n > ALEPH_MEMBERS_MAX) {
        snprintf(buf, len, "--members: %u is not in 1..%u", n, ALEPH_MEMBERS_MAX);
        return buf;
    }
    uint32_t f = aleph_faulty_max(n);
    if ((uint64_t)cfg->byzantine + cfg->crashed > f) {
        snprintf(buf, len,
                 "--byzantine %u + --crashed %u exceed f = %u, the faults %u members tolerate",
                 cfg->byzantine, cfg->crashed, f, n);
        return buf;
    }
    if (cfg->byzantine_kind < SIM_CRASH || cfg->byzantine_kind > SIM_MIX) {
        snprintf(buf, len, "--byzantine-kind: unknown kind");
        return buf;
    }
    if (cfg->rounds < SIM_ROUNDS_MIN || cfg->rounds > 1000000) {
        snprintf(buf, len, "--rounds: %u is not in %u..1000000", cfg->rounds, SIM_ROUNDS_MIN);
        return buf;
    }
    const sim_latency *l = &cfg->net.latency;
    if (l->kind == SIM_LATENCY_UNIFORM && l->delay_ms_min > l->delay_ms_max) {
        snprintf(buf, len, "--latency: uniform range %u..%u is empty", l->delay_ms_min, l->delay_ms_max);
        return buf;
    }
    if (l->kind == SIM_LATENCY_MATRIX && (!l->matrix || l->matrix->regions == 0)) {
        snprintf(buf, len, "--latency: matrix not loaded");
        return buf;
    }
    if (!(cfg->net.loss >= 0 && cfg->net.loss < 1)) {
        snprintf(buf, len, "--loss: %g is not in [0, 1)", cfg->net.loss);
        return buf;
    }
    if (!(cfg->net.duplicate >= 0 && cfg->net.duplicate <= 1)) {
        snprintf(buf, len, "--duplicate: %g is not in [0, 1]", cfg->net.duplicate);
        return buf;
    }
    if (cfg->net.partition && cfg->net.partition_start_ms >= cfg->net.partition_end_ms) {
        snprintf(buf, len, "--partition: start %" PRIu64 " is not before end %" PRIu64,
                 cfg->net.partition_start_ms, cfg->net.partition_end_ms);
        return buf;
    }
    if (cfg->epoch_rounds && (cfg->epoch_rounds < 4 || cfg->adversary_round)) {
        snprintf(buf, len, "%s", cfg->adversary_round ? "--epoch-rounds: not with --adversary"
                                                      : "--epoch-rounds: at least 4 (or 0: none)");
        return buf;
    }
    if (cfg->epoch_rounds && cfg->restarts && cfg->backup_lost > 0) {
        /* docs/PROTOCOL.md, "Epochs": a wiped data dir names no epoch */
        snprintf(buf, len, "--backup-lost: not with --epoch-rounds: a member whose backup is "
                           "deleted restarts in epoch 0 (no file names its epoch) and cannot "
                           "catch up once its peers are more than --epochs-kept epochs ahead");
        return buf;
    }
    if (cfg->epochs_archived && (!cfg->epoch_rounds || (!cfg->restarts && cfg->fsync_ms < 0))) {
        snprintf(buf, len, "--epochs-archived: needs --epoch-rounds and a disk (--restarts or "
                           "--fsync-ms): the archive is finished epochs' backup files");
        return buf;
    }
    if (cfg->epochs_kept > ALEPH_EPOCHS_KEPT_MAX) {
        snprintf(buf, len, "--epochs-kept: at most %u", ALEPH_EPOCHS_KEPT_MAX);
        return buf;
    }
    if (cfg->coin_mode > ALEPH_COIN_THRESHOLD) {
        snprintf(buf, len, "--coin: unknown mode");
        return buf;
    }
    if (cfg->adversary_round) {
        if (cfg->crashed || (cfg->byzantine && cfg->byzantine_kind != SIM_FORKER)) {
            snprintf(buf, len, "--adversary: its only faulty members are forkers (--byzantine-kind "
                               "forker); drop --crashed and other kinds");
            return buf;
        }
        if (cfg->adversary_round % n >= n - cfg->byzantine) {
            snprintf(buf, len, "--adversary: the creator of round %u (member %u) must be honest",
                     cfg->adversary_round, cfg->adversary_round % n);
            return buf;
        }
        if (cfg->adversary_rounds < 1 || cfg->adversary_rounds > 1000) {
            snprintf(buf, len, "--adversary: rounds to hold must be in 1..1000");
            return buf;
        }
        if (cfg->rounds < cfg->adversary_round + cfg->adversary_rounds + 8) {
            snprintf(buf, len, "--rounds: %u is too low for --adversary %u:%u (needs at least %u)",
                     cfg->rounds, cfg->adversary_round, cfg->adversary_rounds,
                     cfg->adversary_round + cfg->adversary_rounds + 8);
            return buf;
        }
    }
    if (cfg->default_creators_len > ALEPH_DEFAULT_CREATORS_MAX) {
        snprintf(buf, len, "--default-creators: more than %u entries", ALEPH_DEFAULT_CREATORS_MAX);
        return buf;
    }
    for (uint32_t i = 0; i < cfg->default_creators_len; i++)
        if (cfg->default_creators[i] >= n) {
            snprintf(buf, len, "--default-creators: member %u is not in 0..%u",
                     cfg->default_creators[i], n - 1);
            return buf;
        }
    if (cfg->default_creators_len && cfg->adversary_round) {
        snprintf(buf, len, "--adversary attacks the unit of round R0 mod N: drop --default-creators");
        return buf;
    }
    if (cfg->pauses > SIM_PAUSES_MAX) {
        snprintf(buf, len, "--pauses: %u is over %u", cfg->pauses, SIM_PAUSES_MAX);
        return buf;
    }
    if (cfg->pauses && cfg->adversary_round) {
        snprintf(buf, len, "--pauses: not with --adversary (its scheduler follows every member)");
        return buf;
    }
    if (cfg->restarts > SIM_RESTARTS_MAX) {
        snprintf(buf, len, "--restarts: %u is over %u", cfg->restarts, SIM_RESTARTS_MAX);
        return buf;
    }
    if (cfg->restarts && cfg->adversary_round) {
        snprintf(buf, len, "--restarts: not with --adversary (its scheduler follows every member)");
        return buf;
    }
    if (!(cfg->backup_lost >= 0 && cfg->backup_lost <= 1)) {
        snprintf(buf, len, "--backup-lost: %g is not in [0, 1]", cfg->backup_lost);
        return buf;
    }
    if (cfg->down_ms_min > cfg->down_ms_max || cfg->down_ms_max > 3600000) {
        snprintf(buf, len, "--down-ms: %" PRIu64 ":%" PRIu64 " is not MIN:MAX with MIN <= MAX <= 3600000",
                 cfg->down_ms_min, cfg->down_ms_max);
        return buf;
    }
    if (cfg->fsync_ms > 60000) {
        snprintf(buf, len, "--fsync-ms: %lld is over 60000", (long long)cfg->fsync_ms);
        return buf;
    }
    if (cfg->txs_per_tick > 100000) {
        snprintf(buf, len, "--txs-per-tick: %u is over 100000", cfg->txs_per_tick);
        return buf;
    }
    return NULL;
}

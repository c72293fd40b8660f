/* The simulator's set-up and tear-down: keys dealt from the seed, the members' configuration,
 * their behaviours, the network, the checker, the dump and the adversary. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pause.h"
#include "restart.h"
#include "sim_state.h"

static void derive(uint8_t out[32], const char *tag, uint64_t seed)
{
    uint8_t in[8];
    le64_put(in, seed);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)tag, strlen(tag) + 1);
    crypto_generichash_update(&st, in, sizeof in);
    crypto_generichash_final(&st, out, 32);
}

int sim_keys_deal(uint64_t seed, uint32_t n, aleph_secret *secrets, uint8_t (*sign_pks)[32],
                  uint8_t (*coin_vks)[32], uint64_t *session, uint64_t *rng_seed)
{
    uint8_t key_seed[32], session_bytes[32], rng_bytes[32];
    derive(key_seed, "aleph-sim/keys", seed);
    derive(session_bytes, "aleph-sim/session", seed);
    derive(rng_bytes, "aleph-sim/member-rng", seed);
    *session = le64_get(session_bytes);
    *rng_seed = le64_get(rng_bytes);
    return aleph_keys_deal(n, key_seed, secrets, sign_pks, coin_vks);
}

/* Keys dealt from the seed and the members' configuration. */
static int setup_config(sim *s, char *err, size_t err_len)
{
    const sim_config *cfg = s->cfg;
    uint32_t n = s->n = cfg->members;
    s->rounds = cfg->rounds;
    s->rounds_max = sim_rounds_max(cfg);
    s->target = sim_target_round(cfg);
    s->heal_round = cfg->rounds / 2;
    if (aleph_init() != 0) {
        snprintf(err, err_len, "libsodium failed to initialise");
        return -1;
    }
    s->members = calloc(n, sizeof *s->members);
    s->secrets = calloc(n, sizeof *s->secrets);
    s->sign_pks = calloc(n, 32);
    s->coin_vks = calloc(n, 32);
    s->honest_mask = calloc(n, 1);
    if (!s->members || !s->secrets || !s->sign_pks || !s->coin_vks || !s->honest_mask) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    uint64_t session, rng_seed;
    if (sim_keys_deal(cfg->seed, n, s->secrets, s->sign_pks, s->coin_vks, &session,
                      &rng_seed) != 0) {
        snprintf(err, err_len, "key dealing failed for %u members", n);
        return -1;
    }
    sim_sig_cache_init(&s->sigs, SIM_SIG_CACHE_MAX);
    if (!cfg->units_unshared && !(s->units = aleph_unit_store_new(n))) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    aleph_config_defaults(&s->acfg);
    s->acfg.unit_store = s->units;
    s->acfg.members = n;
    s->acfg.session = session;
    s->epoch_sessions = malloc(sizeof *s->epoch_sessions);
    if (!s->epoch_sessions) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    s->epoch_sessions[0] = s->acfg.session;
    s->epoch_sessions_len = 1;
    s->acfg.coin_mode = cfg->coin_mode;
    s->acfg.sign_public_keys = (const uint8_t(*)[32])s->sign_pks;
    s->acfg.coin_verification_keys = (const uint8_t(*)[32])s->coin_vks;
    s->acfg.unit_bytes_max = SIM_UNIT_BYTES_MAX;
    s->acfg.tx_bytes_max = SIM_TX_BYTES_MAX;
    s->acfg.pool_bytes_max = SIM_POOL_BYTES;
    /* With epochs the core's rounds_max would bound every epoch's rounds: none instead. */
    s->acfg.rounds_max = cfg->epoch_rounds ? 0 : s->rounds_max;
    s->acfg.epoch_rounds = cfg->epoch_rounds;
    s->acfg.epochs_kept = cfg->epochs_kept;
    s->acfg.rng_seed = rng_seed;
    s->acfg.verify_signature = sim_sig_cache_verify;
    s->acfg.verify_signature_ctx = &s->sigs;
    if (cfg->round_delay_ms >= 0) s->acfg.round_delay_ms_min = (uint32_t)cfg->round_delay_ms;
    if (cfg->parent_wait_ms >= 0) s->acfg.parent_wait_ms_max = (uint32_t)cfg->parent_wait_ms;
    if (cfg->candidate_wait_ms >= 0)
        s->acfg.candidate_wait_ms_max = (uint32_t)cfg->candidate_wait_ms;
    if (cfg->head_parent_wait_ms >= 0)
        s->acfg.head_parent_wait_ms_max = (uint32_t)cfg->head_parent_wait_ms;
    s->acfg.default_creators = cfg->default_creators;
    s->acfg.default_creators_len = cfg->default_creators_len;
    if (cfg->adversary_round) {
        /* Members create as soon as they hold a quorum: the scheduler picks that quorum. */
        s->acfg.round_delay_ms_min = 0;
        s->acfg.parent_wait_ms_max = 0;
        s->acfg.candidate_wait_ms_max = 0;
        s->acfg.head_parent_wait_ms_max = 0;
        s->acfg.round_delay_ms_idle = 0;
    }
    return 0;
}

/* Each member's behaviour and core instances (two for a forker). */
static int setup_members(sim *s, char *err, size_t err_len)
{
    const sim_config *cfg = s->cfg;
    uint32_t n = s->n;
    sim_rng_seed(&s->fault_rng, cfg->seed, FAULT_STREAM);
    uint32_t byz_first = n - cfg->byzantine, crashed_first = byz_first - cfg->crashed;
    static const sim_behaviour mix[] = {SIM_FORKER, SIM_GARBAGE, SIM_SILENT, SIM_CRASH};
    uint32_t crash_round_max = s->heal_round > 1 ? s->heal_round : 1;
    for (uint32_t i = 0; i < n; i++) {
        sim_member *mb = &s->members[i];
        if (i < crashed_first) mb->behaviour = SIM_HONEST;
        else if (i < byz_first) mb->behaviour = SIM_CRASH;
        else if (cfg->byzantine_kind == SIM_MIX) mb->behaviour = mix[(i - byz_first) % 4];
        else mb->behaviour = cfg->byzantine_kind;
        mb->honest = i < crashed_first;
        mb->checked = mb->honest || mb->behaviour == SIM_CRASH;
        if (mb->honest) {
            s->honest_mask[i] = 1;
            s->honest_count++;
        }
        if (mb->behaviour == SIM_CRASH)
            mb->crash_round = (uint32_t)sim_rng_range(&s->fault_rng, 1, crash_round_max);
        mb->instances = mb->behaviour == SIM_FORKER ? 2 : 1;
        mb->created_len = s->rounds_max < SIM_CREATED_RING ? s->rounds_max + 1 : SIM_CREATED_RING;
        if (mb->honest && (!(mb->created_ms = calloc(mb->created_len, sizeof(uint64_t))) ||
                           !(mb->created_round = calloc(mb->created_len, sizeof(uint32_t))))) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        for (uint32_t w = 0; w < mb->instances; w++) {
            aleph_config c = s->acfg;
            c.rng_seed ^= w ? 0xb0b0b0b0b0b0b0b0ull : 0;
            const char *why = NULL;
            mb->inst[w].m = aleph_member_new(&c, &s->secrets[i], &why);
            if (!mb->inst[w].m) {
                snprintf(err, err_len, "member %u: %s", i, why ? why : "cannot create");
                return -1;
            }
            mb->inst[w].wake_ms = UINT64_MAX;
            mb->inst[w].spin_ms = UINT64_MAX;
            mb->inst[w].own_round = -1;
        }
        if (mb->behaviour == SIM_GARBAGE || (mb->behaviour == SIM_FORKER && cfg->fork_variants))
            sim_garbage_init(&mb->garbage, &s->acfg, &s->secrets[i]);
    }
    return 0;
}

/* The network, the checker, the samples, the dump and the adversary. */
static int setup_tools(sim *s, char *err, size_t err_len)
{
    const sim_config *cfg = s->cfg;
    uint32_t n = s->n;
    sim_network_config net = cfg->net;
    net.members = n;
    if (sim_network_init(&s->net, &net, cfg->seed) != 0 || sim_checker_init(&s->checker, n) != 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    s->checker.epoch_rounds = cfg->epoch_rounds;
    for (uint32_t i = 0; cfg->restarts && i < n; i++) /* it may go back to epoch 0's start */
        if (s->members[i].disk) sim_checker_rewind_floor(&s->checker, i, 0);
    if (cfg->epoch_rounds) { /* long runs: the checker's memory stays bounded */
        uint8_t *checked = calloc(n, 1), *honest = calloc(n, 1);
        for (uint32_t i = 0; checked && honest && i < n; i++) {
            checked[i] = (uint8_t)s->members[i].checked;
            honest[i] = (uint8_t)s->members[i].honest;
        }
        int rc = checked && honest ? sim_checker_forget(&s->checker, checked) : -1;
        /* With restarts too: a restart tells the window what the crash lost
         * (sim_persist_restored). */
        if (rc == 0) rc = sim_checker_forget_txs(&s->checker, honest);
        free(checked);
        free(honest);
        if (rc != 0) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    }
    sim_queue_init(&s->queue);
    memset(&s->e2e, 0, sizeof s->e2e);
    memset(&s->consensus, 0, sizeof s->consensus);
    if (cfg->dump_dir) {
        uint8_t *forker = calloc(n, 1);
        const char **roles = calloc(n, sizeof *roles);
        char flags[2048];
        if (!forker || !roles) {
            free(forker);
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        for (uint32_t i = 0; i < n; i++) {
            forker[i] = s->members[i].behaviour == SIM_FORKER;
            roles[i] = sim_behaviour_name(s->members[i].behaviour);
        }
        sim_rerun_command(flags, sizeof flags, cfg, cfg->seed);
        sim_dump_header h = {.seed = cfg->seed, .session = s->acfg.session, .rounds = cfg->rounds,
                             .coin_mode = cfg->coin_mode, .roles = roles, .flags = flags};
        int rc = sim_dump_open(&s->dump, cfg->dump_dir, n, forker, &s->acfg, &h, err, err_len);
        free(forker);
        free(roles);
        if (rc != 0) return -1;
        s->dumping = 1;
    }
    if (cfg->adversary_round) {
        s->adversary = sim_adversary_new(n, cfg->adversary_round, cfg->adversary_rounds, &s->acfg,
                                         s->honest_mask);
        if (!s->adversary) {
            snprintf(err, err_len, "out of memory (adversary)");
            return -1;
        }
    }
    s->faulty_deadline = sim_faulty_ms_max(cfg);
    return 0;
}

int sim_setup(sim *s, char *err, size_t err_len)
{
    if (setup_config(s, err, err_len) != 0) return -1;
    if (setup_members(s, err, err_len) != 0) return -1;
    if (sim_restart_setup(s, err, err_len) != 0) return -1;
    return setup_tools(s, err, err_len);
}

void sim_teardown(sim *s)
{
    for (size_t k = 0; k < s->held_len; k++) sim_msg_release(s->held[k].msg);
    free(s->held);
    sim_adversary_free(s->adversary);
    sim_restart_teardown(s);
    sim_pause_teardown(s);
    for (uint32_t i = 0; s->members && i < s->n; i++) {
        sim_member *mb = &s->members[i];
        for (uint32_t w = 0; w < 2; w++) aleph_member_free(mb->inst[w].m);
        if (mb->behaviour == SIM_GARBAGE || mb->behaviour == SIM_FORKER) sim_garbage_free(&mb->garbage);
        free(mb->created_ms);
        free(mb->created_round);
    }
    free(s->members);
    aleph_unit_store_free(s->units); /* after every member */
    free(s->epoch_sessions);
    if (s->secrets) sodium_memzero(s->secrets, (size_t)s->n * sizeof *s->secrets);
    free(s->secrets);
    free(s->sign_pks);
    free(s->coin_vks);
    free(s->honest_mask);
    sim_sig_cache_free(&s->sigs);
    sim_queue_free(&s->queue);
    sim_network_free(&s->net);
    sim_checker_free(&s->checker);
    sim_samples_free(&s->e2e);
    sim_samples_free(&s->consensus);
}

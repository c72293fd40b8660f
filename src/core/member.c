/* The step API: one event in, one update out. Everything else in the core is called from
 * here, in a fixed order: take the input, create if due, order what can be ordered, send
 * what is due, and say when to wake up. */
#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "crypto.h"
#include "member.h"
#include "message.h"
#include "threshold_coin.h"

static const char *check_secret(const aleph_config *cfg, const aleph_secret *s)
{
    if (s->index >= cfg->members) return "member index outside the committee";
    uint8_t pk[32];
    crypto_sign_ed25519_sk_to_pk(pk, s->sign_secret_key);
    if (sodium_memcmp(pk, cfg->sign_public_keys[s->index], 32) != 0)
        return "signing key does not match the committee's key for this member";
    if (cfg->coin_mode == ALEPH_COIN_THRESHOLD) {
        uint8_t vk[32];
        if (crypto_scalarmult_ristretto255_base(vk, s->coin_secret_share) != 0 ||
            sodium_memcmp(vk, cfg->coin_verification_keys[s->index], 32) != 0)
            return "coin share does not match the committee's verification key for this member";
    }
    return NULL;
}

aleph_member *aleph_member_new(const aleph_config *cfg, const aleph_secret *secret,
                               const char **error)
{
    const char *err = aleph_config_check(cfg);
    if (!err && aleph_init() != 0) err = "libsodium failed to initialise";
    if (!err) err = check_secret(cfg, secret);
    if (err) {
        if (error) *error = err;
        return NULL;
    }
    aleph_member *m = core_calloc(1, sizeof *m);
    if (!m) goto oom;
    m->cfg = *cfg;
    m->secret = *secret;
    m->n = cfg->members;
    m->f = aleph_faulty_max(m->n);
    m->q = aleph_quorum(m->n);
    m->sign_pks = core_malloc(m->n * 32);
    m->coin_vks = core_calloc(m->n, 32);
    if (!m->sign_pks || !m->coin_vks) goto oom;
    memcpy(m->sign_pks, cfg->sign_public_keys, m->n * 32);
    if (cfg->coin_verification_keys) memcpy(m->coin_vks, cfg->coin_verification_keys, m->n * 32);
    m->cfg.sign_public_keys = (const uint8_t(*)[32])m->sign_pks;
    m->cfg.coin_verification_keys = (const uint8_t(*)[32])m->coin_vks;
    if (cfg->default_creators_len) {
        m->default_creators = core_malloc(cfg->default_creators_len * sizeof(uint32_t));
        if (!m->default_creators) goto oom;
        memcpy(m->default_creators, cfg->default_creators,
               cfg->default_creators_len * sizeof(uint32_t));
    }
    m->cfg.default_creators = m->default_creators;
    m->limits = (unit_limits){.session = cfg->session,
                              .members = m->n,
                              .quorum = m->q,
                              .payload_bytes_max = cfg->unit_bytes_max,
                              .coin_share_required = cfg->coin_mode == ALEPH_COIN_THRESHOLD};
    m->rng = cfg->rng_seed ^ ((uint64_t)secret->index << 32);
    m->own_round = -1;
    m->own_last = NONE;
    m->stats.round_created = UINT32_MAX;
    m->stats.round_ordered = UINT32_MAX;
    if (member_alloc_epoch_arrays(m) != 0) goto oom;
    if (dag_init(m) != 0 || shed_init(m) != 0 || catchup_init(m) != 0 || alert_init(m) != 0 ||
        pool_init(&m->pool, cfg->pool_bytes_max) != 0)
        goto oom;
    m->dag.forks_hooks = (fork_hooks){.found = alert_fork_found, .admits = alert_committed};
    if (hashmap_init(&m->requests.by_key, 64) != 0) goto oom;
    if (own_check_init(m) != 0 || epoch_init(m) != 0) goto oom;
    return m;
oom:
    aleph_member_free(m);
    if (error) *error = "out of memory";
    return NULL;
}

void aleph_member_free(aleph_member *m)
{
    if (!m) return;
    member_free_epoch_state(m);
    epoch_free(m);
    pool_free(&m->pool);
    outbox_free(&m->out);
    core_free(m->sign_pks);
    core_free(m->coin_vks);
    core_free(m->default_creators);
    core_free(m->own_answered);
    sodium_memzero(&m->secret, sizeof m->secret);
    core_free(m);
}

static void take_message(aleph_member *m, const aleph_event *ev)
{
    m->stats.messages_in++;
    if (ev->from >= m->n || ev->from == m->secret.index) {
        notice_drop(m, ev->from, "message from outside the committee or from self");
        return;
    }
    message msg;
    if (!epoch_take_message(m, ev, &msg)) return; /* malformed, or of another epoch */
    ALEPH_ASSERT(msg.body_len <= ev->len && msg.type >= MSG_UNIT);
    if (msg.type == MSG_UNIT)
        dag_receive_unit(m, msg.body, msg.body_len, ev->from);
    else if (msg.type == MSG_OWN_QUERY)
        own_check_query(m, ev->from);
    else if (msg.type == MSG_OWN_ANSWER) {
        catchup_resume_answer(m, ev->from, msg.rounds_plus1); /* after a resume, its query */
        own_check_answer(m, ev->from, &msg);
    }
    else if (msg.type == MSG_REQUEST_RANGE || msg.type == MSG_UNITS)
        catchup_receive(m, ev->from, &msg);
    else if (msg.type >= MSG_ALERT)
        alert_receive(m, ev->from, &msg);
    else
        sync_receive(m, ev->from, &msg);
}

static uint64_t wake_ms(const aleph_member *m)
{
    uint64_t wake = creator_wake_ms(m), sync_at = sync_wake_ms(m), own_at = own_check_wake_ms(m);
    uint64_t alert_at = alert_wake_ms(m), catchup_at = catchup_wake_ms(m);
    if (catchup_at < wake) wake = catchup_at;
    if (sync_at < wake) wake = sync_at;
    if (alert_at < wake) wake = alert_at;
    return own_at < wake ? own_at : wake;
}

void aleph_member_step(aleph_member *m, const aleph_event *ev, aleph_update *up)
{
    outbox_reset(&m->out); /* the previous update's batches are no longer referenced */
    shed_pass(m);
    catchup_clock(m, ev->now_ms); /* before the clock moves: a long silence is a resume */
    if (ev->now_ms > m->now_ms) m->now_ms = ev->now_ms;
    uint64_t units_before = m->stats.units_added;
    uint32_t epoch_before = m->epoch;
    if (ev->kind == ALEPH_EVENT_MESSAGE) take_message(m, ev);
    own_check_tick(m);
    creator_try(m);
    /* Heads depend on the DAG alone (coin values too): only a grown DAG can move them. */
    if (m->stats.units_added != units_before || m->restored_dirty) ordering_advance(m);
    m->restored_dirty = 0;
    size_t persists_before = m->out.persists_len;
    epoch_advance(m); /* when the epoch's last batch was ordered */
    /* The DAG notes what it misses and sync asks for it: the DAG does not call sync. Units
     * that wait ask again every anti-entropy period (requests give up after a pass). */
    catchup_tick(m); /* first: while it pulls ranges, single slots above the top wait */
    sync_take_wants(m, &m->wants);
    if (sync_anti_entropy_tick(m)) {
        pending_rerequest(m);
        sync_take_wants(m, &m->wants);
    }
    sync_flush(m);
    alert_tick(m);
    sync_take_wants(m, &m->wants); /* a completed alert's re-requests go out next step */
    outbox_finish_reserve(&m->out);
    if (m->out.alloc_failed) { /* messages or notices lost: peers ask again, but say so */
        m->stats.out_of_memory += m->out.alloc_failed - 1; /* notice_out_of_memory counts one */
        m->out.alloc_failed = 0;
        notice_out_of_memory(m, "outbox: a message, notice or batch record (not handed out)");
        m->out.alloc_failed = 0; /* a notice that fails again here: the count still has it */
    }
    /* Nothing of a new epoch is persisted in the update that starts it. */
    ALEPH_ASSERT(m->epoch == epoch_before || m->out.persists_len == persists_before);
    outbox_finish(&m->out, up);
    up->persist_epoch = epoch_before;
    up->wake_at_ms = wake_ms(m);
}

uint64_t aleph_member_wake_at_ms(const aleph_member *m)
{
    return wake_ms(m);
}

aleph_submit_status aleph_member_submit(aleph_member *m, const uint8_t *tx, size_t len)
{
    /* A halted member creates no more units: a pooled transaction would never be ordered. */
    if (m->halted) return ALEPH_SUBMIT_HALTED;
    return pool_add(&m->pool, tx, len, m->cfg.tx_bytes_max);
}

void aleph_member_stats_get(const aleph_member *m, aleph_member_stats *out)
{
    *out = m->stats;
    out->pool_txs = m->pool.txs;
    out->pool_bytes = m->pool.used;
    out->units_pending = m->pending.len;
    out->dag_units = m->dag.units_len;
    out->own_check_waiting = m->own_check;
    out->epoch = m->epoch;
    out->epochs_kept_now = epoch_kept_count(m);
    out->carry_txs_pending = m->carry_left;
    out->pool_txs += m->carry_left;
    out->pool_bytes += carry_bytes_left(m);
}

int aleph_keys_deal(uint32_t n, const uint8_t seed[32], aleph_secret *secrets,
                    uint8_t (*sign_public_keys)[32], uint8_t (*coin_verification_keys)[32])
{
    if (aleph_init() != 0 || n < 1 || n > ALEPH_MEMBERS_MAX) return -1;
    uint8_t(*shares)[32] = core_malloc((size_t)n * 32);
    if (!shares) return -1;
    uint8_t coin_seed[32];
    if (seed) hash_tagged(coin_seed, "aleph/deal-coin", seed, 32);
    int rc = tc_deal(n, aleph_faulty_max(n) + 1, seed ? coin_seed : NULL, shares,
                     coin_verification_keys);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        memset(&secrets[i], 0, sizeof secrets[i]);
        secrets[i].index = i;
        uint8_t member_seed[32];
        if (seed) {
            uint8_t idx[4] = {(uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16),
                              (uint8_t)(i >> 24)};
            hash_tagged2(member_seed, "aleph/deal-sign", seed, 32, idx, 4);
        } else {
            randombytes_buf(member_seed, sizeof member_seed);
        }
        crypto_sign_seed_keypair(sign_public_keys[i], secrets[i].sign_secret_key, member_seed);
        sodium_memzero(member_seed, sizeof member_seed);
        memcpy(secrets[i].coin_secret_share, shares[i], 32);
    }
    sodium_memzero(shares, (size_t)n * 32);
    core_free(shares);
    sodium_memzero(coin_seed, sizeof coin_seed);
    return rc;
}

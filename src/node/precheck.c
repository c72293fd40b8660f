#include "precheck.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct precheck_msg {
    precheck_msg *next;
    precheck *pc;
    uv_work_t work;
    int on_pool;  /* the thread pool holds it: freed when it comes back */
    int done;     /* checked, or nothing to check */
    int orphaned; /* the precheck closed while it was on the pool */
    uint32_t from;
    uint32_t results_len;
    uint32_t shares; /* coin shares checked */
    precheck_result *results;
    size_t len;
    uint8_t data[];
};

void precheck_init(precheck *pc, uv_loop_t *loop, const aleph_config *cfg,
                   precheck_deliver_fn deliver, void *ctx)
{
    memset(pc, 0, sizeof *pc);
    pc->loop = loop;
    pc->cfg = *cfg;
    pc->deliver = deliver;
    pc->ctx = ctx;
}

static void msg_free(precheck_msg *m)
{
    free(m->results);
    free(m);
}

static uint32_t default_creator(const aleph_config *cfg, uint32_t round)
{
    return cfg->default_creators_len ? cfg->default_creators[round % cfg->default_creators_len]
                                     : round % cfg->members;
}

/* The shares the member will likely check, found among a range answer's units (rounds
 * ascending): where round R-5 has no unit of its default creator here, R-5's election
 * sorts candidates by coin(R) (docs/PROTOCOL.md), which the member combines from the first
 * f+1 valid shares in creator order; those units' shares are checked here. A guess: a share
 * checked in vain costs only time, one not checked here the member checks itself. */
static void check_shares(precheck_msg *m)
{
    const aleph_config *cfg = &m->pc->cfg;
    uint32_t n = cfg->members, need = aleph_faulty_max(n) + 1, lo = UINT32_MAX, hi = 0;
    if (cfg->coin_mode != ALEPH_COIN_THRESHOLD || m->results_len == 0) return;
    for (uint32_t i = 0; i < m->results_len; i++) {
        if (m->results[i].round < lo) lo = m->results[i].round;
        if (m->results[i].round > hi) hi = m->results[i].round;
    }
    if (hi - lo + 1 > PRECHECK_SHARE_ROUNDS_MAX) return;
    uint32_t span = hi - lo + 1, *first = calloc((size_t)span * n, sizeof *first);
    if (!first) return;
    for (uint32_t i = 0; i < m->results_len; i++) {
        const precheck_result *r = &m->results[i];
        uint32_t *slot = &first[(size_t)(r->round - lo) * n + r->creator];
        if (!*slot && r->valid) *slot = i + 1;
    }
    for (uint32_t round = lo + 5; round <= hi; round++) {
        if (first[(size_t)(round - 5 - lo) * n + default_creator(cfg, round - 5)]) continue;
        for (uint32_t c = 0, have = 0; c < n && have < need; c++) {
            uint32_t i = first[(size_t)(round - lo) * n + c];
            if (!i) continue;
            precheck_result *r = &m->results[i - 1];
            r->share_valid = aleph_unit_share_check(cfg, r->unit, r->signed_len + 64,
                                                    r->share_nonce);
            m->shares++;
            have += (uint32_t)r->share_valid;
        }
    }
    free(first);
}

/* thread pool: reads only m->data and the committee's keys; writes only m->results */
static void check_units(uv_work_t *w)
{
    precheck_msg *m = w->data;
    const aleph_config *cfg = &m->pc->cfg;
    size_t off = 0, ul, count = 0;
    const uint8_t *u;
    while (aleph_message_units_next(cfg, m->data, m->len, &off, &u, &ul)) count++;
    m->results = count ? malloc(count * sizeof *m->results) : NULL;
    if (!m->results) return; /* the member checks them all itself */
    off = 0;
    while (aleph_message_units_next(cfg, m->data, m->len, &off, &u, &ul)) {
        precheck_result *r = &m->results[m->results_len];
        const uint8_t *sig;
        if (!aleph_unit_signed_parts(u, ul, &r->creator, r->hash, &sig) ||
            r->creator >= cfg->members)
            continue; /* malformed: the member refuses it before any signature check */
        r->unit = u;
        r->share_valid = 0;
        (void)aleph_unit_slot(u, ul, &r->creator, &r->round);
        r->signed_len = ul - sizeof r->signature;
        memcpy(r->signature, sig, sizeof r->signature);
        r->valid = crypto_sign_verify_detached(sig, r->hash, sizeof r->hash,
                                               cfg->sign_public_keys[r->creator]) == 0;
        m->results_len++;
    }
    check_shares(m);
}

static void drain(precheck *pc)
{
    if (pc->draining) return;
    pc->draining = 1;
    while (pc->head && pc->head->done && !pc->closing) {
        precheck_msg *m = pc->head;
        pc->head = m->next;
        if (!pc->head) pc->tail = NULL;
        pc->bytes -= m->len;
        pc->current = m;
        pc->cursor = pc->hash_cursor = pc->share_cursor = 0;
        pc->deliver(pc->ctx, m->from, m->data, m->len);
        pc->current = NULL;
        msg_free(m);
    }
    pc->draining = 0;
}

static void checked(uv_work_t *w, int status)
{
    (void)status; /* a cancelled check leaves no results: the member checks itself */
    precheck_msg *m = w->data;
    m->on_pool = 0;
    if (m->orphaned) {
        msg_free(m);
        return;
    }
    m->done = 1;
    m->pc->counters.signatures += m->results_len;
    m->pc->counters.shares += m->shares;
    drain(m->pc);
}

int precheck_message(precheck *pc, uint32_t from, const uint8_t *data, size_t len)
{
    if (pc->closing) return 1;
    size_t off = 0, ul;
    const uint8_t *u;
    int units = aleph_message_units_next(&pc->cfg, data, len, &off, &u, &ul);
    if (!units && !pc->head) return 0;
    if (pc->bytes + len > PRECHECK_BYTES_MAX) {
        pc->counters.dropped++;
        return 1;
    }
    precheck_msg *m = malloc(sizeof *m + len);
    if (!m) {
        pc->counters.dropped++;
        return 1;
    }
    memset(m, 0, sizeof *m);
    m->pc = pc;
    m->from = from;
    m->len = len;
    memcpy(m->data, data, len);
    m->work.data = m;
    if (units && uv_queue_work(pc->loop, &m->work, check_units, checked) == 0) {
        m->on_pool = 1;
        pc->counters.messages++;
    } else {
        m->done = 1;
    }
    if (pc->tail) pc->tail->next = m;
    else pc->head = m;
    pc->tail = m;
    pc->bytes += len;
    drain(pc);
    return 1;
}

static int same(const precheck *pc, const precheck_result *r, const uint8_t hash[32],
                const uint8_t sig[64], const uint8_t public_key[32])
{
    return memcmp(r->hash, hash, 32) == 0 && memcmp(r->signature, sig, 64) == 0 &&
           memcmp(pc->cfg.sign_public_keys[r->creator], public_key, 32) == 0;
}

int precheck_verify(void *ctx, const uint8_t hash[32], const uint8_t sig[64],
                    const uint8_t public_key[32])
{
    precheck *pc = ctx;
    const precheck_msg *m = pc->current;
    /* The member takes a UNITS message's units in order, passing over those it holds:
     * look ahead from the last one answered. */
    for (uint32_t i = m ? pc->cursor : 0; m && i < m->results_len; i++) {
        if (same(pc, &m->results[i], hash, sig, public_key)) {
            pc->cursor = i + 1;
            pc->counters.answered++;
            return m->results[i].valid;
        }
    }
    pc->counters.checked_here++;
    return crypto_sign_verify_detached(sig, hash, 32, public_key) == 0;
}

int precheck_unit_hash(void *ctx, const uint8_t *unit, size_t signed_len, uint8_t out[32])
{
    precheck *pc = ctx;
    const precheck_msg *m = pc->current;
    /* The member hashes a UNITS message's units in order, each once. */
    for (uint32_t i = m ? pc->hash_cursor : 0; m && i < m->results_len; i++) {
        const precheck_result *r = &m->results[i];
        if (r->unit == unit && r->signed_len == signed_len) {
            memcpy(out, r->hash, sizeof r->hash);
            pc->hash_cursor = i + 1;
            pc->counters.hashes++;
            return 1;
        }
    }
    return 0;
}

int precheck_share_valid(void *ctx, const uint8_t *unit, size_t len,
                         const uint8_t nonce[ALEPH_COIN_NONCE_BYTES])
{
    precheck *pc = ctx;
    const precheck_msg *m = pc->current;
    /* Asked in message order, once per unit the member takes. */
    for (uint32_t i = m ? pc->share_cursor : 0; m && i < m->results_len; i++) {
        const precheck_result *r = &m->results[i];
        if (r->unit != unit) continue;
        pc->share_cursor = i + 1;
        int valid = r->share_valid && r->signed_len + 64 == len &&
                    memcmp(r->share_nonce, nonce, ALEPH_COIN_NONCE_BYTES) == 0;
        pc->counters.shares_taken += (uint64_t)valid;
        return valid;
    }
    return 0;
}

void precheck_hook(precheck *pc, aleph_config *cfg)
{
    cfg->verify_signature = precheck_verify;
    cfg->unit_hash_known = precheck_unit_hash;
    cfg->share_valid_known = precheck_share_valid;
    cfg->verify_signature_ctx = cfg->unit_hash_ctx = cfg->share_valid_ctx = pc;
}

void precheck_close(precheck *pc)
{
    pc->closing = 1;
    for (precheck_msg *m = pc->head, *next; m; m = next) {
        next = m->next;
        if (m->on_pool) m->orphaned = 1;
        else msg_free(m);
    }
    pc->head = pc->tail = NULL;
    pc->bytes = 0;
}

/* ---- a restore's batches (restart.c) ------------------------------------------------------ */

typedef struct batch_part {
    const aleph_config *cfg;
    const uint8_t *const *units;
    const size_t *lens;
    precheck_result *results;
    size_t from, to;
} batch_part;

/* On a thread: reads only its units and the keys; writes only its results. A malformed unit
 * or one of no member gets unit NULL: the member refuses it before any signature check. */
static void batch_check(void *arg)
{
    batch_part *p = arg;
    for (size_t i = p->from; i < p->to; i++) {
        precheck_result *r = &p->results[i];
        const uint8_t *sig;
        r->unit = NULL;
        r->share_valid = 0; /* no coin share is checked ahead here: the member checks them */
        if (!aleph_unit_signed_parts(p->units[i], p->lens[i], &r->creator, r->hash, &sig) ||
            r->creator >= p->cfg->members)
            continue;
        r->signed_len = p->lens[i] - sizeof r->signature;
        memcpy(r->signature, sig, sizeof r->signature);
        r->valid = crypto_sign_verify_detached(sig, r->hash, sizeof r->hash,
                                               p->cfg->sign_public_keys[r->creator]) == 0;
        r->unit = p->units[i];
    }
}

static void batch_run(const aleph_config *cfg, const uint8_t *const *units, const size_t *lens,
                      size_t n, precheck_result *results)
{
    size_t t = uv_available_parallelism();
    if (t > PRECHECK_THREADS_MAX) t = PRECHECK_THREADS_MAX;
    if (t > n) t = n;
    batch_part parts[PRECHECK_THREADS_MAX];
    uv_thread_t tids[PRECHECK_THREADS_MAX];
    int started[PRECHECK_THREADS_MAX] = {0};
    for (size_t i = 0; i < t; i++) {
        parts[i] = (batch_part){cfg, units, lens, results, n * i / t, n * (i + 1) / t};
        if (i > 0) started[i] = uv_thread_create(&tids[i], batch_check, &parts[i]) == 0;
    }
    batch_check(&parts[0]); /* this thread takes a part too, and any a thread could not */
    for (size_t i = 1; i < t; i++) {
        if (started[i]) uv_thread_join(&tids[i]);
        else batch_check(&parts[i]);
    }
}

int precheck_batch(void *ctx, const uint8_t *const *units, const size_t *lens, size_t n)
{
    precheck *pc = ctx;
    precheck_batch_end(pc);
    if (!n) return 0;
    precheck_msg *m = calloc(1, sizeof *m);
    precheck_result *results = m ? calloc(n, sizeof *results) : NULL;
    if (!results) {
        free(m);
        return -1; /* the member checks them all itself */
    }
    batch_run(&pc->cfg, units, lens, n, results);
    for (size_t i = 0; i < n; i++) /* in order, the well-formed ones */
        if (results[i].unit) results[m->results_len++] = results[i];
    m->results = results;
    pc->counters.signatures += m->results_len;
    pc->batch = m;
    pc->current = m;
    pc->cursor = pc->hash_cursor = pc->share_cursor = 0;
    return 0;
}

int precheck_hash_peek(void *ctx, const uint8_t *unit, size_t signed_len, uint8_t out[32])
{
    const precheck *pc = ctx;
    const precheck_msg *m = pc->current;
    for (uint32_t i = m ? pc->hash_cursor : 0; m && i < m->results_len; i++) {
        const precheck_result *r = &m->results[i];
        if (r->unit == unit && r->signed_len == signed_len) {
            memcpy(out, r->hash, sizeof r->hash);
            return 1;
        }
    }
    return 0;
}

void precheck_batch_end(void *ctx)
{
    precheck *pc = ctx;
    if (!pc->batch) return;
    if (pc->current == pc->batch) pc->current = NULL;
    msg_free(pc->batch);
    pc->batch = NULL;
}

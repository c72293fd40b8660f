/* Helpers shared by the cmocka test programs; linked into every one of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "member.h"
#include "message.h"
#include "test_support.h"
#include "threshold_coin.h"
#include "unit.h"

void ts_committee_init(ts_committee *c, uint32_t n, aleph_coin_mode mode, uint8_t seed_byte)
{
    memset(c, 0, sizeof *c);
    assert_true(n >= 1 && n <= TS_MEMBERS_MAX);
    assert_int_equal(aleph_init(), 0);
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    c->n = n;
    c->coin_mode = mode;
    assert_int_equal(aleph_keys_deal(n, seed, c->secrets, c->sign_pks, c->coin_vks), 0);
    aleph_config_defaults(&c->cfg);
    c->cfg.members = n;
    c->cfg.session = 0x5e55;
    c->cfg.coin_mode = mode;
    c->cfg.sign_public_keys = (const uint8_t(*)[32])c->sign_pks;
    c->cfg.coin_verification_keys = (const uint8_t(*)[32])c->coin_vks;
    c->cfg.round_delay_ms_min = 0;
    c->cfg.round_delay_ms_idle = 0;
    c->cfg.parent_wait_ms_max = 0;
    c->cfg.anti_entropy_ms = 1000000;
    c->cfg.request_retry_ms = 1000;
    c->cfg.unit_bytes_max = 4096;
    c->cfg.tx_bytes_max = 256;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return p;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    p = realloc(p, ncap * elem);
    assert_non_null(p);
    *cap = ncap;
    return p;
}

void ts_log_take(ts_log *log, const aleph_update *up)
{
    for (size_t b = 0; b < up->batches_len; b++) {
        const aleph_batch *batch = &up->batches[b];
        size_t bcap = log->batches_cap;
        log->batch_rounds = grow(log->batch_rounds, &bcap, log->batches_len + 1, sizeof(uint32_t));
        bcap = log->batches_cap;
        log->batch_depths = grow(log->batch_depths, &bcap, log->batches_len + 1, sizeof(uint32_t));
        log->heads = grow(log->heads, &log->batches_cap, log->batches_len + 1, 32);
        log->batch_rounds[log->batches_len] = batch->round;
        log->batch_depths[log->batches_len] = batch->head_depth;
        memcpy(log->heads[log->batches_len], batch->head_hash, 32);
        log->batches_len++;
        for (size_t i = 0; i < batch->units_len; i++) {
            const aleph_ordered_unit *u = &batch->units[i];
            log->payload_sums =
                grow(log->payload_sums, &log->sums_cap, log->ordered_len + 1, sizeof(uint64_t));
            log->ordered = grow(log->ordered, &log->ordered_cap, log->ordered_len + 1, 32);
            uint64_t sum = 0xcbf29ce484222325ull;
            for (size_t k = 0; k < u->payload_len; k++)
                sum = (sum ^ u->payload[k]) * 0x100000001b3ull;
            size_t off = 0;
            const uint8_t *tx;
            size_t tx_len;
            while (aleph_payload_next(u->payload, u->payload_len, &off, &tx, &tx_len) == 1)
                log->txs++;
            log->creators =
                grow(log->creators, &log->creators_cap, log->ordered_len + 1, sizeof(uint32_t));
            log->creators[log->ordered_len] = u->creator;
            log->payload_sums[log->ordered_len] = sum;
            memcpy(log->ordered[log->ordered_len++], u->hash, 32);
        }
    }
    for (size_t i = 0; i < up->notices_len; i++) {
        if (up->notices[i].kind == ALEPH_NOTICE_DROPPED) log->dropped++;
        if (up->notices[i].kind == ALEPH_NOTICE_FORK) log->forks++;
        if (up->notices[i].kind == ALEPH_NOTICE_HALT) log->halts++;
        if (up->notices[i].kind == ALEPH_NOTICE_OUT_OF_MEMORY) log->out_of_memory++;
        if (up->notices[i].kind == ALEPH_NOTICE_OWN_NEWER) log->own_newer++;
        if (up->notices[i].kind == ALEPH_NOTICE_OWN_CHECKED) log->own_checked++;
    }
    for (size_t i = 0; i < up->persist_len; i++) {
        const aleph_blob *b = &up->persist[i];
        log->records = grow(log->records, &log->records_cap, log->records_len + 5 + b->len, 1);
        uint8_t *r = log->records + log->records_len;
        r[0] = (uint8_t)b->kind;
        for (int k = 0; k < 4; k++) r[1 + k] = (uint8_t)(b->len >> (8 * k));
        memcpy(r + 5, b->data, b->len);
        log->records_len += 5 + b->len;
        if (b->kind != ALEPH_PERSIST_UNIT) continue;
        log->persisted = grow(log->persisted, &log->persisted_cap, log->persisted_len + 4 + b->len, 1);
        uint8_t *p = log->persisted + log->persisted_len;
        p[0] = (uint8_t)b->len;
        p[1] = (uint8_t)(b->len >> 8);
        p[2] = (uint8_t)(b->len >> 16);
        p[3] = (uint8_t)(b->len >> 24);
        memcpy(p + 4, b->data, b->len);
        log->persisted_len += 4 + b->len;
        log->persists++;
    }
}

void ts_log_free(ts_log *log)
{
    free(log->ordered);
    free(log->payload_sums);
    free(log->creators);
    free(log->batch_rounds);
    free(log->batch_depths);
    free(log->heads);
    free(log->persisted);
    free(log->records);
    memset(log, 0, sizeof *log);
}

void ts_member_init(ts_member *tm, ts_committee *c, uint32_t index)
{
    memset(tm, 0, sizeof *tm);
    const char *err = NULL;
    tm->m = aleph_member_new(&c->cfg, &c->secrets[index], &err);
    assert_non_null(tm->m);
}

void ts_member_free(ts_member *tm)
{
    aleph_member_free(tm->m);
    ts_log_free(&tm->log);
}

void ts_member_deliver(ts_member *tm, uint32_t from, const uint8_t *msg, size_t len)
{
    aleph_event ev = {
        .kind = ALEPH_EVENT_MESSAGE, .now_ms = tm->now, .from = from, .data = msg, .len = len};
    aleph_update up;
    aleph_member_step(tm->m, &ev, &up);
    ts_log_take(&tm->log, &up);
}

void ts_coin_share(const ts_committee *c, uint32_t creator, uint32_t round, ts_share share,
                   uint8_t out[ALEPH_COIN_SHARE_BYTES])
{
    assert_true(share != TS_SHARE_NONE);
    uint8_t nonce[12];
    coin_nonce(c->cfg.session, share == TS_SHARE_WRONG_ROUND ? round + 1 : round, nonce);
    assert_int_equal(tc_share_create(c->secrets[creator].coin_secret_share, c->coin_vks[creator],
                                     nonce, sizeof nonce, out),
                     0);
    if (share == TS_SHARE_BAD_PROOF) out[ALEPH_COIN_SHARE_BYTES - 1] ^= 1; /* the proof's s */
}

size_t ts_make_unit(const ts_committee *c, uint32_t creator, uint32_t round,
                    const int64_t *parent_rounds, uint8_t (*parent_hashes)[32],
                    const uint8_t *payload, uint32_t payload_len, uint8_t *out, size_t cap,
                    uint8_t hash_out[32])
{
    ts_share share = c->coin_mode == ALEPH_COIN_THRESHOLD ? TS_SHARE_VALID : TS_SHARE_NONE;
    return ts_make_unit_share(c, creator, round, parent_rounds, parent_hashes, payload,
                              payload_len, share, out, cap, hash_out);
}

size_t ts_make_unit_share(const ts_committee *c, uint32_t creator, uint32_t round,
                          const int64_t *parent_rounds, uint8_t (*parent_hashes)[32],
                          const uint8_t *payload, uint32_t payload_len, ts_share share,
                          uint8_t *out, size_t cap, uint8_t hash_out[32])
{
    uint8_t coin_share[ALEPH_COIN_SHARE_BYTES];
    if (share != TS_SHARE_NONE) ts_coin_share(c, creator, round, share, coin_share);
    uint32_t creators[TS_MEMBERS_MAX], rounds[TS_MEMBERS_MAX], count = 0;
    const uint8_t *hashes[TS_MEMBERS_MAX];
    for (uint32_t i = 0; round > 0 && i < c->n; i++) {
        if (parent_rounds[i] < 0) continue;
        creators[count] = i;
        rounds[count] = (uint32_t)parent_rounds[i];
        hashes[count] = parent_hashes[i];
        count++;
    }
    uint8_t control[32] = {0};
    if (round > 0) unit_control_hash(hashes, count, control);
    unit_draft d = {.session = c->cfg.session,
                    .creator = creator,
                    .round = round,
                    .parents_len = count,
                    .parent_creators = creators,
                    .parent_rounds = rounds,
                    .control_hash = control,
                    .payload = payload,
                    .payload_len = payload_len,
                    .coin_share = share != TS_SHARE_NONE ? coin_share : NULL};
    size_t len = unit_encoded_len(&d);
    assert_true(len + 1 <= cap);
    out[0] = 1; /* MSG_UNIT */
    unit_encode_signed(&d, c->secrets[creator].sign_secret_key, out + 1, hash_out);
    return len + 1;
}

typedef struct ts_msg {
    struct ts_msg *next;
    uint32_t from, to;
    size_t len;
    uint8_t data[];
} ts_msg;

static ts_msg *new_msg(uint32_t from, uint32_t to, const uint8_t *data, size_t len)
{
    ts_msg *msg = malloc(sizeof *msg + len);
    assert_non_null(msg);
    msg->next = NULL;
    msg->from = from;
    msg->to = to;
    msg->len = len;
    memcpy(msg->data, data, len);
    return msg;
}

static void enqueue(ts_cluster *cl, uint32_t from, uint32_t to, const uint8_t *data, size_t len)
{
    /* 1 is the core's MSG_UNIT type byte. */
    int held = from == cl->hold_units_from && len > 0 && data[0] == 1;
    if (from == cl->cut_member || to == cl->cut_member) return;
    if (cl->drop && cl->drop(cl->observe_ctx, from, to, data, len)) return;
    if (to == cl->paused_member &&
        cl->paused_kept[from] >= cl->paused_keep * (1 + from) / cl->committee.n)
        return;
    ts_msg *msg = new_msg(from, to, data, len);
    if (to == cl->paused_member) {
        cl->paused_kept[from]++;
        if (cl->paused_tail)
            cl->paused_tail->next = msg;
        else
            cl->paused_head = msg;
        cl->paused_tail = msg;
        return;
    }
    if (held) {
        if (cl->held_tail)
            cl->held_tail->next = msg;
        else
            cl->held_head = msg;
        cl->held_tail = msg;
        return;
    }
    if (cl->queue_tail)
        cl->queue_tail->next = msg;
    else
        cl->queue_head = msg;
    cl->queue_tail = msg;
    cl->queued++;
}

void ts_cluster_inject(ts_cluster *cl, uint32_t from, uint32_t to, const uint8_t *data,
                       size_t len)
{
    enqueue(cl, from, to, data, len);
}

void ts_cluster_inject_first(ts_cluster *cl, uint32_t from, uint32_t to, const uint8_t *data,
                             size_t len)
{
    ts_msg *msg = new_msg(from, to, data, len);
    msg->next = cl->queue_head;
    cl->queue_head = msg;
    if (!cl->queue_tail) cl->queue_tail = msg;
    cl->queued++;
}

size_t ts_own_answer(uint8_t *p, uint32_t own_plus1, uint32_t rounds_plus1, const uint8_t *body,
                     size_t body_len)
{
    p[0] = MSG_OWN_ANSWER;
    put_uint(p + 1, own_plus1, 4);
    put_uint(p + 5, rounds_plus1, 4);
    if (body_len) memcpy(p + 9, body, body_len);
    return 9 + body_len;
}

void ts_cluster_resume(ts_cluster *cl)
{
    cl->paused_member = UINT32_MAX;
    memset(cl->paused_kept, 0, sizeof cl->paused_kept);
    if (!cl->paused_head) return;
    if (cl->queue_tail)
        cl->queue_tail->next = cl->paused_head;
    else
        cl->queue_head = cl->paused_head;
    cl->queue_tail = cl->paused_tail;
    for (ts_msg *msg = cl->paused_head; msg; msg = msg->next) cl->queued++;
    cl->paused_head = cl->paused_tail = NULL;
}

void ts_cluster_release_held(ts_cluster *cl)
{
    cl->hold_units_from = UINT32_MAX;
    while (cl->held_head) {
        ts_msg *msg = cl->held_head;
        cl->held_head = msg->next;
        msg->next = NULL;
        if (cl->queue_tail)
            cl->queue_tail->next = msg;
        else
            cl->queue_head = msg;
        cl->queue_tail = msg;
        cl->queued++;
    }
    cl->held_tail = NULL;
}

static void route(ts_cluster *cl, uint32_t from, const aleph_update *up)
{
    ts_member *tm = &cl->members[from];
    ts_log_take(&tm->log, up);
    for (size_t i = 0; i < up->messages_len; i++) {
        const aleph_outgoing *o = &up->messages[i];
        for (uint32_t to = 0; to < cl->committee.n; to++) {
            if (to == from || (o->to != ALEPH_TO_ALL && o->to != to)) continue;
            enqueue(cl, from, to, o->data, o->len);
        }
    }
}

void ts_cluster_init(ts_cluster *cl, uint32_t n, aleph_coin_mode mode, uint32_t rounds_max)
{
    ts_cluster_init_ae(cl, n, mode, rounds_max, 1000000);
}

void ts_cluster_init_ae(ts_cluster *cl, uint32_t n, aleph_coin_mode mode, uint32_t rounds_max,
                        uint32_t anti_entropy_ms)
{
    memset(cl, 0, sizeof *cl);
    ts_committee_init(&cl->committee, n, mode, 7);
    cl->committee.cfg.rounds_max = rounds_max;
    cl->committee.cfg.anti_entropy_ms = anti_entropy_ms;
    cl->committee.cfg.shed_lag_rounds = 4; /* short runs: shed soon */
    cl->hold_units_from = UINT32_MAX;
    cl->cut_member = UINT32_MAX;
    cl->paused_member = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) ts_member_init(&cl->members[i], &cl->committee, i);
}

void ts_cluster_free(ts_cluster *cl)
{
    ts_cluster_release_held(cl);
    ts_cluster_resume(cl);
    while (cl->queue_head) {
        ts_msg *next = cl->queue_head->next;
        free(cl->queue_head);
        cl->queue_head = next;
    }
    for (uint32_t i = 0; i < cl->committee.n; i++) ts_member_free(&cl->members[i]);
}

/* Ticks every member; returns the earliest time any of them wants to be woken. */
static uint64_t tick_all(ts_cluster *cl)
{
    uint64_t wake = UINT64_MAX;
    for (uint32_t i = 0; i < cl->committee.n; i++) {
        if (i == cl->paused_member) continue;
        aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = cl->now};
        aleph_update up;
        aleph_member_step(cl->members[i].m, &ev, &up);
        route(cl, i, &up);
        if (up.wake_at_ms < wake) wake = up.wake_at_ms;
    }
    return wake;
}

size_t ts_cluster_run(ts_cluster *cl, size_t batches, size_t steps_max)
{
    size_t steps = 0;
    tick_all(cl);
    while (steps < steps_max) {
        int done = 1;
        for (uint32_t i = 0; i < cl->committee.n; i++)
            if (cl->members[i].log.batches_len < batches) done = 0;
        if (done) break;
        if (!cl->queue_head) {
            cl->now++;
            uint64_t wake = tick_all(cl);
            if (!cl->queue_head && wake == UINT64_MAX) break; /* nothing more will happen */
            if (!cl->queue_head && wake > cl->now) cl->now = wake;
            steps++;
            continue;
        }
        if (cl->deliveries_per_ms && steps % cl->deliveries_per_ms == 0) {
            cl->now++;
            tick_all(cl);
        }
        ts_msg *msg = cl->queue_head;
        cl->queue_head = msg->next;
        if (!cl->queue_head) cl->queue_tail = NULL;
        cl->queued--;
        aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE,
                          .now_ms = cl->now,
                          .from = msg->from,
                          .data = msg->data,
                          .len = msg->len};
        if (cl->observe) cl->observe(cl->observe_ctx, msg->from, msg->to, msg->data, msg->len);
        aleph_update up;
        aleph_member_step(cl->members[msg->to].m, &ev, &up);
        route(cl, msg->to, &up);
        free(msg);
        steps++;
    }
    return steps;
}

size_t ts_assert_agreement(ts_log *const *logs, size_t count)
{
    size_t longest = 0;
    for (size_t a = 0; a < count; a++) {
        if (logs[a]->ordered_len > longest) longest = logs[a]->ordered_len;
        for (size_t b = a + 1; b < count; b++) {
            size_t common = logs[a]->ordered_len < logs[b]->ordered_len ? logs[a]->ordered_len
                                                                        : logs[b]->ordered_len;
            for (size_t i = 0; i < common; i++) {
                assert_memory_equal(logs[a]->ordered[i], logs[b]->ordered[i], 32);
                assert_int_equal(logs[a]->payload_sums[i], logs[b]->payload_sums[i]);
            }
        }
        /* No unit twice in one output. */
        for (size_t i = 0; i < logs[a]->ordered_len; i++)
            for (size_t j = i + 1; j < logs[a]->ordered_len; j++)
                assert_memory_not_equal(logs[a]->ordered[i], logs[a]->ordered[j], 32);
    }
    return longest;
}

void ts_tmpdir_make(char *dir, size_t cap, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    int len = snprintf(dir, cap, "%s/aleph-test-%s-XXXXXX", tmp ? tmp : "/tmp", name);
    assert_true(len > 0 && (size_t)len < cap);
    assert_non_null(mkdtemp(dir));
}

int ts_tmpdir_remove(const char *dir)
{
    char cmd[600];
    int len = snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (len < 0 || (size_t)len >= sizeof cmd) return -1;
    return system(cmd) == 0 ? 0 : -1;
}

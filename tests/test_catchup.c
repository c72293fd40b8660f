/* Bulk catch-up (docs/PROTOCOL.md, "Catch-up in bulk"; src/core/catchup.c), on the lossless
 * test network:
 *   - a member cut off while the others ran hundreds of rounds catches up with few messages
 *     (many units per message) and bounded bytes (at most 2x the units it added), orders
 *     what the others ordered (agreement and liveness asserted), and gets each missing unit
 *     about once: the ranges are split among its peers, not asked of all of them;
 *   - it resumes creating at the committee's round and counts in the quorum at once;
 *   - hostile range requests and answers are dropped and counted, a flood of valid requests
 *     is answered within the per-peer byte rate.
 * Seen to fail: with catchup_tick returning at once and peers pushing by anti-entropy to a
 * member far behind (the old path), 2,395 messages carried 2,395 units (one each), 912 of
 * 1,977 units came twice or more, and the member created 494 units climbing (500 rounds, 300
 * down): the per-message, duplicate and creation checks fail; with the pull off but the push
 * suppression kept, the member never catches up (the liveness check fails). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "message.h"
#include "test_support.h"

static ts_cluster cl;

typedef struct traffic {
    uint32_t to;
    int on;
    uint64_t msgs, bytes, unit_msgs, units;
    uint64_t answers_from[TS_MEMBERS_MAX]; /* UNITS answers carrying units, per sender */
    uint8_t (*hashes)[32];
    size_t hashes_len, hashes_cap;
} traffic;

static void note_unit(traffic *t, const uint8_t *u, size_t len)
{
    aleph_unit_info info;
    if (aleph_unit_inspect(&cl.committee.cfg, u, len, &info) != NULL) return;
    if (t->hashes_len == t->hashes_cap) {
        t->hashes_cap = t->hashes_cap ? 2 * t->hashes_cap : 1024;
        t->hashes = realloc(t->hashes, t->hashes_cap * 32);
        assert_non_null(t->hashes);
    }
    memcpy(t->hashes[t->hashes_len++], info.hash, 32);
    t->units++;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void observe(void *ctx, uint32_t from, uint32_t to, const uint8_t *data, size_t len)
{
    traffic *t = ctx;
    if (!t->on || to != t->to || len == 0) return;
    t->msgs++;
    t->bytes += len;
    if (data[0] == MSG_UNIT) {
        t->unit_msgs++;
        note_unit(t, data + 1, len - 1);
    } else if (data[0] == MSG_UNITS && len >= 11) {
        uint32_t count = (uint32_t)data[9] | (uint32_t)data[10] << 8;
        if (count) {
            t->unit_msgs++;
            t->answers_from[from]++;
        }
        size_t off = 11;
        for (uint32_t i = 0; i < count && off + 4 <= len; i++) {
            uint32_t ul = le32(data + off);
            note_unit(t, data + off + 4, ul);
            off += 4 + ul;
        }
    }
}

static int compare_hash(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static size_t duplicates(traffic *t)
{
    qsort(t->hashes, t->hashes_len, 32, compare_hash);
    size_t d = 0;
    for (size_t i = 1; i < t->hashes_len; i++) d += memcmp(t->hashes[i - 1], t->hashes[i], 32) == 0;
    return d;
}

static void submit_all(uint32_t n, uint32_t tag, uint32_t per_member)
{
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < per_member; k++) {
            uint8_t tx[64];
            memset(tx, (int)(i * 7 + k), sizeof tx);
            tx[0] = (uint8_t)i, tx[1] = (uint8_t)tag, tx[2] = (uint8_t)(tag >> 8), tx[3] = (uint8_t)k;
            assert_int_equal(aleph_member_submit(cl.members[i].m, tx, sizeof tx), ALEPH_SUBMIT_OK);
        }
}

static void far_behind_catches_up_in_bulk(void **state)
{
    (void)state;
    const uint32_t n = 4, cut = 3, rounds = 160;
    traffic t = {.to = cut};
    ts_cluster_init_ae(&cl, n, ALEPH_COIN_THRESHOLD, rounds, 20);
    cl.deliveries_per_ms = 4;
    cl.observe = observe;
    cl.observe_ctx = &t;
    submit_all(n, 0, 2);
    ts_cluster_run(&cl, 3, 1000000);
    cl.cut_member = cut;
    /* The others run far ahead, with payloads all along. */
    for (uint32_t k = 1; k <= 10; k++) {
        for (uint32_t i = 0; i < n; i++)
            if (i != cut)
                for (uint32_t j = 0; j < 4; j++) {
                    uint8_t tx[200];
                    memset(tx, (int)(k + j), sizeof tx);
                    tx[0] = (uint8_t)i, tx[1] = (uint8_t)k, tx[2] = (uint8_t)j;
                    aleph_member_submit(cl.members[i].m, tx, sizeof tx);
                }
        ts_cluster_run(&cl, 10 * k, 4000000);
    }
    for (uint32_t i = 0; i < n; i++)
        if (i != cut) assert_true(cl.members[i].log.batches_len >= 100);
    size_t cut_batches = cl.members[cut].log.batches_len, persisted0 = cl.members[cut].log.persisted_len;
    assert_true(cut_batches < 10);
    aleph_member_stats before;
    aleph_member_stats_get(cl.members[cut].m, &before);

    cl.cut_member = UINT32_MAX;
    t.on = 1;
    /* Until the cut-off member has ordered what the others had. */
    size_t others = cl.members[0].log.batches_len;
    ts_cluster_run(&cl, others, 20000000);
    t.on = 0;
    ts_log *logs[TS_MEMBERS_MAX];
    for (uint32_t i = 0; i < n; i++) logs[i] = &cl.members[i].log;
    ts_assert_agreement(logs, n); /* safety */
    if (cl.members[cut].log.batches_len < others)
        fail_msg("the cut-off member ordered %zu batches of %zu", cl.members[cut].log.batches_len,
                 others);
    aleph_member_stats st;
    aleph_member_stats_get(cl.members[cut].m, &st);
    uint64_t added = st.units_added - before.units_added;
    uint64_t unit_bytes = cl.members[cut].log.persisted_len - persisted0;
    size_t dups = duplicates(&t);
    fprintf(stderr,
            "catch-up: %llu units added (%llu bytes), %llu messages in (%llu carrying units, "
            "%llu units), %llu bytes in (ratio %.2f), %zu duplicate units, %llu range requests, "
            "%llu timeouts, answers from peers %llu/%llu/%llu\n",
            (unsigned long long)added, (unsigned long long)unit_bytes,
            (unsigned long long)t.msgs, (unsigned long long)t.unit_msgs,
            (unsigned long long)t.units, (unsigned long long)t.bytes,
            (double)t.bytes / (double)unit_bytes, dups, (unsigned long long)st.range_requests_sent,
            (unsigned long long)st.range_timeouts, (unsigned long long)t.answers_from[0],
            (unsigned long long)t.answers_from[1], (unsigned long long)t.answers_from[2]);
    assert_true(added > 250);
    /* It resumed at the committee's round instead of climbing one unit per round. */
    ts_cluster_run(&cl, SIZE_MAX, 200000);
    aleph_member_stats_get(cl.members[cut].m, &st);
    aleph_member_stats st1;
    aleph_member_stats_get(cl.members[1].m, &st1);
    uint64_t created = st.units_created - before.units_created;
    fprintf(stderr, "created %llu units while catching up; round %u (member 1: %u)\n",
            (unsigned long long)created, st.round_created, st1.round_created);
    assert_true(created < 30); /* climbing one unit per round would make ~100 */
    assert_true(st.round_created != UINT32_MAX && st.round_created + 20 >= st1.round_created);
    /* Many units per message, bytes at most twice the units added, each unit about once. */
    assert_true(t.unit_msgs * 8 < added);
    assert_true(t.bytes <= 2 * unit_bytes);
    assert_true(dups * 10 < added);
    /* The ranges were split among the peers. */
    uint32_t answering = 0;
    for (uint32_t i = 0; i < n; i++) answering += t.answers_from[i] > 0;
    assert_true(answering >= 2);
    assert_true(st.range_requests_sent > 0);
    free(t.hashes);
    ts_cluster_free(&cl);
}

/* Peer 0 never answers a range request of the cut-off member. */
static int drop_answers_of_0(void *ctx, uint32_t from, uint32_t to, const uint8_t *data,
                             size_t len)
{
    const traffic *t = ctx;
    return from == 0 && to == t->to && len > 0 && data[0] == MSG_UNITS;
}

static void silent_peer_is_asked_again_elsewhere(void **state)
{
    (void)state;
    const uint32_t n = 4, cut = 3;
    traffic t = {.to = cut};
    ts_cluster_init_ae(&cl, n, ALEPH_COIN_THRESHOLD, 200, 20);
    cl.deliveries_per_ms = 4;
    cl.observe_ctx = &t;
    cl.drop = drop_answers_of_0;
    submit_all(n, 2, 2);
    ts_cluster_run(&cl, 3, 1000000);
    cl.cut_member = cut;
    ts_cluster_run(&cl, 120, 8000000);
    assert_true(cl.members[0].log.batches_len >= 120 && cl.members[cut].log.batches_len < 10);
    cl.cut_member = UINT32_MAX;
    ts_cluster_run(&cl, cl.members[0].log.batches_len, 20000000);
    ts_log *logs[TS_MEMBERS_MAX];
    for (uint32_t i = 0; i < n; i++) logs[i] = &cl.members[i].log;
    ts_assert_agreement(logs, n);
    aleph_member_stats st;
    aleph_member_stats_get(cl.members[cut].m, &st);
    fprintf(stderr, "silent peer: %zu batches (member 0: %zu), %llu range requests, %llu timeouts\n",
            cl.members[cut].log.batches_len, cl.members[0].log.batches_len,
            (unsigned long long)st.range_requests_sent, (unsigned long long)st.range_timeouts);
    assert_true(cl.members[cut].log.batches_len >= 120);
    assert_true(st.range_timeouts > 0); /* peer 0's chunks went to another peer */
    ts_cluster_free(&cl);
}

static void send_raw(ts_member *tm, uint32_t from, const uint8_t *msg, size_t len)
{
    ts_member_deliver(tm, from, msg, len);
}

static size_t range_request(uint8_t *p, uint32_t lo, uint32_t hi, uint32_t n, uint32_t have)
{
    p[0] = MSG_REQUEST_RANGE;
    for (int i = 0; i < 4; i++) p[1 + i] = (uint8_t)(lo >> (8 * i)), p[5 + i] = (uint8_t)(hi >> (8 * i));
    p[9] = (uint8_t)n, p[10] = (uint8_t)(n >> 8);
    for (uint32_t c = 0; c < n; c++)
        for (int i = 0; i < 4; i++) p[11 + 4 * c + (uint32_t)i] = (uint8_t)(have >> (8 * i));
    return 11 + 4 * (size_t)n;
}

static void hostile_ranges_are_bounded(void **state)
{
    (void)state;
    const uint32_t n = 4;
    ts_cluster_init_ae(&cl, n, ALEPH_COIN_THRESHOLD, 60, 20);
    submit_all(n, 1, 30);
    ts_cluster_run(&cl, 40, 4000000);
    ts_member *tm = &cl.members[0];
    uint8_t msg[4096];
    size_t dropped = tm->log.dropped, len;
    /* Malformed requests: each dropped and counted. */
    len = range_request(msg, 5, 5, n, 0); /* empty range */
    send_raw(tm, 1, msg, len);
    len = range_request(msg, 0, RANGE_ROUNDS_MAX + 1, n, 0); /* too long */
    send_raw(tm, 1, msg, len);
    len = range_request(msg, 0, 10, n - 1, 0); /* wrong vector */
    send_raw(tm, 1, msg, len);
    len = range_request(msg, 0, 10, n, 0);
    send_raw(tm, 1, msg, len - 1); /* truncated */
    msg[len] = 0;
    send_raw(tm, 1, msg, len + 1); /* trailing */
    len = range_request(msg, 0, 10, n, 0x80000001u); /* round out of range */
    send_raw(tm, 1, msg, len);
    assert_int_equal(tm->log.dropped, dropped + 6);
    /* Malformed answers. */
    uint8_t a[64] = {MSG_UNITS, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0};
    send_raw(tm, 1, a, 15); /* a unit of length 0 */
    a[11] = 200;
    send_raw(tm, 1, a, 20); /* a unit past the end */
    a[9] = 0xff, a[10] = 0xff;
    send_raw(tm, 1, a, 11); /* too many units */
    a[9] = 0, a[10] = 0;
    send_raw(tm, 1, a, 12); /* trailing byte */
    a[1] = 10;
    send_raw(tm, 1, a, 11); /* lo above next */
    send_raw(tm, 1, a, 7); /* truncated header */
    assert_int_equal(tm->log.dropped, dropped + 12);
    /* A well-formed answer with garbage units: each unit dropped, nothing added. */
    uint8_t g[64] = {MSG_UNITS, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 5, 0, 0, 0, 1, 2, 3, 4, 5,
                     3, 0, 0, 0, 9, 9, 9};
    aleph_member_stats st0, st1;
    aleph_member_stats_get(tm->m, &st0);
    send_raw(tm, 1, g, 27);
    aleph_member_stats_get(tm->m, &st1);
    assert_int_equal(tm->log.dropped, dropped + 14);
    assert_int_equal(st1.units_added, st0.units_added);

    /* A request of exactly RANGE_ROUNDS_MAX rounds is well formed, and its answer holds only
     * the units the asker lacks by its vector (rounds 0..4 of every creator held here): every
     * unit of rounds 5 and up that member 0 holds, and none below. Seen to fail with the bound
     * exclusive (the request dropped) and with the vector ignored (rounds 0..4 sent too). */
    len = range_request(msg, 0, RANGE_ROUNDS_MAX, n, 5);
    aleph_event ask = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = tm->now, .from = 3, .data = msg, .len = len};
    aleph_update answer;
    aleph_member_step(tm->m, &ask, &answer);
    assert_int_equal(tm->log.dropped, dropped + 14);
    aleph_member_stats_get(tm->m, &st1);
    uint32_t answered_units = 0;
    for (size_t i = 0; i < answer.messages_len; i++) {
        const uint8_t *d = answer.messages[i].data;
        if (answer.messages[i].to != 3 || answer.messages[i].len < 11 || d[0] != MSG_UNITS) continue;
        uint32_t count = (uint32_t)d[9] | (uint32_t)d[10] << 8;
        size_t off = 11;
        for (uint32_t k = 0; k < count; k++) {
            uint32_t ul = le32(d + off);
            aleph_unit_info info;
            assert_null(aleph_unit_inspect(&cl.committee.cfg, d + off + 4, ul, &info));
            assert_true(info.round >= 5);
            answered_units++;
            off += 4 + ul;
        }
    }
    /* every creator's units of rounds 0..4 are in member 0's DAG (no faults here) */
    assert_true(answered_units > 0);
    assert_int_equal(answered_units, st1.dag_units - 5 * n);

    /* A flood of valid requests for everything, in one millisecond: answered within the
     * burst, the rest refused (answered empty), all counted. */
    len = range_request(msg, 0, 64, n, 0);
    uint64_t out_bytes = 0;
    for (int k = 0; k < 200; k++) {
        aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = tm->now, .from = 2, .data = msg, .len = len};
        aleph_update up;
        aleph_member_step(tm->m, &ev, &up);
        for (size_t i = 0; i < up.messages_len; i++)
            if (up.messages[i].len && up.messages[i].data[0] == MSG_UNITS)
                out_bytes += up.messages[i].len;
    }
    aleph_member_stats_get(tm->m, &st1);
    fprintf(stderr, "flood: %llu bytes answered, %llu served, %llu refused\n",
            (unsigned long long)out_bytes, (unsigned long long)st1.range_requests_served,
            (unsigned long long)st1.range_requests_refused);
    assert_true(st1.range_requests_refused > 0);
    assert_true(st1.range_requests_served < 200);
    /* The burst (2 answers of 4 MiB at most) plus one answer over it and the empty ones. */
    assert_true(out_bytes <= 3u * (4u << 20) + 200u * 11u);
    ts_cluster_free(&cl);
}

/* Anti-entropy pushes are bounded per peer: a peer a few rounds behind (not far enough for
 * ranges) that sends HIGHEST every 100 ms for 10 s gets at most 4 MiB/s of units on average
 * plus one answer (2 MiB and the rest of its last round), not 8 MiB per half period (docs/
 * PROTOCOL.md, "Anti-entropy"); it still gets units. Seen to fail with the old rule (answer
 * every half period, 8 MiB each): 945,732,488 bytes pushed against the bound of 54,525,952. */
static void pushes_are_bounded_per_peer(void **state)
{
    (void)state;
    const uint32_t n = 4, rounds = 8, txs = 8, tx_len = 65000;
    ts_committee c;
    ts_committee_init(&c, n, ALEPH_COIN_TEST, 9);
    c.cfg.unit_bytes_max = 1u << 20;
    c.cfg.tx_bytes_max = 64u << 10;
    c.cfg.anti_entropy_ms = 200;
    ts_member tm;
    ts_member_init(&tm, &c, 0);
    size_t payload_len = (size_t)txs * (4 + tx_len), cap = payload_len + 4096;
    uint8_t *payload = calloc(1, payload_len), *msg = malloc(cap);
    assert_non_null(payload);
    assert_non_null(msg);
    for (uint32_t k = 0; k < txs; k++) {
        uint8_t *p = payload + (size_t)k * (4 + tx_len);
        p[0] = (uint8_t)tx_len, p[1] = (uint8_t)(tx_len >> 8);
        p[4] = (uint8_t)k;
    }
    uint8_t hashes[TS_MEMBERS_MAX][32], prev[TS_MEMBERS_MAX][32];
    for (uint32_t r = 0; r < rounds; r++) {
        int64_t parents[TS_MEMBERS_MAX];
        for (uint32_t k = 0; k < n; k++) parents[k] = (r == 0 || k == 0) ? -1 : (int64_t)r - 1;
        memcpy(prev, hashes, sizeof prev);
        for (uint32_t cr = 1; cr < n; cr++) {
            payload[5] = (uint8_t)cr, payload[6] = (uint8_t)r; /* distinct units */
            size_t len = ts_make_unit(&c, cr, r, parents, prev, payload, (uint32_t)payload_len,
                                      msg, cap, hashes[cr]);
            ts_member_deliver(&tm, cr, msg, len);
        }
    }
    aleph_member_stats st;
    aleph_member_stats_get(tm.m, &st);
    assert_true(st.dag_units >= (rounds - 1) * (n - 1)); /* held, so pushed when asked */
    uint8_t highest[3 + 4 * 4] = {MSG_HIGHEST, (uint8_t)n, 0}; /* holds nothing */
    uint64_t pushed = 0, start = 1000, span = 10000;
    for (uint64_t t = start; t <= start + span; t += 100) {
        aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = t, .from = 1, .data = highest,
                          .len = sizeof highest};
        aleph_update up;
        aleph_member_step(tm.m, &ev, &up);
        for (size_t i = 0; i < up.messages_len; i++)
            if (up.messages[i].to == 1 && up.messages[i].len && up.messages[i].data[0] == MSG_UNIT)
                pushed += up.messages[i].len;
    }
    uint64_t bound = (span / 1000 + 1) * (4u << 20) + (8u << 20);
    fprintf(stderr, "pushes: %llu bytes in %llu ms (bound %llu)\n", (unsigned long long)pushed,
            (unsigned long long)span, (unsigned long long)bound);
    assert_true(pushed >= (4u << 20));
    if (pushed > bound) fail_msg("%llu bytes pushed (bound %llu)", (unsigned long long)pushed,
                                 (unsigned long long)bound);
    free(payload);
    free(msg);
    ts_member_free(&tm);
}

/* The catch-up target is the (f+1)-th highest report, so at N = 4 (f = 1) one peer claiming
 * rounds nobody holds does not start a catch-up: member 0 asks for no range and keeps
 * creating (a member catching up creates nothing) and ordering with the others. Seen to
 * fail with the highest report as the target (no unit created after the claim, range
 * requests sent to the claimer). */
static void one_peer_cannot_start_a_catch_up(void **state)
{
    (void)state;
    const uint32_t n = 4;
    ts_cluster_init_ae(&cl, n, ALEPH_COIN_TEST, 60, 20);
    submit_all(n, 3, 2);
    ts_cluster_run(&cl, 5, 1000000);
    uint8_t msg[3 + 4 * 4] = {MSG_HIGHEST, (uint8_t)n, 0};
    for (uint32_t c = 0; c < n; c++)
        for (int i = 0; i < 4; i++) msg[3 + 4 * c + (uint32_t)i] = (uint8_t)(100000u >> (8 * i));
    ts_cluster_inject(&cl, 1, 0, msg, sizeof msg);
    aleph_member_stats st0, st;
    aleph_member_stats_get(cl.members[0].m, &st0);
    ts_cluster_run(&cl, 40, 4000000);
    aleph_member_stats_get(cl.members[0].m, &st);
    assert_int_equal(st.range_requests_sent, st0.range_requests_sent);
    assert_true(st.round_created != UINT32_MAX && st.round_created >= st0.round_created + 20);
    ts_log *logs[TS_MEMBERS_MAX];
    for (uint32_t i = 0; i < n; i++) {
        logs[i] = &cl.members[i].log;
        assert_true(logs[i]->batches_len >= 40);
    }
    ts_assert_agreement(logs, n);
    ts_cluster_free(&cl);
}

/* Queues, ahead of the stale bytes and of every real answer, an answer from peer 0 to the
 * query the resumed member sends at its first step, reporting the member's own stale top as
 * that peer's. */
static void answer_resume_first(uint32_t resumed)
{
    aleph_member_stats st;
    aleph_member_stats_get(cl.members[resumed].m, &st);
    uint32_t stale_plus1 = st.round_created == UINT32_MAX ? 0 : st.round_created + 1;
    uint8_t answer[9];
    size_t len = ts_own_answer(answer, 0, stale_plus1, NULL, 0);
    ts_cluster_inject_first(&cl, 0, resumed, answer, len);
}

/* A member whose process was stopped (SIGSTOP) while the others ran hundreds of rounds:
 * it took no steps, the first messages sent to it waited (its socket buffers), the rest were
 * lost. Resumed, it reads those stale messages first, then the committee's newest units;
 * until it has heard the committee's round it holds its single-slot requests (every unit
 * with a missing parent would start a chain of them, each answered with units on the
 * committee's cores), then pulls ranges. Asserted: agreement, that it orders what the others
 * had ordered, one resume counted, and few single-slot requests (units, not messages).
 * Seen to fail: with the hold off (catchup_clock not setting it), the resumed member sent
 * 206 single-slot requests (2,451 units added) against 5 with it; with the hold ended by
 * HIGHESTs instead of the own query's answers (stale ones in the buffers ended it at once), 205. */
static void run_resumed_member(int stale_first_answer)
{
    const uint32_t n = 7, paused = 3;
    ts_cluster_init_ae(&cl, n, ALEPH_COIN_THRESHOLD, 400, 20);
    cl.deliveries_per_ms = 4;
    submit_all(n, 5, 2);
    ts_cluster_run(&cl, 3, 1000000);
    cl.paused_member = paused;
    cl.paused_keep = 600;
    uint64_t t0 = cl.now;
    for (uint32_t k = 1; k <= 10; k++) {
        for (uint32_t i = 0; i < n; i++)
            if (i != paused) {
                uint8_t tx[200];
                memset(tx, (int)k, sizeof tx);
                tx[0] = (uint8_t)i, tx[1] = (uint8_t)k, tx[2] = 0xEE;
                aleph_member_submit(cl.members[i].m, tx, sizeof tx);
            }
        /* Ends at its step bound (the paused member never has 15k batches): the committee
         * orders all it has within it, then idles; a bound ten times larger only added
         * idle ticks (22 s of the test's 24 s in Release, ten times that sanitized). */
        ts_cluster_run(&cl, 15 * k, 400000);
    }
    assert_true(cl.now - t0 > 2000); /* a silence the member sees as a resume */
    size_t others = cl.members[0].log.batches_len;
    assert_true(others >= 150 && cl.members[paused].log.batches_len < 10);
    aleph_member_stats before, st;
    aleph_member_stats_get(cl.members[paused].m, &before);
    ts_cluster_resume(&cl);
    if (stale_first_answer) answer_resume_first(paused);
    ts_cluster_run(&cl, others, 30000000);
    ts_log *logs[TS_MEMBERS_MAX];
    for (uint32_t i = 0; i < n; i++) logs[i] = &cl.members[i].log;
    ts_assert_agreement(logs, n); /* safety */
    if (cl.members[paused].log.batches_len < others)
        fail_msg("the resumed member ordered %zu batches of %zu", cl.members[paused].log.batches_len,
                 others);
    aleph_member_stats_get(cl.members[paused].m, &st);
    uint64_t requests = st.requests_sent - before.requests_sent;
    fprintf(stderr, "resumed: %llu resumes, %llu single-slot requests, %llu range requests, %llu units added\n",
            (unsigned long long)(st.resumes - before.resumes), (unsigned long long)requests,
            (unsigned long long)(st.range_requests_sent - before.range_requests_sent),
            (unsigned long long)(st.units_added - before.units_added));
    assert_int_equal(st.resumes - before.resumes, 1);
    assert_true(st.range_requests_sent > before.range_requests_sent);
    assert_true(requests * 20 < st.units_added - before.units_added);
    ts_cluster_free(&cl);
}

static void resumed_member_holds_single_requests(void **state)
{
    (void)state;
    run_resumed_member(0);
}

/* The same resume, but the first answer to the member's query comes from a peer that is
 * itself behind (here: one claiming the paused member's own stale top, which a faulty peer
 * can also send): one answer must not end the hold, since the committee's round is known
 * only once f+1 peers told theirs (one of them honest and current). Seen to fail with the
 * hold ended by the first answer (mutant hold_ends_on_first_answer): 206 single-slot
 * requests (2,451 units added) against 6 with the f+1 rule. */
static void resume_hold_outlasts_a_stale_first_answer(void **state)
{
    (void)state;
    run_resumed_member(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(far_behind_catches_up_in_bulk),
        cmocka_unit_test(silent_peer_is_asked_again_elsewhere),
        cmocka_unit_test(hostile_ranges_are_bounded),
        cmocka_unit_test(pushes_are_bounded_per_peer),
        cmocka_unit_test(one_peer_cannot_start_a_catch_up),
        cmocka_unit_test(resumed_member_holds_single_requests),
        cmocka_unit_test(resume_hold_outlasts_a_stale_first_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

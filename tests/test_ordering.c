/* Ordering on hand-built DAGs (PROTOCOL.md section 4), with the expected heads and batches
 * worked out here from the rules, independently of the core; in every coin mode (the DAG
 * builder attaches valid coin shares in threshold mode, and spoiled ones where asked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dag_builder.h"
#include "crypto.h"
#include "member.h"
#include "threshold_coin.h"

#define ALL4 0xfu

static dag_builder b;

static void deliver_rounds(ts_member *tm, uint32_t from_round, uint32_t to_round)
{
    for (uint32_t r = from_round; r <= to_round; r++)
        for (uint32_t c = 0; c < b.c.n; c++)
            if (b.units[r][c].present) db_deliver(&b, tm, &b.units[r][c], c);
}

/* A full DAG of 4: head(0) is the default creator's unit, decided 1 at d = 2; and nothing is
 * output before a unit of round 3 exists (the r+3 rule). */
static void fast_decision_and_r_plus_3(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    for (uint32_t r = 0; r <= 3; r++) db_add_round(&b, r, ALL4, ALL4);
    ts_member tm;
    db_observer(&b, &tm);
    deliver_rounds(&tm, 0, 2);
    assert_int_equal(tm.log.batches_len, 0); /* decided already, but no round-3 unit yet */
    db_deliver(&b, &tm, &b.units[3][2], 2);
    assert_int_equal(tm.log.batches_len, 1);
    assert_int_equal(tm.log.batch_rounds[0], 0);
    assert_int_equal(tm.log.batch_depths[0], 2);
    assert_true(db_is(tm.log.heads[0], &b.units[0][0])); /* c(0) = 0 mod 4 */
    assert_int_equal(tm.log.ordered_len, 1);             /* round-0 units have no parents */
    assert_int_equal(tm.log.dropped, 0);
    ts_member_free(&tm);
}

/* A decision needs q votes, not f+1. Only A1 and B1 (f+1 = 2 of 4) have A0 as parent, so
 * every round-2 unit sees 2 votes 1 and 2 votes 0: mixed, it votes the common vote 1 but
 * decides nothing (2 < q = 3). Round 3 (common vote 0) sees four 1s and decides nothing;
 * round 4 (common vote 1) decides 1. So with rounds 0..3 nothing is output, and with round 4
 * the head of round 0 is A0 at d = 4 (and round 1's B1 at d = 2). Checked to fail with the
 * decision threshold f+1 (mutant quorum_f_plus_1: A0 is out at d = 2 with round 3 only). */
static void decision_needs_a_quorum(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    db_add_round(&b, 0, ALL4, 0);
    db_add_mask(&b, 0, 1, 0x7u); /* A0, B0, C0 */
    db_add_mask(&b, 1, 1, 0x7u);
    db_add_mask(&b, 2, 1, 0xeu); /* B0, C0, D0: no A0 */
    db_add_mask(&b, 3, 1, 0xeu);
    for (uint32_t r = 2; r <= 4; r++) db_add_round(&b, r, ALL4, ALL4);
    ts_member tm;
    db_observer(&b, &tm);
    deliver_rounds(&tm, 0, 3);
    assert_int_equal(tm.log.batches_len, 0);
    deliver_rounds(&tm, 4, 4);
    assert_int_equal(tm.log.batches_len, 2);
    assert_true(db_is(tm.log.heads[0], &b.units[0][0]));
    assert_int_equal(tm.log.batch_depths[0], 4);
    assert_true(db_is(tm.log.heads[1], &b.units[1][1]));
    assert_int_equal(tm.log.batch_depths[1], 2);
    assert_int_equal(tm.log.dropped, 0);
    ts_member_free(&tm);
}

static int compare_hash(const void *x, const void *y)
{
    return memcmp(x, y, 32);
}

/* Member 0 (the default creator of round 0) is slow: its round-0 unit A0 reaches only its own
 * round-1 unit, and it stops after round 1. A0 is decided 0 at d = 3, the head of round 0 is
 * the first of the others in candidate order (by hash in deterministic mode), and A0 still
 * gets ordered once a later unit takes A1 as an older parent. */
static void late_default_candidate(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    const uint32_t BCD = 0xeu;
    db_add_round(&b, 0, ALL4, 0);
    db_add_mask(&b, 0, 1, 0x7u); /* A1: A0, B0, C0 */
    db_add_round(&b, 1, BCD, BCD);
    db_add_round(&b, 2, BCD, BCD);
    /* Round 3: B3 also takes A1, the highest unit of A below round 3. */
    int64_t with_a1[4] = {1, 2, 2, 2};
    db_add(&b, 1, 3, with_a1);
    db_add_mask(&b, 2, 3, BCD);
    db_add_mask(&b, 3, 3, BCD);
    for (uint32_t r = 4; r <= 7; r++) db_add_round(&b, r, BCD, BCD);

    /* Expected, from the rules. */
    uint8_t others[3][32];
    for (uint32_t c = 1; c <= 3; c++) memcpy(others[c - 1], b.units[0][c].hash, 32);
    qsort(others, 3, 32, compare_hash);
    uint8_t round4[3][32];
    for (uint32_t c = 1; c <= 3; c++) memcpy(round4[c - 1], b.units[4][c].hash, 32);
    qsort(round4, 3, 32, compare_hash);

    ts_member both[2];
    for (int order = 0; order < 2; order++) {
        ts_member tm;
        db_observer(&b, &tm);
        if (order == 0) {
            /* With rounds 0..3 held, A0 is already decided 0 (at d = 3) and the next
             * candidate 1 (at d = 2): head(0) is out. */
            deliver_rounds(&tm, 0, 3);
            assert_int_equal(tm.log.batches_len, 1);
            deliver_rounds(&tm, 4, 7);
        } else {
            /* Top down: everything waits for parents, then resolves bottom-up. */
            for (int r = 7; r >= 0; r--)
                for (uint32_t c = 0; c < 4; c++)
                    if (b.units[r][c].present) db_deliver(&b, &tm, &b.units[r][c], c);
        }
        assert_int_equal(tm.log.batches_len, 5); /* heads of rounds 0..4 (round 7 exists) */
        assert_memory_equal(tm.log.heads[0], others[0], 32); /* not A0, the first candidate */
        assert_int_equal(tm.log.batch_depths[0], 2);
        assert_true(db_is(tm.log.heads[1], &b.units[1][1])); /* c(1) = B */
        assert_true(db_is(tm.log.heads[2], &b.units[2][2])); /* c(2) = C */
        assert_true(db_is(tm.log.heads[3], &b.units[3][3])); /* c(3) = D */
        assert_memory_equal(tm.log.heads[4], round4[0], 32);  /* c(4) = A has no round-4 unit */

        /* A0 and A1 come in batch(4), below B3, and nowhere earlier. */
        size_t pos_a0 = SIZE_MAX, pos_a1 = SIZE_MAX, batch4_start = 0;
        for (size_t i = 0; i < tm.log.ordered_len; i++) {
            if (db_is(tm.log.ordered[i], &b.units[0][0])) pos_a0 = i;
            if (db_is(tm.log.ordered[i], &b.units[1][0])) pos_a1 = i;
        }
        /* Batches 0..3 hold: X; the two other round-0 units, B1; C1, D1, C2; B2, D2, B3?
         * Count them instead of guessing: batch(4) starts after the unit D3. */
        for (size_t i = 0; i < tm.log.ordered_len; i++)
            if (db_is(tm.log.ordered[i], &b.units[3][3])) batch4_start = i + 1;
        assert_true(pos_a0 != SIZE_MAX && pos_a1 != SIZE_MAX);
        assert_true(pos_a0 >= batch4_start && pos_a1 > pos_a0);
        /* Every unit of rounds 0..4 below head(4) is ordered exactly once: 4 + 1 + 3*4 = 17
         * minus the round-4 units other than the head (2) = 15. */
        assert_int_equal(tm.log.ordered_len, 4 + 1 + 3 * 3 + 1);
        assert_int_equal(tm.log.dropped, 0);
        both[order] = tm;
    }
    /* Both arrival orders give the same output, unit by unit and batch by batch. */
    ts_log *logs[] = {&both[0].log, &both[1].log};
    ts_assert_agreement(logs, 2);
    assert_int_equal(both[0].log.ordered_len, both[1].log.ordered_len);
    for (size_t i = 0; i < both[0].log.batches_len; i++) {
        assert_memory_equal(both[0].log.heads[i], both[1].log.heads[i], 32);
        assert_int_equal(both[0].log.batch_depths[i], both[1].log.batch_depths[i]);
    }
    for (int order = 0; order < 2; order++) ts_member_free(&both[order]);
}

/* The first of B0, C0, D0 by H("aleph/priority" || coin(round) || hash). */
static const db_unit *first_by_priority(ts_member *tm, uint32_t round)
{
    uint8_t coin[32], best[32];
    assert_int_equal(aleph_member_coin(tm->m, round, coin), 1);
    const db_unit *first = NULL;
    for (uint32_t c = 1; c <= 3; c++) {
        uint8_t p[32];
        hash_tagged2(p, "aleph/priority", coin, 32, b.units[0][c].hash, 32);
        if (!first || memcmp(p, best, 32) < 0) {
            first = &b.units[0][c];
            memcpy(best, p, 32);
        }
    }
    return first;
}

/* With a coin, the candidates after the default creator's are ordered by priority with
 * coin(r+5): the late_default_candidate DAG (A0 decided 0, every other round-0 unit would be
 * decided 1) in test and threshold mode, the head of round 0 is the first of B0, C0, D0 by
 * H(coin(5) || hash), and nothing is output for round 0 before coin(5) is known. In one of the
 * two modes at least the order by coin(4) has another first (checked below), so the test
 * tells the rounds apart. Checked to fail with coin(r+4) (mutant priority_coin_r4). */
static void non_default_candidates_ordered_with_coin_r5(void **state)
{
    (void)state;
    int told_apart = 0;
    const aleph_coin_mode modes[] = {ALEPH_COIN_TEST, ALEPH_COIN_THRESHOLD};
    for (int k = 0; k < 2; k++) {
        db_init(&b, 4, modes[k]);
        const uint32_t BCD = 0xeu;
        db_add_round(&b, 0, ALL4, 0);
        db_add_mask(&b, 0, 1, 0x7u);
        db_add_round(&b, 1, BCD, BCD);
        for (uint32_t r = 2; r <= 7; r++) db_add_round(&b, r, BCD, BCD);
        ts_member tm;
        db_observer(&b, &tm);
        deliver_rounds(&tm, 0, 4);
        assert_int_equal(tm.log.batches_len, 0); /* coin(5) not known yet */
        deliver_rounds(&tm, 5, 7);
        /* rounds 0..3: round 0 by priority, then B1, C2, D3; round 4 (A's) waits for coin(9) */
        assert_int_equal(tm.log.batches_len, 4);
        const db_unit *expected = first_by_priority(&tm, 5);
        assert_true(db_is(tm.log.heads[0], expected));
        if (first_by_priority(&tm, 4) != expected) told_apart = 1;
        assert_int_equal(tm.log.dropped, 0);
        ts_member_free(&tm);
    }
    assert_true(told_apart);
}

/* Members fed the same DAG in different orders output the same sequence, batch by batch:
 * in order, top down (every unit waits for its parents), and two shuffles; in each coin mode
 * (threshold: every unit with its creator's valid share). Every member is compared with every
 * other (units, payloads, heads, rounds, depths). */
static void arrival_order_does_not_matter(void **state)
{
    (void)state;
    const aleph_coin_mode modes[] = {ALEPH_COIN_OFF, ALEPH_COIN_TEST, ALEPH_COIN_THRESHOLD};
    enum { ORDERS = 4, UNITS = DB_ROUNDS * 7 };
    for (size_t mode = 0; mode < 3; mode++) {
        db_init(&b, 7, modes[mode]);
        const uint32_t all = 0x7fu;
        for (uint32_t r = 0; r < DB_ROUNDS; r++) {
            /* Each round skips one creator's parent (rotating), still q = 5 of 7 parents. */
            for (uint32_t c = 0; c < 7; c++) {
                uint32_t skip = (r + c) % 7 == c ? (c + 1) % 7 : (r + c) % 7;
                db_add_mask(&b, c, r, r ? (all & ~(1u << skip)) | (1u << c) : 0);
            }
        }
        ts_member tm[ORDERS];
        for (int k = 0; k < ORDERS; k++) {
            db_observer(&b, &tm[k]);
            uint32_t order[UNITS];
            for (uint32_t i = 0; i < UNITS; i++) order[i] = k == 1 ? UNITS - 1 - i : i;
            if (k >= 2) {
                srand(99 + (unsigned)k);
                for (uint32_t i = UNITS - 1; i > 0; i--) {
                    uint32_t j = (uint32_t)rand() % (i + 1), t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
            }
            for (uint32_t i = 0; i < UNITS; i++)
                db_deliver(&b, &tm[k], &b.units[order[i] / 7][order[i] % 7], order[i] % 7);
            assert_int_equal(tm[k].log.batches_len, DB_ROUNDS - 3);
            assert_int_equal(tm[k].log.dropped, 0);
        }
        ts_log *logs[ORDERS];
        for (int k = 0; k < ORDERS; k++) logs[k] = &tm[k].log;
        ts_assert_agreement(logs, ORDERS);
        for (int k = 1; k < ORDERS; k++) {
            assert_int_equal(tm[k].log.ordered_len, tm[0].log.ordered_len);
            for (size_t i = 0; i < tm[0].log.batches_len; i++) {
                assert_memory_equal(tm[k].log.heads[i], tm[0].log.heads[i], 32);
                assert_int_equal(tm[k].log.batch_rounds[i], tm[0].log.batch_rounds[i]);
                assert_int_equal(tm[k].log.batch_depths[i], tm[0].log.batch_depths[i]);
            }
        }
        for (int k = 0; k < ORDERS; k++) ts_member_free(&tm[k]);
    }
}

/* A restarted member's restore, unit by unit, then the first step (which orders). */
static void restore_unit(ts_member *tm, const db_unit *u)
{
    assert_null(aleph_member_restore(tm->m, u->msg + 1, u->len - 1));
}

static void tick(ts_member *tm)
{
    aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = tm->now};
    aleph_update up;
    aleph_member_step(tm->m, &ev, &up);
    ts_log_take(&tm->log, &up);
}

/* The default creator of round 1 (member 1) forked: variants X and Y of its round-1 unit.
 * Members 0, 1 and 2 build on X, member 3 on Y. Both variants end up decided 1 (X at d = 2
 * with three d = 1 votes; Y at d = 4: one d = 1 vote, then every round-3 unit sees mixed
 * votes and takes the common vote 1, and the round-5 units see four 1s). So the head of
 * round 1 is whichever variant comes first in the candidate order, which must be the same at
 * every member: by hash, never by arrival. Two members whose backups hold the variants in
 * opposite orders (a restart is how a member holds both) must choose the same head, the one
 * with the lower hash. Checked to fail with the qsort of the default creator's units removed
 * from election_start (mutant defaults_by_arrival: the members' heads differ), and with the
 * d = 1 vote given for any unit of U0's slot (mutant d1_vote_any_unit: Y is decided at d = 2,
 * its slot being every round-2 unit's parent). */
static void forked_default_ordered_by_hash(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    db_add_round(&b, 0, ALL4, 0);
    /* Y first, with its own payload, kept apart from the builder's slot. */
    db_unit y;
    {
        uint8_t hashes[4][32];
        int64_t pr[4] = {0, 0, 0, 0};
        for (uint32_t c = 0; c < 4; c++) memcpy(hashes[c], b.units[0][c].hash, 32);
        uint8_t payload[8] = {4, 0, 0, 0, 'Y', 'Y', 'Y', 'Y'};
        y.len = ts_make_unit(&b.c, 1, 1, pr, hashes, payload, sizeof payload, y.msg,
                             sizeof y.msg, y.hash);
        y.present = 1;
    }
    db_add_round(&b, 1, ALL4, ALL4); /* X is b.units[1][1] */
    db_add_mask(&b, 0, 2, ALL4);
    db_add_mask(&b, 1, 2, ALL4);
    db_add_mask(&b, 2, 2, ALL4);
    {
        /* Member 3's round-2 unit takes Y as member 1's parent. */
        uint8_t hashes[4][32];
        int64_t pr[4] = {1, 1, 1, 1};
        for (uint32_t c = 0; c < 4; c++) memcpy(hashes[c], b.units[1][c].hash, 32);
        memcpy(hashes[1], y.hash, 32);
        uint8_t payload[8] = {4, 0, 0, 0, 3, 2, 0xaa, 0xbb};
        db_unit *u = &b.units[2][3];
        u->len = ts_make_unit(&b.c, 3, 2, pr, hashes, payload, sizeof payload, u->msg,
                              sizeof u->msg, u->hash);
        u->present = 1;
    }
    for (uint32_t r = 3; r <= 8; r++) db_add_round(&b, r, ALL4, ALL4);
    const db_unit *x = &b.units[1][1];
    const db_unit *first = memcmp(x->hash, y.hash, 32) < 0 ? x : &y;

    ts_member m[2];
    for (int k = 0; k < 2; k++) {
        db_observer(&b, &m[k]);
        for (uint32_t c = 0; c < 4; c++) restore_unit(&m[k], &b.units[0][c]);
        /* member 0 restores X before Y, member 1 Y before X */
        restore_unit(&m[k], k == 0 ? x : &y);
        restore_unit(&m[k], k == 0 ? &y : x);
        for (uint32_t r = 1; r <= 8; r++)
            for (uint32_t c = 0; c < 4; c++)
                if (r > 1 || c != 1) restore_unit(&m[k], &b.units[r][c]);
        tick(&m[k]);
        assert_int_equal(m[k].log.batches_len, 6); /* heads of rounds 0..5 (round 8 exists) */
        assert_true(db_is(m[k].log.heads[1], first));
        /* X is decided at d = 2, Y only at d = 4 */
        assert_int_equal(m[k].log.batch_depths[1], first == x ? 2 : 4);
    }
    ts_log *logs[] = {&m[0].log, &m[1].log};
    ts_assert_agreement(logs, 2);
    assert_int_equal(m[0].log.ordered_len, m[1].log.ordered_len);
    for (int k = 0; k < 2; k++) ts_member_free(&m[k]);
}

/* Threshold mode: the unit of creator 0 of round 3 carries a well-formed share that fails
 * verification (creator 0's real share for round 4; then, in a second DAG, its round-3
 * share with the proof spoilt). coin(3) must be the value of the valid shares alone,
 * computed here from the shares of creators 2 and 3 (any f+1 valid shares give it; the
 * member takes the first valid ones, of creators 1 and 2), the bad share is counted, and
 * the DAG orders like any other. Checked to fail with the share check removed from
 * coin.c (mutant share_unchecked: coin(3) combines the round-4 share and differs). */
static void bad_coin_share_never_enters_a_coin(void **state)
{
    (void)state;
    for (int spoil = 0; spoil < 2; spoil++) {
        db_init(&b, 4, ALEPH_COIN_THRESHOLD);
        for (uint32_t r = 0; r <= 7; r++) {
            for (uint32_t c = 0; c < 4; c++) {
                int64_t pr[4];
                for (uint32_t k = 0; k < 4; k++) pr[k] = r ? (int64_t)r - 1 : -1;
                ts_share share = TS_SHARE_VALID;
                if (r == 3 && c == 0) share = spoil ? TS_SHARE_BAD_PROOF : TS_SHARE_WRONG_ROUND;
                db_add_share(&b, c, r, pr, share);
            }
        }
        /* The expected coin(3), from creators 2 and 3's valid shares. */
        uint8_t shares[2][ALEPH_COIN_SHARE_BYTES], point[32], expected[32];
        uint32_t indices[2] = {2, 3};
        for (int i = 0; i < 2; i++)
            ts_coin_share(&b.c, indices[i], 3, TS_SHARE_VALID, shares[i]);
        assert_int_equal(tc_combine(indices, (const uint8_t(*)[TC_SHARE_BYTES])shares, 2, point), 0);
        tc_coin_value(point, expected);

        ts_member tm;
        db_observer(&b, &tm);
        deliver_rounds(&tm, 0, 7);
        uint8_t coin[32];
        assert_int_equal(aleph_member_coin(tm.m, 3, coin), 1);
        assert_memory_equal(coin, expected, 32);
        aleph_member_stats s;
        aleph_member_stats_get(tm.m, &s);
        assert_int_equal(s.coin_shares_invalid, 1);
        assert_int_equal(tm.log.batches_len, 5); /* heads of rounds 0..4 */
        assert_int_equal(tm.log.dropped, 0);
        ts_member_free(&tm);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_decision_and_r_plus_3),
        cmocka_unit_test(decision_needs_a_quorum),
        cmocka_unit_test(late_default_candidate),
        cmocka_unit_test(non_default_candidates_ordered_with_coin_r5),
        cmocka_unit_test(arrival_order_does_not_matter),
        cmocka_unit_test(forked_default_ordered_by_hash),
        cmocka_unit_test(bad_coin_share_never_enters_a_coin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

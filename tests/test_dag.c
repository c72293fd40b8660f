/* The DAG's entry rules (PROTOCOL.md section 2) as a member applies them to units from the
 * network: rule breakers dropped and counted, forks detected and survived, units with
 * missing parents buffered (within a bound) and their parents requested. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dag_builder.h"
#include "message.h"

static dag_builder b;

static aleph_member_stats stats_of(const ts_member *tm)
{
    aleph_member_stats s;
    aleph_member_stats_get(tm->m, &s);
    return s;
}

/* Delivers a message and returns the update's messages of `type` sent to `to`. */
static size_t deliver_count_sent(ts_member *tm, uint32_t from, const uint8_t *msg, size_t len,
                                 uint8_t type)
{
    aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = 1, .from = from, .data = msg,
                      .len = len};
    aleph_update up;
    aleph_member_step(tm->m, &ev, &up);
    size_t count = 0;
    for (size_t i = 0; i < up.messages_len; i++)
        if (up.messages[i].len > 0 && up.messages[i].data[0] == type && up.messages[i].to == from)
            count++;
    ts_log_take(&tm->log, &up);
    return count;
}

static void rule_breakers_are_dropped(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    db_add_round(&b, 0, 0xf, 0);
    ts_member tm;
    db_observer(&b, &tm);
    for (uint32_t c = 0; c < 4; c++) db_deliver(&b, &tm, &b.units[0][c], c);
    assert_int_equal(stats_of(&tm).dag_units, 4);

    /* Each parent rule broken in turn, validly signed by creator 1. */
    int64_t no_own[4] = {0, -1, 0, 0};         /* own unit of r-1 missing */
    int64_t too_few[4] = {-1, 0, 0, -1};       /* 2 < q = 3 previous-round parents */
    int64_t not_below[4] = {1, 0, 0, 0};       /* a parent of round 1 for a round-1 unit */
    int64_t *cases[] = {no_own, too_few, not_below};
    for (size_t i = 0; i < 3; i++) {
        uint8_t msg[DB_UNIT_BYTES], hash[32];
        uint8_t hashes[4][32];
        for (uint32_t c = 0; c < 4; c++) memcpy(hashes[c], b.units[0][c].hash, 32);
        size_t len = ts_make_unit(&b.c, 1, 1, cases[i], hashes, NULL, 0, msg, sizeof msg, hash);
        uint64_t before = stats_of(&tm).messages_dropped;
        ts_member_deliver(&tm, 1, msg, len);
        assert_int_equal(stats_of(&tm).messages_dropped, before + 1);
    }
    /* A bad signature, and a unit claiming another creator's key. */
    db_unit *good = db_add_mask(&b, 1, 1, 0xf);
    uint8_t msg[DB_UNIT_BYTES];
    memcpy(msg, good->msg, good->len);
    msg[good->len - 1] ^= 1;
    ts_member_deliver(&tm, 1, msg, good->len);
    memcpy(msg, good->msg, good->len);
    msg[1 + 9] = 2; /* creator field: now claims to be member 2 */
    ts_member_deliver(&tm, 1, msg, good->len);
    assert_int_equal(stats_of(&tm).messages_dropped, 5);
    assert_int_equal(stats_of(&tm).dag_units, 4);
    /* The honest version still enters. */
    db_deliver(&b, &tm, good, 1);
    assert_int_equal(stats_of(&tm).dag_units, 5);
    ts_member_free(&tm);
}

static void missing_parents_are_buffered_and_requested(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    db_add_round(&b, 0, 0xf, 0);
    db_add_round(&b, 1, 0xf, 0xf);
    ts_member tm;
    db_observer(&b, &tm);
    /* A round-1 unit first: it waits, and its parents are asked from its sender. */
    const db_unit *u = &b.units[1][2];
    assert_int_equal(deliver_count_sent(&tm, 2, u->msg, u->len, MSG_REQUEST_UNITS), 1);
    assert_int_equal(stats_of(&tm).units_pending, 1);
    assert_int_equal(stats_of(&tm).dag_units, 0);
    for (uint32_t c = 0; c < 4; c++) db_deliver(&b, &tm, &b.units[0][c], c);
    assert_int_equal(stats_of(&tm).units_pending, 0);
    assert_int_equal(stats_of(&tm).dag_units, 5);
    assert_int_equal(tm.log.dropped, 0);
    ts_member_free(&tm);
}

/* A creator floods units whose parents never come: the buffer keeps its lowest rounds, up to
 * its share, and the rest is dropped and counted. */
static void pending_buffer_is_bounded(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    b.c.cfg.pending_units_max = 16; /* share per creator: max(8, 16/4) = 8 */
    ts_member tm;
    db_observer(&b, &tm);
    uint8_t fake[4][32];
    memset(fake, 0x42, sizeof fake);
    int64_t parents[4] = {0, 0, 0, 0};
    for (uint32_t r = 40; r >= 1; r--) {
        for (uint32_t c = 0; c < 4; c++) parents[c] = r - 1;
        uint8_t msg[DB_UNIT_BYTES], hash[32];
        size_t len = ts_make_unit(&b.c, 3, r, parents, fake, NULL, 0, msg, sizeof msg, hash);
        ts_member_deliver(&tm, 3, msg, len);
        assert_true(stats_of(&tm).units_pending <= 8);
    }
    aleph_member_stats s = stats_of(&tm);
    assert_int_equal(s.units_pending, 8);
    assert_int_equal(s.pending_evicted, 40 - 8);
    ts_member_free(&tm);
}

/* Two units of one slot: the fork is found and reported once; the second unit is the proof
 * and stays out, and so does every further variant until a completed alert commits it
 * (tests/test_alert.c follows that path). */
static void forks_are_detected(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    db_add_round(&b, 0, 0xf, 0);
    ts_member tm;
    db_observer(&b, &tm);
    for (uint32_t c = 0; c < 4; c++) db_deliver(&b, &tm, &b.units[0][c], c);
    /* Creator 2 signs three different round-0 units. */
    uint8_t payload[3][8] = {{4, 0, 0, 0, 1}, {4, 0, 0, 0, 2}, {4, 0, 0, 0, 3}};
    uint8_t msg[3][DB_UNIT_BYTES], hash[3][32];
    size_t len[3];
    for (int v = 0; v < 3; v++)
        len[v] = ts_make_unit(&b.c, 2, 0, NULL, NULL, payload[v], 8, msg[v], DB_UNIT_BYTES, hash[v]);
    ts_member_deliver(&tm, 2, msg[0], len[0]);
    assert_int_equal(tm.log.forks, 1);
    assert_int_equal(stats_of(&tm).forks_detected, 1);
    assert_int_equal(stats_of(&tm).dag_units, 4);
    ts_member_deliver(&tm, 2, msg[1], len[1]);
    aleph_member_stats s = stats_of(&tm);
    assert_int_equal(s.dag_units, 4);
    assert_int_equal(s.forker_units_refused, 2);
    assert_int_equal(s.forks_detected, 1);
    assert_int_equal(tm.log.dropped, 0); /* whoever forwarded it may be honest */
    ts_member_free(&tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rule_breakers_are_dropped),
        cmocka_unit_test(missing_parents_are_buffered_and_requested),
        cmocka_unit_test(pending_buffer_is_bounded),
        cmocka_unit_test(forks_are_detected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

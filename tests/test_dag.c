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
#include "member.h"
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

/* A creator floods units whose parents are missing, highest round first: the buffer keeps
 * its lowest rounds, up to its share, and the rest is dropped and counted. Then the parents
 * come, and exactly the kept units enter the DAG: rounds 1..8 of creator 3. Checked to fail
 * with pending_highest picking the lowest round (mutant pending_evicts_lowest: rounds 2..8
 * were evicted, round 40 kept). */
static void pending_buffer_is_bounded(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    b.c.cfg.pending_units_max = 16; /* share per creator: max(8, 16/4) = 8 */
    for (uint32_t r = 0; r < DB_ROUNDS; r++) db_add_round(&b, r, 0xf, 0xf);
    ts_member tm;
    db_observer(&b, &tm);
    uint8_t fake[4][32];
    memset(fake, 0x42, sizeof fake);
    int64_t parents[4] = {0, 0, 0, 0};
    /* Rounds 40..DB_ROUNDS of creator 3 with parents that never come, then its real units
     * of rounds DB_ROUNDS-1..1. */
    for (uint32_t r = 40; r >= 1; r--) {
        if (r >= DB_ROUNDS) {
            for (uint32_t c = 0; c < 4; c++) parents[c] = r - 1;
            uint8_t msg[DB_UNIT_BYTES], hash[32];
            size_t len = ts_make_unit(&b.c, 3, r, parents, fake, NULL, 0, msg, sizeof msg, hash);
            ts_member_deliver(&tm, 3, msg, len);
        } else {
            db_deliver(&b, &tm, &b.units[r][3], 3);
        }
        assert_true(stats_of(&tm).units_pending <= 8);
    }
    aleph_member_stats s = stats_of(&tm);
    assert_int_equal(s.units_pending, 8);
    assert_int_equal(s.pending_evicted, 40 - 8);
    assert_int_equal(s.dag_units, 0);
    /* The other creators' units of rounds 0..8 and creator 3's round 0: its kept units enter. */
    for (uint32_t r = 0; r <= 8; r++)
        for (uint32_t c = 0; c < 4; c++)
            if (c != 3 || r == 0) db_deliver(&b, &tm, &b.units[r][c], c);
    for (uint32_t r = 1; r < DB_ROUNDS; r++)
        if ((dag_find(tm.m, b.units[r][3].hash) != NULL) != (r <= 8))
            fail_msg("creator 3's unit of round %u %s the DAG", r, r <= 8 ? "is not in" : "is in");
    s = stats_of(&tm);
    assert_int_equal(s.units_pending, 0);
    assert_int_equal(s.dag_units, 9 * 4);
    assert_int_equal(tm.log.dropped, 0);
    ts_member_free(&tm);
}

/* A member that creates (not an observer), index 0 of 4, after its round-0 unit. */
static void creating_member(ts_member *tm)
{
    ts_member_init(tm, &b.c, 0);
    aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = 0};
    aleph_update up;
    aleph_member_step(tm->m, &ev, &up);
    ts_log_take(&tm->log, &up);
    assert_int_equal(stats_of(tm).units_created, 1);
    tm->now = 5;
}

/* A unit signed with the member's own key, one round above its last own unit, is one this
 * process did not make (a lost backup, or a second process with the key): the member halts
 * rather than risk signing a second unit for that round. Checked to fail with the guard off
 * by one in dag_receive_unit (mutant own_newer_off_by_one: round own+1 passes). */
static void own_key_unit_one_round_ahead_halts(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    uint8_t fake[4][32];
    memset(fake, 0x42, sizeof fake);
    int64_t parents[4] = {0, 0, 0, 0};
    for (uint32_t ahead = 1; ahead <= 2; ahead++) {
        ts_member tm;
        creating_member(&tm); /* own round 0 */
        for (uint32_t c = 0; c < 4; c++) parents[c] = ahead - 1;
        uint8_t msg[DB_UNIT_BYTES], hash[32];
        size_t len = ts_make_unit(&b.c, 0, ahead, parents, fake, NULL, 0, msg, sizeof msg, hash);
        assert_int_equal(tm.log.halts, 0);
        ts_member_deliver(&tm, 2, msg, len);
        assert_int_equal(tm.log.halts, 1);
        ts_member_free(&tm);
    }
}

/* A known forker's units are never parents of a new unit: with creator 3 found forking in
 * round 0, member 0's round-1 unit has the parents 0, 1 and 2 (still a quorum), not 3.
 * Checked to fail with the forker test removed from create() (mutant forker_as_parent). */
static void known_forker_is_never_a_parent(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    db_add_round(&b, 0, 0xe, 0);
    ts_member tm;
    creating_member(&tm);
    /* Creator 3's unit, then a second variant of it: 3 is a known forker. */
    db_deliver(&b, &tm, &b.units[0][3], 3);
    uint8_t payload[8] = {4, 0, 0, 0, 'f', 'o', 'r', 'k'}, msg[DB_UNIT_BYTES], hash[32];
    size_t len = ts_make_unit(&b.c, 3, 0, NULL, NULL, payload, sizeof payload, msg, sizeof msg, hash);
    ts_member_deliver(&tm, 3, msg, len);
    assert_int_equal(stats_of(&tm).forks_detected, 1);
    size_t persisted_before = tm.log.persisted_len;
    db_deliver(&b, &tm, &b.units[0][1], 1);
    db_deliver(&b, &tm, &b.units[0][2], 2);
    assert_int_equal(stats_of(&tm).units_created, 2);
    /* The own round-1 unit is the last record persisted. */
    const uint8_t *p = tm.log.persisted + persisted_before, *end = tm.log.persisted + tm.log.persisted_len;
    const uint8_t *last = NULL;
    size_t last_len = 0;
    while (p < end) {
        last_len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
        last = p + 4;
        p += 4 + last_len;
    }
    assert_non_null(last);
    aleph_unit_info info;
    assert_null(aleph_unit_inspect(&b.c.cfg, last, last_len, &info));
    assert_int_equal(info.creator, 0);
    assert_int_equal(info.round, 1);
    assert_int_equal(info.parents_len, 3);
    for (uint32_t i = 0; i < info.parents_len; i++) {
        uint32_t c, r;
        aleph_unit_parent(&info, i, &c, &r);
        assert_int_equal(c, i); /* 0, 1, 2 */
        assert_int_equal(r, 0);
    }
    ts_member_free(&tm);
}

/* A missing parent is asked again with back-off: the first retry after request_retry_ms,
 * the gaps never shrink, and later ones are at least 4 times as long. Checked to fail with
 * the shift removed from flush_requests (mutant requests_no_backoff: every gap 1000 ms). */
static void requests_back_off(void **state)
{
    (void)state;
    db_init(&b, 4, ALEPH_COIN_OFF);
    b.c.cfg.anti_entropy_ms = 1000000;
    db_add_round(&b, 0, 0xf, 0);
    db_add_round(&b, 1, 0xf, 0xf);
    ts_member tm;
    db_observer(&b, &tm);
    const uint32_t retry = b.c.cfg.request_retry_ms;
    uint64_t at[64];
    size_t sent = 0;
    for (uint64_t now = 0; now <= 40 * (uint64_t)retry; now += retry / 20) {
        aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = now};
        if (now == 0) {
            const db_unit *u = &b.units[1][2]; /* its round-0 parents never come */
            ev = (aleph_event){.kind = ALEPH_EVENT_MESSAGE, .now_ms = 0, .from = 2,
                               .data = u->msg, .len = u->len};
        }
        aleph_update up;
        aleph_member_step(tm.m, &ev, &up);
        for (size_t i = 0; i < up.messages_len; i++)
            if (up.messages[i].data[0] == MSG_REQUEST_UNITS && sent < 64) at[sent++] = now;
        ts_log_take(&tm.log, &up);
    }
    assert_true(sent >= 5);
    assert_int_equal(at[0], 0);
    assert_int_equal(at[1] - at[0], retry);
    for (size_t k = 2; k < sent; k++) assert_true(at[k] - at[k - 1] >= at[k - 1] - at[k - 2]);
    assert_true(at[sent - 1] - at[sent - 2] >= 4 * (uint64_t)retry);
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
        cmocka_unit_test(own_key_unit_one_round_ahead_halts),
        cmocka_unit_test(known_forker_is_never_a_parent),
        cmocka_unit_test(requests_back_off),
        cmocka_unit_test(forks_are_detected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

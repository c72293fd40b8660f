/* The public header as the whole boundary: the version, the kind of each outgoing message,
 * unit inspection, the transaction count per ordered unit, and the wake time after a submit. Only
 * include/aleph/aleph.h is used here (test_support deals the keys).
 * Checked to fail: with outbox.c marking every message MUST_DELIVER, with the ordered
 * unit's txs_len left 0, and with aleph_member_wake_at_ms() giving the pre-submit (idle) wake time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static void version_matches_the_header(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", ALEPH_VERSION_MAJOR, ALEPH_VERSION_MINOR,
             ALEPH_VERSION_PATCH);
    assert_string_equal(aleph_version(), want);
}

/* A member's first unit: broadcast as a droppable unit message, persisted, and inspected
 * to the same creator, round, hash as its notice. */
static void first_unit_inspected_and_broadcast(void **state)
{
    (void)state;
    ts_committee c;
    ts_committee_init(&c, 4, ALEPH_COIN_THRESHOLD, 7);
    aleph_member *m = aleph_member_new(&c.cfg, &c.secrets[2], NULL);
    assert_non_null(m);
    aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = 0};
    aleph_update up;
    aleph_member_step(m, &ev, &up);
    assert_int_equal(up.persist_len, 1);
    const uint8_t *hash = NULL;
    for (size_t i = 0; i < up.notices_len; i++)
        if (up.notices[i].kind == ALEPH_NOTICE_UNIT_CREATED) hash = up.notices[i].hash;
    assert_non_null(hash);
    aleph_unit_info info;
    assert_null(aleph_unit_inspect(&c.cfg, up.persist[0].data, up.persist[0].len, &info));
    assert_int_equal(info.creator, 2);
    assert_int_equal(info.round, 0);
    assert_int_equal(info.parents_len, 0);
    assert_int_equal(info.txs_len, 0);
    assert_non_null(info.coin_share);
    assert_int_equal(info.len, up.persist[0].len);
    assert_memory_equal(info.hash, hash, 32);
    size_t broadcasts = 0;
    for (size_t i = 0; i < up.messages_len; i++) {
        const aleph_outgoing *o = &up.messages[i];
        const uint8_t *unit;
        size_t unit_len;
        if (o->to == ALEPH_TO_ALL && aleph_message_unit(o->data, o->len, &unit, &unit_len)) {
            assert_int_equal(o->kind, ALEPH_MESSAGE_UNIT_BROADCAST);
            assert_int_equal(unit_len, up.persist[0].len);
            assert_memory_equal(unit, up.persist[0].data, unit_len);
            broadcasts++;
        } else {
            assert_int_equal(o->kind, ALEPH_MESSAGE_MUST_DELIVER);
        }
    }
    assert_int_equal(broadcasts, 1);
    /* Another committee's view: the session differs, so the unit is refused. */
    aleph_config other = c.cfg;
    other.session ^= 1;
    assert_non_null(aleph_unit_inspect(&other, up.persist[0].data, up.persist[0].len, &info));
    assert_non_null(aleph_unit_inspect(&c.cfg, up.persist[0].data, up.persist[0].len - 1, &info));
    aleph_member_free(m);
}

/* A unit whose parents are unknown makes the member ask for them: a request, to that
 * member alone, that must be delivered. */
static void requests_must_be_delivered(void **state)
{
    (void)state;
    ts_committee c;
    ts_committee_init(&c, 4, ALEPH_COIN_OFF, 9);
    aleph_member *m = aleph_member_new(&c.cfg, &c.secrets[0], NULL);
    assert_non_null(m);
    aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = 0};
    aleph_update up;
    aleph_member_step(m, &ev, &up);
    int64_t parents[4] = {0, 0, 0, -1};
    uint8_t hashes[4][32] = {{1}, {2}, {3}, {0}};
    uint8_t msg[4096], hash[32];
    size_t len = ts_make_unit(&c, 1, 1, parents, hashes, NULL, 0, msg, sizeof msg, hash);
    ev = (aleph_event){.kind = ALEPH_EVENT_MESSAGE, .now_ms = 1, .from = 1, .data = msg,
                       .len = len};
    aleph_member_step(m, &ev, &up);
    ev = (aleph_event){.kind = ALEPH_EVENT_TICK, .now_ms = 10000};
    aleph_member_step(m, &ev, &up);
    size_t requests = 0;
    for (size_t i = 0; i < up.messages_len; i++) {
        const uint8_t *unit;
        size_t unit_len;
        if (aleph_message_unit(up.messages[i].data, up.messages[i].len, &unit, &unit_len))
            continue;
        assert_int_equal(up.messages[i].kind, ALEPH_MESSAGE_MUST_DELIVER);
        requests++;
    }
    assert_true(requests > 0);
    aleph_member_free(m);
}

/* One member alone: transactions submitted are ordered, and each ordered unit says how many
 * it carries. Submitting into an empty pool moves the wake time up from the idle pace. */
static void ordered_units_count_transactions(void **state)
{
    (void)state;
    ts_committee c;
    ts_committee_init(&c, 1, ALEPH_COIN_OFF, 3);
    c.cfg.round_delay_ms_min = 10;
    c.cfg.round_delay_ms_idle = 500;
    c.cfg.parent_wait_ms_max = 0;
    aleph_member *m = aleph_member_new(&c.cfg, &c.secrets[0], NULL);
    assert_non_null(m);
    aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = 0};
    aleph_update up;
    aleph_member_step(m, &ev, &up);
    uint64_t idle_wake = up.wake_at_ms;
    assert_true(idle_wake >= 500);
    assert_int_equal(aleph_member_wake_at_ms(m), idle_wake);
    for (uint32_t k = 0; k < 3; k++) {
        uint8_t tx[5] = {'t', 'x', (uint8_t)k, 0, 1};
        assert_int_equal(aleph_member_submit(m, tx, sizeof tx), ALEPH_SUBMIT_OK);
    }
    uint64_t wake = aleph_member_wake_at_ms(m);
    assert_true(wake < idle_wake);
    assert_true(wake <= 10);
    uint64_t txs = 0;
    for (uint64_t now = wake; now < 5000 && txs < 3; now += 10) {
        ev = (aleph_event){.kind = ALEPH_EVENT_TICK, .now_ms = now};
        aleph_member_step(m, &ev, &up);
        for (size_t b = 0; b < up.batches_len; b++)
            for (size_t u = 0; u < up.batches[b].units_len; u++) {
                const aleph_ordered_unit *ou = &up.batches[b].units[u];
                uint32_t walked = 0;
                size_t off = 0, tx_len;
                const uint8_t *tx;
                while (aleph_payload_next(ou->payload, ou->payload_len, &off, &tx, &tx_len) == 1)
                    walked++;
                assert_int_equal(ou->txs_len, walked);
                txs += ou->txs_len;
            }
    }
    assert_int_equal(txs, 3);
    aleph_member_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_matches_the_header),
        cmocka_unit_test(first_unit_inspected_and_broadcast),
        cmocka_unit_test(requests_must_be_delivered),
        cmocka_unit_test(ordered_units_count_transactions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

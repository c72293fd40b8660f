/* Small committees on a lossless FIFO network, in every coin mode: every member orders
 * (liveness), all outputs are prefixes of one sequence with no repeats (safety), and with
 * transactions submitted each one is output exactly once. N = 1..3 run with f = 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static ts_cluster cl;

static void committees_agree_and_progress(void **state)
{
    (void)state;
    uint32_t sizes[] = {1, 2, 3, 4, 7};
    for (int mode = ALEPH_COIN_OFF; mode <= ALEPH_COIN_THRESHOLD; mode++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            uint32_t n = sizes[s];
            ts_cluster_init(&cl, n, (aleph_coin_mode)mode, 30);
            ts_cluster_run(&cl, 20, 1000000);
            ts_log *logs[TS_MEMBERS_MAX];
            for (uint32_t i = 0; i < n; i++) {
                logs[i] = &cl.members[i].log;
                if (logs[i]->batches_len < 20)
                    fail_msg("n=%u mode=%d member %u ordered only %zu batches", n, mode, i,
                             logs[i]->batches_len);
                /* Batches come for consecutive rounds, one head per round. */
                for (size_t b = 0; b < logs[i]->batches_len; b++)
                    assert_int_equal(logs[i]->batch_rounds[b], b);
                assert_int_equal(logs[i]->dropped, 0);
                assert_int_equal(logs[i]->halts, 0);
            }
            ts_assert_agreement(logs, n);
            ts_cluster_free(&cl);
        }
    }
}

static void every_transaction_once(void **state)
{
    (void)state;
    const uint32_t n = 4, per_member = 50;
    ts_cluster_init(&cl, n, ALEPH_COIN_THRESHOLD, 40);
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < per_member; k++) {
            uint8_t tx[8] = {(uint8_t)i, (uint8_t)k, 'a', 'l', 'e', 'p', 'h', 0};
            assert_int_equal(aleph_member_submit(cl.members[i].m, tx, sizeof tx), ALEPH_SUBMIT_OK);
        }
    }
    uint8_t huge[300] = {0};
    assert_int_equal(aleph_member_submit(cl.members[0].m, huge, sizeof huge),
                     ALEPH_SUBMIT_TOO_LARGE);
    assert_int_equal(aleph_member_submit(cl.members[0].m, huge, 0), ALEPH_SUBMIT_TOO_LARGE);
    ts_cluster_run(&cl, 30, 1000000);
    ts_log *logs[TS_MEMBERS_MAX];
    for (uint32_t i = 0; i < n; i++) logs[i] = &cl.members[i].log;
    ts_assert_agreement(logs, n);
    for (uint32_t i = 0; i < n; i++) {
        aleph_member_stats st;
        aleph_member_stats_get(cl.members[i].m, &st);
        assert_int_equal(st.txs_ordered, n * per_member);
        assert_int_equal(st.pool_txs, 0);
    }
    ts_cluster_free(&cl);
}

/* A backlog that piled up in one member (its clients' transactions while it was paused) goes
 * out over several own units, each within max(unit_bytes_max / 8, 4 x the largest payload of
 * its other-creator parents) (PROTOCOL.md, "Unit payload bound"), and every transaction is
 * still ordered exactly once. Seen to fail with the bound off (payload_bound() returning
 * unit_bytes_max): member 0's first unit after the submissions carried 3,920 bytes. */
static void backlog_spread_over_units(void **state)
{
    (void)state;
    const uint32_t n = 4, backlog = 40;
    ts_cluster_init(&cl, n, ALEPH_COIN_THRESHOLD, 40);
    ts_cluster_run(&cl, 3, 1000000); /* past round 0, which has no parents to compare with */
    for (uint32_t k = 0; k < backlog; k++) {
        uint8_t tx[94] = {(uint8_t)k, 'b', 'a', 'c', 'k'};
        assert_int_equal(aleph_member_submit(cl.members[0].m, tx, sizeof tx), ALEPH_SUBMIT_OK);
    }
    uint8_t small[12] = {'o', 't', 'h', 'e', 'r'};
    assert_int_equal(aleph_member_submit(cl.members[1].m, small, sizeof small), ALEPH_SUBMIT_OK);
    ts_cluster_run(&cl, 30, 1000000);
    ts_log *logs[TS_MEMBERS_MAX];
    for (uint32_t i = 0; i < n; i++) logs[i] = &cl.members[i].log;
    ts_assert_agreement(logs, n);
    const size_t bound = cl.committee.cfg.unit_bytes_max / 8; /* 512: the others carry <= 16 */
    uint32_t carrying = 0;
    const ts_log *log0 = &cl.members[0].log;
    for (size_t at = 0; at + 4 <= log0->persisted_len;) {
        const uint8_t *p = log0->persisted + at;
        size_t len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
        aleph_unit_info u;
        assert_null(aleph_unit_inspect(&cl.committee.cfg, p + 4, len, &u));
        if (u.creator == 0 && u.round > 0) {
            if (u.payload_len > bound)
                fail_msg("member 0's unit of round %u carries %zu payload bytes (bound %zu)",
                         u.round, u.payload_len, bound);
            carrying += u.payload_len > 0;
        }
        at += 4 + len;
    }
    assert_true(carrying >= backlog * (94 + 4) / bound); /* spread: 8 units at least */
    for (uint32_t i = 0; i < n; i++) {
        aleph_member_stats st;
        aleph_member_stats_get(cl.members[i].m, &st);
        assert_int_equal(st.txs_ordered, backlog + 1);
    }
    ts_cluster_free(&cl);
}

static void pool_refuses_when_full(void **state)
{
    (void)state;
    ts_committee c;
    ts_committee_init(&c, 4, ALEPH_COIN_OFF, 5);
    c.cfg.pool_bytes_max = 1000;
    ts_member tm;
    ts_member_init(&tm, &c, 0);
    uint8_t tx[96] = {1};
    int accepted = 0;
    while (aleph_member_submit(tm.m, tx, sizeof tx) == ALEPH_SUBMIT_OK) accepted++;
    assert_int_equal(accepted, 1000 / (96 + 4));
    assert_int_equal(aleph_member_submit(tm.m, tx, sizeof tx), ALEPH_SUBMIT_POOL_FULL);
    ts_member_free(&tm);
}

static void bad_configurations_are_refused(void **state)
{
    (void)state;
    ts_committee c;
    ts_committee_init(&c, 4, ALEPH_COIN_THRESHOLD, 5);
    const char *err = NULL;
    aleph_secret wrong = c.secrets[1];
    wrong.index = 2; /* the key of member 1 claiming to be member 2 */
    assert_null(aleph_member_new(&c.cfg, &wrong, &err));
    assert_non_null(strstr(err, "signing key does not match"));
    aleph_secret bad_coin = c.secrets[1];
    bad_coin.coin_secret_share[0] ^= 1;
    assert_null(aleph_member_new(&c.cfg, &bad_coin, &err));
    assert_non_null(strstr(err, "coin share does not match"));
    aleph_config cfg = c.cfg;
    cfg.members = 0;
    assert_null(aleph_member_new(&cfg, &c.secrets[0], &err));
    assert_non_null(strstr(err, "committee size"));
    cfg = c.cfg;
    cfg.tx_bytes_max = cfg.unit_bytes_max;
    assert_null(aleph_member_new(&cfg, &c.secrets[0], &err));
    assert_non_null(aleph_config_check(&cfg));
    cfg = c.cfg;
    cfg.epochs_kept = ALEPH_EPOCHS_KEPT_MAX + 1;
    assert_null(aleph_member_new(&cfg, &c.secrets[0], &err));
    assert_non_null(strstr(err, "epochs_kept"));
    cfg.epochs_kept = ALEPH_EPOCHS_KEPT_MAX;
    assert_null(aleph_config_check(&cfg));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(committees_agree_and_progress),
        cmocka_unit_test(every_transaction_once),
        cmocka_unit_test(backlog_spread_over_units),
        cmocka_unit_test(pool_refuses_when_full),
        cmocka_unit_test(bad_configurations_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

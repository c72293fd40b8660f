/* Out of memory, one allocation at a time. aleph_testing_fail_allocation(k) makes the core's
 * k-th allocation fail; a short 4-member cluster run (threshold coin, transactions submitted,
 * anti-entropy on) is repeated with each k in turn. After each run: no crash (ASan in the
 * sanitizer build: no leak, no bad access either); the failure was not silent (exactly one
 * member counted it in stats.out_of_memory and reported one OUT_OF_MEMORY notice); the
 * members that did not hit it ordered every batch and every transaction; the member that hit
 * it either did too or halted with a HALT notice; and all outputs agree (prefixes of one
 * sequence). aleph_member_new is also failed at each of its allocations: NULL, nothing leaked.
 *
 * The cluster run makes ~1300 allocations; every 11th is failed (~45 s under ASan), starting
 * from an offset that ALEPH_ALLOC_FAIL_OFFSET may set (ALEPH_ALLOC_FAIL_STRIDE=1 fails every
 * one; that passes too, ~80 s in the release build). Seen to fail: before the core reported
 * the failures of the outbox (a message, a notice, the update's list), of an election's start,
 * a row of votes, an election record and the shed queue, runs failing allocations 22, 169,
 * 197, 239 and 316 ended with "failed and no member reported it"; removing any one of those
 * notice_out_of_memory calls brings that back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

#define MEMBERS 4u
#define TXS_PER_MEMBER 5u
#define BATCHES 10u
#define STRIDE_DEFAULT 11u

static ts_cluster cl;

static uint64_t env_or(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : dflt;
}

/* One run failing the fail_nth-th allocation (0: none); returns the allocations it made. */
static uint64_t run_failing(uint64_t fail_nth)
{
    ts_cluster_init_ae(&cl, MEMBERS, ALEPH_COIN_THRESHOLD, 3 * BATCHES, 8);
    cl.deliveries_per_ms = 2;
    for (uint32_t i = 0; i < MEMBERS; i++)
        for (uint32_t k = 0; k < TXS_PER_MEMBER; k++) {
            uint8_t tx[6] = {(uint8_t)i, (uint8_t)k, 'o', 'o', 'm', 0};
            assert_int_equal(aleph_member_submit(cl.members[i].m, tx, sizeof tx), ALEPH_SUBMIT_OK);
        }
    aleph_testing_fail_allocation(fail_nth);
    ts_cluster_run(&cl, BATCHES, 400000);
    uint64_t made = aleph_testing_allocations();
    aleph_testing_fail_allocation(0);
    int failed = fail_nth != 0 && made >= fail_nth;
    uint32_t hit = UINT32_MAX;
    ts_log *logs[TS_MEMBERS_MAX];
    for (uint32_t i = 0; i < MEMBERS; i++) {
        logs[i] = &cl.members[i].log;
        aleph_member_stats st;
        aleph_member_stats_get(cl.members[i].m, &st);
        assert_int_equal(st.out_of_memory, logs[i]->out_of_memory);
        if (st.out_of_memory == 0) continue;
        if (!failed || hit != UINT32_MAX || st.out_of_memory != 1)
            fail_msg("allocation %lu: member %u counted %lu failures", (unsigned long)fail_nth, i,
                     (unsigned long)st.out_of_memory);
        hit = i;
    }
    if (failed && hit == UINT32_MAX)
        fail_msg("allocation %lu failed and no member reported it", (unsigned long)fail_nth);
    ts_assert_agreement(logs, MEMBERS);
    for (uint32_t i = 0; i < MEMBERS; i++) {
        if (i == hit && logs[i]->halts > 0) continue; /* halted with the notice: allowed */
        if (logs[i]->halts != 0 || logs[i]->batches_len < BATCHES)
            fail_msg("allocation %lu (member %u hit): member %u halted %zu times, ordered %zu "
                     "batches", (unsigned long)fail_nth, hit, i, logs[i]->halts,
                     logs[i]->batches_len);
        /* Transactions of a member that halted may be lost (its halt said so); none else. */
        size_t expected = MEMBERS * TXS_PER_MEMBER;
        if (hit != UINT32_MAX && logs[hit]->halts > 0 && logs[i]->txs < expected)
            expected -= TXS_PER_MEMBER;
        if (logs[i]->txs < expected || logs[i]->txs > MEMBERS * TXS_PER_MEMBER)
            fail_msg("allocation %lu (member %u hit): member %u ordered %zu transactions",
                     (unsigned long)fail_nth, hit, i, logs[i]->txs);
    }
    ts_cluster_free(&cl);
    return made;
}

static void cluster_survives_each_failed_allocation(void **state)
{
    (void)state;
    uint64_t total = run_failing(0);
    assert_true(total > 100); /* the hook counts the core's allocations */
    uint64_t stride = env_or("ALEPH_ALLOC_FAIL_STRIDE", STRIDE_DEFAULT);
    uint64_t first = 1 + env_or("ALEPH_ALLOC_FAIL_OFFSET", 0) % (stride ? stride : 1);
    size_t runs = 0;
    for (uint64_t k = first; k <= total; k += stride ? stride : 1, runs++) run_failing(k);
    printf("cluster: %lu allocations, %zu of them failed in turn\n", (unsigned long)total, runs);
}

static void member_new_fails_cleanly(void **state)
{
    (void)state;
    ts_committee c;
    ts_committee_init(&c, MEMBERS, ALEPH_COIN_THRESHOLD, 9);
    for (uint64_t k = 1;; k++) {
        aleph_testing_fail_allocation(k);
        const char *err = NULL;
        aleph_member *m = aleph_member_new(&c.cfg, &c.secrets[0], &err);
        uint64_t made = aleph_testing_allocations();
        aleph_testing_fail_allocation(0);
        if (made < k) { /* every allocation succeeded: done */
            assert_non_null(m);
            aleph_member_free(m);
            assert_true(k > 2);
            return;
        }
        if (m) fail_msg("aleph_member_new survived its allocation %lu failing", (unsigned long)k);
        assert_non_null(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(member_new_fails_cleanly),
        cmocka_unit_test(cluster_survives_each_failed_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

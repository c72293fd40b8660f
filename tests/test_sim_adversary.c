/*
 * The adversarial scheduler (src/sim/adversary.c) against the coin. It controls which quorum
 * of units reaches each member before it creates its next unit, and splits the votes about
 * the default candidate of round R0 against the common vote it expects.
 *   - Deterministic mode (--coin off): the common votes are public, and the scheduler keeps
 *     the candidate undecided for as long as it tries (K rounds), in every seed. No progress
 *     is asserted while it tries: that is the point of the mode's missing liveness guarantee.
 *   - Threshold coin: the scheduler can only guess the common votes of d >= 5; the head of R0
 *     comes out within a few rounds, long before the scheduler would give up.
 * Agreement and the other invariants are checked by sim_run on every run, attack or not, and
 * the ordering oracle (tests/oracle/oracle.py) recomputes every member's batches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim/sim.h"
#include "sim_oracle.h"

#define R0 4u
#define HOLD 20u

static sim_result attack(uint32_t members, aleph_coin_mode coin, uint64_t seed)
{
    sim_config c;
    sim_config_defaults(&c);
    c.members = members;
    c.seed = seed;
    c.coin_mode = coin;
    c.rounds = R0 + HOLD + 10;
    c.net.latency.kind = SIM_LATENCY_CONST;
    c.net.latency.delay_ms_min = c.net.latency.delay_ms_max = 10;
    c.adversary_round = R0;
    c.adversary_rounds = HOLD;
    sim_result r;
    /* sim_run_oracle: and the ordering oracle recomputes every batch from the rules */
    if (sim_run_oracle(&c, &r) != 0) fail_msg("seed %llu: %s", (unsigned long long)seed, r.failure);
    assert_true(r.agreement);
    return r;
}

static void deterministic_mode_is_stalled(void **state)
{
    (void)state;
    uint32_t sizes[] = {4, 7};
    for (size_t s = 0; s < 2; s++) {
        for (uint64_t seed = 1; seed <= 5; seed++) {
            sim_result r = attack(sizes[s], ALEPH_COIN_OFF, seed);
            /* Held through every round it tried, and output only after it gave up. */
            assert_int_equal(r.adversary_held, HOLD);
            assert_true(r.adversary_head_delay != UINT32_MAX);
            assert_true(r.adversary_head_delay >= HOLD);
        }
    }
}

static void the_coin_defeats_the_scheduler(void **state)
{
    (void)state;
    uint32_t sizes[] = {4, 7};
    for (size_t s = 0; s < 2; s++) {
        uint64_t sum = 0, seeds = 12;
        for (uint64_t seed = 1; seed <= seeds; seed++) {
            sim_result r = attack(sizes[s], ALEPH_COIN_THRESHOLD, seed);
            assert_true(r.adversary_head_delay != UINT32_MAX);
            /* Each round past the fixed prefix, a guess is right with probability 1/2. */
            assert_true(r.adversary_head_delay < HOLD);
            sum += r.adversary_head_delay;
        }
        /* Measured mean over 100 seeds: 7.2 (N = 4), 7.8 (N = 7); without an attack, 3. */
        assert_true(sum <= 11 * seeds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deterministic_mode_is_stalled),
        cmocka_unit_test(the_coin_defeats_the_scheduler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The adversarial scheduler (issue: threshold coin): it controls the order in which units
 * reach members, and tries to keep one candidate undecided for as long as it can.
 *
 * It attacks U0, the default creator's unit of round r0. Members create a unit as soon as
 * they hold q units of the previous round (the simulator sets the delays to 0), so by choosing
 * which q units of round t-1 reach each member before it creates its round-t unit, the
 * scheduler chooses every vote of round t about U0. It follows the votes itself, from the
 * units' parents, and picks the sets so that:
 *   - no unit can decide: every set holds at least one vote against CommonVote(t);
 *   - the next round still has both votes: a few members get a unanimous set voting against
 *     the common vote (they vote against it), the others a mixed set (they vote the common
 *     vote), in the proportion that leaves the next round the most room.
 * It needs CommonVote for d >= 5 in advance. In deterministic mode (--coin off) the schedule is
 * public and the attack holds for as long as the scheduler wants (no Byzantine member is even
 * needed). With the threshold coin, the value is unknown until round t+1 exists, so the
 * scheduler guesses (the deterministic schedule) and is wrong half of the time; one wrong
 * guess makes the mixed members vote alike, and the candidate is decided soon after.
 *
 * Units of round t-1 that a member must not see yet are held back (every copy, from any
 * sender: answers to requests and anti-entropy included) until it has created its unit of
 * round t, then delivered. */
#ifndef ALEPH_SIM_ADVERSARY_H
#define ALEPH_SIM_ADVERSARY_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"

typedef struct sim_adversary sim_adversary;

/* attack_round: r0; rounds_max: give up after this many rounds above r0; honest: per member,
 * 1 for an honest member (NULL: all). Units of the others (forkers) are never planned: they
 * are held from a member until it has created the round above theirs, like every unit its
 * plan leaves out, and the plans choose among honest units only, q of them per member. U0's
 * creator must be honest. With h honest members the scheduler has h - q units of room per set
 * (none when the forkers are as many as f allows: then it cannot split the votes). */
sim_adversary *sim_adversary_new(uint32_t members, uint32_t attack_round, uint32_t rounds_max,
                                 const aleph_config *cfg, const uint8_t *honest);
void sim_adversary_free(sim_adversary *a);

/* Member `creator` created this unit. Returns 1 when a new plan was made (held units may now
 * be released). */
int sim_adversary_created(sim_adversary *a, const uint8_t *unit, size_t len);

/* May this message reach member `to` now, given the highest round it created? UNIT messages
 * the plan hides from it are refused (the caller holds them); everything else passes. */
int sim_adversary_admit(const sim_adversary *a, uint32_t to, int32_t to_own_round,
                        const uint8_t *msg, size_t len);

/* The attack ends (everything is admitted from then on): the head of r0 was output, or the
 * scheduler gave up. */
void sim_adversary_stop(sim_adversary *a);
int sim_adversary_active(const sim_adversary *a);
uint32_t sim_adversary_attack_round(const sim_adversary *a);
/* Rounds above r0 through which the scheduler kept U0 undecided in its own view. */
uint32_t sim_adversary_rounds_held(const sim_adversary *a);

#endif

/* Crash-restart faults: an honest member crashes and comes back, as `aleph node` does after a
 * kill -9 or a power loss.
 *
 * The plan (drawn from the seed at set-up, its own random stream): `restarts` faults, each on
 * a random honest member, triggered once that member's own round reaches a random round in
 * 1..ROUNDS/2-1 and then a random 0..2*fsync_ms+1 ms later (so that some crashes fall between
 * an own unit and its sync, others after). The crash loses what the simulated disk had not
 * made durable (disk.h: a random part of the unsynced records may survive) and every message
 * held for the disk; messages to the member while it is down are discarded. After down_ms it
 * restarts as a new aleph_member: from the records on its disk (aleph_member_restore, each
 * must be accepted) with the own check on, or, with probability backup_lost, with its backup
 * deleted and the own check with recover. A member may crash again once it is back (its next
 * fault). Its batches are derived again from batch 0 and checked against what it output
 * before; only the new ones count as output. A member whose backup was deleted once may later
 * restart from a backup that misses an own unit signed before the deletion (fetched back by
 * recover but not yet durable at the next crash): the own check refuses it (OWN_NEWER), or
 * the member halts when such a unit reaches it from a peer first, and the simulator, as the
 * operator, restarts it at once with recover (restarts_refused); any other OWN_NEWER or such
 * halt after a restart fails the run (a unit was sent before it was durable). */
#ifndef ALEPH_SIM_RESTART_H
#define ALEPH_SIM_RESTART_H

#include "sim_state.h"

#define SIM_FAULT_REFUSED UINT32_MAX /* a restart event's aux: the operator's, with recover */

/* Draws the plan and gives every honest member a disk when the run has one. Returns 0, -1
 * with a message in err. */
int sim_restart_setup(sim *s, char *err, size_t err_len);
void sim_restart_teardown(sim *s);

/* After each step of member i: schedules its next fault's crash once it is due. */
void sim_restart_check(sim *s, uint32_t i);
void sim_restart_on_crash(sim *s, const sim_event *ev);
void sim_restart_on_restart(sim *s, const sim_event *ev);
/* Member i, restarted from a backup made after an earlier one was deleted, was refused by
 * the own check or halted (a peer holds a newer own unit: one signed before the deletion,
 * which the new backup had not made durable yet). As an operator would, it is restarted at
 * once with recover. */
void sim_restart_refused(sim *s, uint32_t i);

#endif

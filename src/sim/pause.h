/* Pause faults: an honest member's process is stopped (SIGSTOP) and continued pause_ms later,
 * as bench/restart.sh does to `aleph node`. While paused the member takes no steps: its clock
 * stands still (its next step sees the whole gap at once, so the core's resume detection
 * runs), every event for it waits (deliveries, as in its socket buffers; disk syncs; a planned
 * crash), its clients' transactions wait too (the load it missed is submitted at the first
 * load tick after it continues: a backlog). Nothing is lost; the checker and the oracle see
 * every batch as in any other run.
 *
 * The plan (its own random stream): `pauses` faults, each on a random honest member, starting
 * at a random virtual ms in 300..1300 (within the first rounds of a run). A pause that finds
 * its member paused or down is skipped. */
#ifndef ALEPH_SIM_PAUSE_H
#define ALEPH_SIM_PAUSE_H

#include "sim_state.h"

void sim_pause_setup(sim *s);
void sim_pause_teardown(sim *s);

/* SIM_EV_PAUSE (aux: the member) and SIM_EV_CONTINUE. */
void sim_pause_on_pause(sim *s, const sim_event *ev);
void sim_pause_on_continue(sim *s, const sim_event *ev);

/* Whether ev is for a paused member; it then waits (taken over) until the member continues. */
int sim_pause_defer(sim *s, const sim_event *ev);

#endif

/* The simulator engine's services (engine.c): failing a run, scheduling, sending. */
#ifndef ALEPH_SIM_ENGINE_H
#define ALEPH_SIM_ENGINE_H

#include "sim_state.h"

/* The run's first failure (later ones are ignored); *flag (when not NULL) is set to 0. */
void sim_fail(sim *s, int *flag, const char *fmt, ...);
/* Queues an event (msg: a delivery's bytes, else NULL). */
void sim_push(sim *s, uint64_t at_ms, uint32_t kind, uint32_t to, uint32_t from, uint32_t aux,
              sim_msg *msg);
/* Wakes instance w of member i at at_ms unless it is woken sooner (catches a core that asks
 * to be woken at once without end). */
void sim_schedule_wake(sim *s, uint32_t i, uint32_t w, uint64_t at_ms);

typedef struct sim_hostile_tag {
    uint8_t kind; /* as sim_msg.hostile */
    const char *label;
} sim_hostile_tag;

/* Instance w of member i sends data to a member or ALEPH_TO_ALL (tag: hostile bytes of a
 * garbage member, NULL for the core's messages). */
void sim_route(sim *s, uint32_t i, uint32_t w, const uint8_t *data, size_t len, uint32_t to,
               const sim_hostile_tag *tag);

/* A unit of an honest core, inspected under its own epoch's session: NULL (with *epoch the
 * epoch whose session it names) or a reason. */
const char *sim_inspect_own(const sim *s, const uint8_t *data, size_t len, aleph_unit_info *info,
                            uint32_t *epoch);
/* Global round: epoch * E + round (the round itself without epochs). */
uint32_t sim_global_round(const sim *s, uint32_t epoch, uint32_t round);
/* Some member moved to `epoch` (core m): its session is remembered. */
void sim_epoch_started(sim *s, aleph_member *m, uint32_t epoch);

#endif

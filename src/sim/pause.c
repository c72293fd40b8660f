/* Pause faults (pause.h). */
#include "pause.h"

#include <stdlib.h>

#include "engine.h"

#define PAUSE_STREAM 0x7061757365ull /* "pause" */
#define PAUSE_START_MS_MIN 300u
#define PAUSE_START_SPREAD_MS 1000u /* runs of 40 rounds last ~3 virtual s */

void sim_pause_setup(sim *s)
{
    const sim_config *cfg = s->cfg;
    if (!cfg->pauses || !s->honest_count) return;
    sim_rng rng;
    sim_rng_seed(&rng, cfg->seed, PAUSE_STREAM);
    for (uint32_t k = 0; k < cfg->pauses; k++) {
        uint32_t pick = (uint32_t)sim_rng_below(&rng, s->honest_count), i = 0;
        for (;; i++)
            if (s->members[i].honest && pick-- == 0) break;
        uint64_t at = PAUSE_START_MS_MIN + sim_rng_range(&rng, 0, PAUSE_START_SPREAD_MS);
        sim_push(s, at, SIM_EV_PAUSE, i, i, 0, NULL);
    }
}

void sim_pause_teardown(sim *s)
{
    for (uint32_t i = 0; s->members && i < s->n; i++) {
        sim_member *mb = &s->members[i];
        for (size_t k = 0; k < mb->deferred_len; k++)
            if (mb->deferred[k].msg) sim_msg_release(mb->deferred[k].msg);
        free(mb->deferred);
        mb->deferred = NULL;
        mb->deferred_len = mb->deferred_cap = 0;
    }
}

void sim_pause_on_pause(sim *s, const sim_event *ev)
{
    sim_member *mb = &s->members[ev->to];
    if (mb->paused || mb->crashed || mb->down) {
        s->res->pauses_skipped++;
        return;
    }
    mb->paused = 1;
    s->res->pauses++;
    sim_push(s, s->now + s->cfg->pause_ms, SIM_EV_CONTINUE, ev->to, ev->to, 0, NULL);
}

int sim_pause_defer(sim *s, const sim_event *ev)
{
    if (ev->kind == SIM_EV_LOAD || ev->kind == SIM_EV_PAUSE || ev->kind == SIM_EV_CONTINUE ||
        ev->to >= s->n || !s->members[ev->to].paused)
        return 0;
    sim_member *mb = &s->members[ev->to];
    if (ev->kind == SIM_EV_TICK) return 1; /* a wake is scheduled when it continues */
    if (mb->deferred_len == mb->deferred_cap) {
        size_t cap = mb->deferred_cap ? 2 * mb->deferred_cap : 256;
        sim_event *grown = realloc(mb->deferred, cap * sizeof *grown);
        if (!grown) {
            sim_fail(s, NULL, "simulator out of memory (a paused member's events)");
            if (ev->msg) sim_msg_release(ev->msg);
            return 1;
        }
        mb->deferred = grown;
        mb->deferred_cap = cap;
    }
    mb->deferred[mb->deferred_len++] = *ev;
    if (ev->kind == SIM_EV_DELIVER) s->res->messages_paused++;
    return 1;
}

/* What waited goes first, in the order it came (the queue keeps the order of pushes at one
 * ms), then the member wakes: its first step sees the clock jump by the pause. */
void sim_pause_on_continue(sim *s, const sim_event *ev)
{
    sim_member *mb = &s->members[ev->to];
    mb->paused = 0;
    for (size_t k = 0; k < mb->deferred_len; k++) {
        sim_event d = mb->deferred[k];
        sim_push(s, s->now, d.kind, d.to, d.from, d.aux, d.msg);
    }
    mb->deferred_len = 0;
    for (uint32_t w = 0; w < mb->instances; w++) {
        mb->inst[w].wake_ms = UINT64_MAX;
        if (!mb->crashed) sim_schedule_wake(s, ev->to, w, s->now);
    }
}

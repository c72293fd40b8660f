/* The engine's services, below the rest of the simulator (sim.c, restart.c, persist.c call
 * them; they call nothing of theirs back): the first failure of a run, the event queue with
 * the members' wake-ups, and sending through the network model (a forker's two faces, silent
 * and crashed members, the signed-once bookkeeping of every own unit an honest member sends). */
#include "engine.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- failures ----------------------------------------------------------------------------- */

static void vfail(sim *s, int *flag, const char *fmt, va_list ap)
{
    if (flag) *flag = 0;
    if (s->failed) return;
    s->failed = 1;
    vsnprintf(s->res->failure, sizeof s->res->failure, fmt, ap);
}

void sim_fail(sim *s, int *flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(s, flag, fmt, ap);
    va_end(ap);
}

/* ---- scheduling --------------------------------------------------------------------------- */

void sim_push(sim *s, uint64_t at_ms, uint32_t kind, uint32_t to, uint32_t from, uint32_t aux,
                 sim_msg *msg)
{
    sim_event ev = {.at_ms = at_ms, .kind = kind, .to = to, .from = from, .aux = aux, .msg = msg};
    if (sim_queue_push(&s->queue, ev) != 0) {
        if (msg) sim_msg_release(msg);
        sim_fail(s, NULL, "simulator out of memory (event queue)");
    }
}

void sim_schedule_wake(sim *s, uint32_t i, uint32_t w, uint64_t at_ms)
{
    sim_instance *in = &s->members[i].inst[w];
    if (at_ms == UINT64_MAX) return;
    if (at_ms <= s->now) {
        at_ms = s->now;
        if (in->spin_ms == s->now) {
            if (++in->spin_count > SIM_SPIN_LIMIT) {
                sim_fail(s, NULL,
                     "core spins: member %u asked %u times to be woken at virtual ms %" PRIu64
                     " without time passing",
                     i, SIM_SPIN_LIMIT, s->now);
                at_ms = s->now + 1;
            }
        } else {
            in->spin_ms = s->now;
            in->spin_count = 0;
        }
    }
    if (at_ms < in->wake_ms) {
        in->wake_ms = at_ms;
        sim_push(s, at_ms, SIM_EV_TICK, i, i, w, NULL);
    }
}

/* Signed once: an honest member's own unit leaving it. A unit that never left (lost with an
 * unsynced backup before it could be sent) is no fork when its round is signed again: no
 * other process ever held it. */
static void note_signed(sim *s, uint32_t i, const uint8_t *data, size_t len)
{
    const uint8_t *unit;
    size_t unit_len;
    aleph_unit_info u;
    uint32_t epoch;
    if (!aleph_message_unit(data, len, &unit, &unit_len) || unit_len < 11 ||
        ((uint32_t)unit[9] | (uint32_t)unit[10] << 8) != i ||
        sim_inspect_own(s, unit, unit_len, &u, &epoch) != NULL)
        return;
    /* Keyed by (epoch, round): rounds restart at 0 in every epoch (its session differs). */
    if (sim_checker_signed(&s->checker, i, epoch, u.round, u.hash) != 0)
        sim_fail(s, &s->res->signed_once, "%s (virtual ms %" PRIu64 ")", s->checker.message, s->now);
}

/* ---- sending ------------------------------------------------------------------------------ */

static void send_one(sim *s, uint32_t from, uint32_t to, const uint8_t *data, size_t len,
                     sim_msg **msg, const sim_hostile_tag *tag)
{
    uint64_t delays[2];
    s->res->messages_sent++;
    uint32_t copies = sim_network_route(&s->net, s->now, from, to, delays);
    for (uint32_t k = 0; k < copies; k++) {
        if (!*msg) {
            if (!(*msg = sim_msg_new(data, len))) {
                sim_fail(s, NULL, "simulator out of memory (message)");
                return;
            }
            if (tag) {
                (*msg)->hostile = tag->kind;
                (*msg)->label = tag->label;
            }
        }
        (*msg)->refs++;
        sim_push(s, s->now + delays[k], SIM_EV_DELIVER, to, from, 0, *msg);
    }
}

/* Which members instance w of member i may reach: a forker shows face a to the first half
 * of the committee and face b to the second. */
static void reach(const sim *s, uint32_t i, uint32_t w, uint32_t *lo, uint32_t *hi)
{
    *lo = 0;
    *hi = s->n;
    if (s->members[i].behaviour != SIM_FORKER) return;
    uint32_t half = (s->n + 1) / 2;
    if (w == 0) *hi = half;
    else *lo = half;
}

void sim_route(sim *s, uint32_t i, uint32_t w, const uint8_t *data, size_t len, uint32_t to,
               const sim_hostile_tag *tag)
{
    sim_member *mb = &s->members[i];
    if (mb->checked && mb->behaviour != SIM_FORKER && !tag) note_signed(s, i, data, len);
    uint32_t lo, hi;
    reach(s, i, w, &lo, &hi);
    if (s->dumping && mb->honest && !tag) sim_dump_message(&s->dump, data, len);
    if (mb->behaviour == SIM_SILENT || mb->crashed) {
        s->res->messages_silenced += to == ALEPH_TO_ALL ? s->n - 1 : 1;
        return;
    }
    sim_msg *msg = NULL;
    if (to == ALEPH_TO_ALL) {
        for (uint32_t j = lo; j < hi; j++)
            if (j != i) send_one(s, i, j, data, len, &msg, tag);
    } else if (to < s->n && to != i && to >= lo && to < hi) {
        send_one(s, i, to, data, len, &msg, tag);
    }
}

const char *sim_inspect_own(const sim *s, const uint8_t *data, size_t len, aleph_unit_info *info,
                            uint32_t *epoch)
{
    aleph_config c = s->acfg;
    if (len >= 9) c.session = le64_get(data + 1); /* version (1), session (8) */
    uint32_t e = s->epoch_sessions_len;
    while (e > 0 && s->epoch_sessions[e - 1] != c.session) e--;
    if (e == 0 && c.session != s->acfg.session) return "a session of no epoch seen";
    *epoch = e ? e - 1 : 0;
    return aleph_unit_inspect(&c, data, len, info);
}

uint32_t sim_global_round(const sim *s, uint32_t epoch, uint32_t round)
{
    return s->cfg->epoch_rounds ? epoch * s->cfg->epoch_rounds + round : round;
}

void sim_epoch_started(sim *s, aleph_member *m, uint32_t epoch)
{
    if (epoch != s->epoch_sessions_len) return; /* another member got there first */
    uint64_t *grown = realloc(s->epoch_sessions, ((size_t)epoch + 1) * sizeof *grown);
    if (!grown) {
        sim_fail(s, NULL, "simulator out of memory (epochs)");
        return;
    }
    s->epoch_sessions = grown;
    s->epoch_sessions[s->epoch_sessions_len++] = aleph_member_epoch_session(m);
}

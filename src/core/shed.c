/* Shedding ordered units (PROTOCOL.md section 8, "Within an epoch"): once a unit is ordered,
 * its batch handed to the shell, and every peer is known to hold it, the member frees its
 * encoding (payload, coin share, signature) and its parent list. A stub stays in the DAG
 * (hash, creator, round, ordered, its place in the round), so a late unit that names it as a
 * parent still resolves and matches its control hash, and it is never ordered again.
 *
 * "Every peer holds it" comes from the peers' HIGHEST messages: a peer that reports creator
 * c's highest round as h holds c's units of every round below h (a unit's own parent is of
 * the round just below, and the DAG is downward closed). A peer that lies about it only
 * deprives itself of answers from this member; a silent peer keeps units whole until the
 * epoch ends. A margin of shed_lag_rounds covers reports of units a peer's backup has not made
 * durable yet. A member asked for a shed unit does not answer; any peer that reported it
 * holds it can. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "member.h"

int shed_init(aleph_member *m)
{
    shed_state *s = &m->shed;
    memset(s, 0, sizeof *s);
    uint32_t n = m->n;
    s->reported = core_calloc((size_t)n * n, sizeof *s->reported);
    s->held_by_all = core_calloc(n, sizeof *s->held_by_all);
    s->queues = core_calloc(n, sizeof *s->queues);
    if (!s->reported || !s->held_by_all || !s->queues) return -1;
    for (uint32_t c = 0; c < n; c++) s->reported[(size_t)m->secret.index * n + c] = UINT32_MAX;
    if (n == 1) s->held_by_all[0] = UINT32_MAX; /* nobody else to serve */
    return 0;
}

void shed_free(aleph_member *m)
{
    shed_state *s = &m->shed;
    if (s->queues)
        for (uint32_t c = 0; c < m->n; c++) core_free(s->queues[c].ids);
    core_free(s->queues);
    core_free(s->reported);
    core_free(s->held_by_all);
    memset(s, 0, sizeof *s);
}

static void recompute_column(aleph_member *m, uint32_t c)
{
    shed_state *s = &m->shed;
    uint32_t low = UINT32_MAX;
    for (uint32_t p = 0; p < m->n; p++) {
        uint32_t v = s->reported[(size_t)p * m->n + c];
        if (v < low) low = v;
    }
    if (low != s->held_by_all[c]) s->pending_pass = 1;
    s->held_by_all[c] = low;
}

void shed_peer_reported(aleph_member *m, uint32_t peer, uint32_t creator, uint32_t highest_plus1)
{
    shed_state *s = &m->shed;
    if (peer >= m->n || creator >= m->n || peer == m->secret.index) return;
    uint32_t *slot = &s->reported[(size_t)peer * m->n + creator];
    if (highest_plus1 <= *slot) return; /* a DAG only grows: keep the largest report */
    uint32_t old = *slot;
    *slot = highest_plus1;
    /* Only the lowest report of the column bounds it. */
    if (old == s->held_by_all[creator]) recompute_column(m, creator);
}

void shed_unit_ordered(aleph_member *m, const unit *u)
{
    shed_queue *q = &m->shed.queues[u->creator];
    if (q->len == q->cap) {
        if (q->head > 0) {
            memmove(q->ids, q->ids + q->head, (q->len - q->head) * sizeof *q->ids);
            q->len -= q->head;
            q->head = 0;
        }
        if (q->len == q->cap) {
            uint32_t cap = q->cap ? q->cap * 2 : 64;
            uint32_t *grown = core_realloc(q->ids, cap * sizeof *grown);
            if (!grown) { /* the unit simply stays whole */
                notice_out_of_memory(m, "shed: the queue of ordered units (a unit kept whole)");
                return;
            }
            q->ids = grown;
            q->cap = cap;
        }
    }
    q->ids[q->len++] = u->id;
    m->shed.pending_pass = 1;
}

static void shed_one(aleph_member *m, unit *u)
{
    m->stats.units_shed++;
    m->stats.shed_bytes += u->len;
    dag_unit_drop_body(m, u);
    u->len = 0;
    u->payload_off = 0;
    u->payload_len = 0;
    u->share_off = 0;
}

/* Called at the start of a step: every batch queued so far was handed to the shell by an
 * earlier step, whose pointers are no longer valid, so its units may go. Per creator, units
 * are ordered in round order (a unit's own parent is ordered no later), so each queue is
 * consumed from its front. */
void shed_pass(aleph_member *m)
{
    shed_state *s = &m->shed;
    if (!s->pending_pass) return;
    s->pending_pass = 0;
    for (uint32_t c = 0; c < m->n; c++) {
        shed_queue *q = &s->queues[c];
        uint32_t limit = s->held_by_all[c];
        while (q->head < q->len) {
            unit *u = m->dag.units[q->ids[q->head]];
            if ((uint64_t)u->round + m->cfg.shed_lag_rounds >= limit) break;
            shed_one(m, u);
            q->head++;
        }
        if (q->head == q->len) q->head = q->len = 0;
    }
}

/* Restart (PROTOCOL.md, "Restart"): rebuilding the DAG from the member's own backup, and the
 * own check that keeps a restarted member from signing a second unit for a round it may
 * already have signed.
 *
 * The backup holds every unit the member added to its DAG, in DAG order. A restored unit is
 * checked like one from the network, except that its parents must already be restored (the
 * backup is written parents first; a unit that is not is a broken backup, not one to wait
 * for), and a known forker's further variants are accepted (they entered this DAG once, by
 * request). */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "alert.h"
#include "crypto.h"
#include "member.h"
#include "message.h"

#include "bytes.h"

/* Tries the variants of the forked parent slots (odometer order) until the control hash
 * matches; bounded, since only forkers' slots have more than one variant. */
#define RESTORE_PARENT_TRIES_MAX 4096u

static int signature_valid(const aleph_member *m, const unit_wire *w, const uint8_t hash[32])
{
    const uint8_t *pk = m->sign_pks[w->creator];
    if (m->cfg.verify_signature)
        return m->cfg.verify_signature(m->cfg.verify_signature_ctx, hash, w->signature, pk);
    return verify_hash(hash, w->signature, pk);
}

/* Fills ids (`members` entries) with the parents of w; returns NULL or a reason. */
static const char *restore_parents(const aleph_member *m, const unit_wire *w, uint32_t *ids)
{
    for (uint32_t i = 0; i < m->n; i++) ids[i] = NONE;
    for (uint32_t i = 0; i < w->parents_len; i++) {
        uint32_t c, r;
        unit_wire_parent(w, i, &c, &r);
        ids[c] = dag_first_in_slot(m, c, r);
        if (ids[c] == NONE) return "a parent is not restored before the unit";
    }
    if (w->round == 0) return NULL;
    for (uint32_t tries = 0; tries < RESTORE_PARENT_TRIES_MAX; tries++) {
        if (dag_parents_match(m, w, ids)) return NULL;
        /* next combination: advance the first forked slot that has a further variant */
        uint32_t i = 0;
        for (; i < w->parents_len; i++) {
            uint32_t c, r;
            unit_wire_parent(w, i, &c, &r);
            uint32_t next = m->dag.units[ids[c]]->fork_next;
            if (next != NONE) {
                ids[c] = next;
                break;
            }
            ids[c] = dag_first_in_slot(m, c, r);
        }
        if (i == w->parents_len) break; /* every combination tried */
    }
    return "the restored parents do not give the unit's control hash";
}

const char *aleph_member_restore(aleph_member *m, const uint8_t *data, size_t len)
{
    outbox_reset(&m->out); /* notices of restored units are not reported */
    unit_wire w;
    const char *reason = unit_decode(data, len, &m->limits, &w);
    if (reason) return reason;
    uint8_t hash[32];
    if (!m->cfg.unit_hash_known ||
        !m->cfg.unit_hash_known(m->cfg.unit_hash_ctx, data, w.signed_len, hash))
        unit_hash(data, w.signed_len, hash);
    if (dag_find(m, hash)) return NULL;
    if (!signature_valid(m, &w, hash)) return "bad unit signature";
    if (!alert_restore_admits(m, hash, w.creator, w.round))
        return "a unit of a known forker that no restored certificate commits";
    reason = restore_parents(m, &w, m->scratch_ids);
    if (reason) return reason;
    m->restoring = 1;
    unit *u = dag_add_resolved(m, &w, data, hash, m->scratch_ids);
    m->restoring = 0;
    outbox_reset(&m->out);
    if (!u) return "out of memory";
    if (u->creator == m->secret.index) carry_restored(m, u->txs_len);
    m->stats.units_restored++;
    m->restored_dirty = 1;
    return NULL;
}

const char *aleph_member_restore_record(aleph_member *m, aleph_persist_kind kind,
                                        const uint8_t *data, size_t len)
{
    if (kind == ALEPH_PERSIST_UNIT) return aleph_member_restore(m, data, len);
    if (kind != ALEPH_PERSIST_ALERT && kind != ALEPH_PERSIST_ALERT_CERT)
        return "unknown record kind";
    outbox_reset(&m->out); /* a restored own alert goes out at the first tick, not now */
    m->restoring = 1;
    const char *why = kind == ALEPH_PERSIST_ALERT ? alert_restore(m, data, len)
                                                  : alert_restore_cert(m, data, len);
    m->restoring = 0;
    outbox_reset(&m->out);
    return why;
}

/* ---- the own check ----------------------------------------------------------------------- */

int own_check_init(aleph_member *m)
{
    m->own_check = m->cfg.own_check && !m->cfg.observer;
    if (!m->own_check) return 0;
    m->own_answered = core_calloc(m->n, 1);
    return m->own_answered ? 0 : -1;
}

int own_check_blocks(const aleph_member *m)
{
    return m->own_check;
}

static void own_check_settle(aleph_member *m)
{
    if (!m->own_check || m->halted) return;
    if (m->own_answers + 1 < m->q) return;
    if ((int64_t)m->own_seen_plus1 > (int64_t)m->own_round + 1) return; /* still fetching */
    m->own_check = 0;
    aleph_notice n = {.kind = ALEPH_NOTICE_OWN_CHECKED,
                      .creator = m->secret.index,
                      .round = (uint32_t)(m->own_round + 1),
                      .peer = NONE};
    outbox_notice(&m->out, &n);
}

void own_check_tick(aleph_member *m)
{
    own_check_settle(m);
    if (!m->own_check || m->halted || m->now_ms < m->own_query_next_ms) return;
    for (uint32_t p = 0; p < m->n; p++)
        if (p != m->secret.index && !m->own_answered[p])
            outbox_send(&m->out, p, MSG_OWN_QUERY, NULL, 0);
    m->own_query_next_ms = m->now_ms + m->cfg.request_retry_ms;
}

uint64_t own_check_wake_ms(const aleph_member *m)
{
    return m->own_check && !m->halted ? m->own_query_next_ms : UINT64_MAX;
}

/* The asker's highest-round unit waiting here for parents, or NULL. It proves as much as one
 * in the DAG (its signature was checked when it arrived), and it may be the only trace of the
 * asker's newest units: their parent, an own unit the asker restored but never sent, was lost
 * with the asker's backup. Seen in the simulator's crash-restart runs: without it, the asker
 * signed those rounds again. */
static const pending_unit *pending_newest(const aleph_member *m, uint32_t from)
{
    if (!m->pending.per_creator || !m->pending.per_creator[from]) return NULL;
    for (uint32_t i = m->pending.len; i-- > 0;) /* sorted by round */
        if (m->pending.items[i]->creator == from) return m->pending.items[i];
    return NULL;
}

void own_check_query(aleph_member *m, uint32_t from)
{
    uint32_t own_plus1 = m->dag.highest_plus1[from], rounds_plus1 = m->dag.rounds_len;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    if (own_plus1) {
        uint32_t id = dag_first_in_slot(m, from, own_plus1 - 1);
        if (id != NONE && m->dag.units[id]->bytes) { /* not shed */
            bytes = m->dag.units[id]->bytes;
            len = m->dag.units[id]->len;
        }
    }
    const pending_unit *pu = pending_newest(m, from);
    if (pu && pu->round + 1 > own_plus1) {
        own_plus1 = pu->round + 1;
        bytes = pu->bytes;
        len = pu->len;
    }
    uint8_t *p = outbox_send_reserve(&m->out, from, 9 + len);
    if (!p) return;
    p[0] = MSG_OWN_ANSWER;
    put_uint(p + 1, own_plus1, 4);
    put_uint(p + 5, rounds_plus1, 4);
    if (bytes) memcpy(p + 9, bytes, len);
}

/* The round of the asker's unit in an answer, when the answer carries one validly signed by
 * the asker's key; -1 otherwise. A bare claim is not believed: a faulty peer could otherwise
 * keep any member from ever starting. */
static int64_t answered_own_round(aleph_member *m, const message *msg)
{
    unit_wire w;
    if (!msg->body_len || unit_decode(msg->body, msg->body_len, &m->limits, &w) != NULL) return -1;
    if (w.creator != m->secret.index) return -1;
    uint8_t hash[32];
    unit_hash(msg->body, w.signed_len, hash);
    return signature_valid(m, &w, hash) ? (int64_t)w.round : -1;
}

void own_check_answer(aleph_member *m, uint32_t from, const void *msg_)
{
    const message *msg = msg_;
    if (!m->own_check || m->halted || m->own_answered[from]) return;
    m->own_answered[from] = 1;
    m->own_answers++;
    catchup_peer_reported(m, from, msg->rounds_plus1);
    int64_t round = answered_own_round(m, msg);
    if (round > (int64_t)m->own_round) {
        if (!m->cfg.recover) {
            m->halted = 1;
            aleph_notice n = {.kind = ALEPH_NOTICE_OWN_NEWER,
                              .creator = m->secret.index,
                              .round = (uint32_t)round,
                              .peer = from,
                              .reason = "a peer holds an own unit newer than this member holds"};
            outbox_notice(&m->out, &n);
            return;
        }
        if ((uint32_t)round + 1 > m->own_seen_plus1) m->own_seen_plus1 = (uint32_t)round + 1;
        /* Its parents (our older units among them) are asked for like any missing parent. */
        dag_receive_unit(m, msg->body, msg->body_len, from);
    }
    own_check_settle(m);
}

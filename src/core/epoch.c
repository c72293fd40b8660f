/* Epochs (PROTOCOL.md, "Epochs"): an epoch ends with its batch of head round E-1; the member
 * then carries its own transactions that no batch of the epoch holds back ahead of its pool,
 * keeps the finished epoch's state (frozen) to answer members still in it, and starts the
 * next epoch with a session derived from the last head, an empty DAG and rounds from 0.
 * It keeps the last cfg.epochs_kept finished epochs, newest first (m->prev, then its prev):
 * a member up to that many epochs behind finishes each in turn with their answers.
 *
 * Messages name their epoch (u32 after the type byte). One of the current epoch is handled
 * as always; one of a kept finished epoch is answered from that epoch's state when it is a
 * request (units by slot, hash or parents, a HIGHEST, an own query) and dropped otherwise;
 * one of a later epoch is dropped, and its sender gets this member's HIGHEST so that it
 * answers from its kept copy of this epoch; anything older is dropped. Every drop is
 * counted. */
#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "alert.h"
#include "crypto.h"
#include "member.h"
#include "message.h"

int epoch_init(aleph_member *m)
{
    m->committee_session = m->cfg.session;
    if (!m->cfg.epochs_kept) m->cfg.epochs_kept = ALEPH_EPOCHS_KEPT_DEFAULT; /* 0: the default */
    m->out.with_epoch = m->cfg.epoch_rounds > 0;
    m->out.epoch = 0;
    m->ahead_reply_ms = core_calloc(m->n, sizeof *m->ahead_reply_ms);
    return m->ahead_reply_ms ? 0 : -1;
}

int member_alloc_epoch_arrays(aleph_member *m)
{
    m->scratch_creators = core_malloc(m->n * sizeof(uint32_t));
    m->scratch_rounds = core_malloc(m->n * sizeof(uint32_t));
    m->scratch_ids = core_malloc(m->n * sizeof(uint32_t));
    m->highest_reply_ms = core_calloc(m->n, sizeof(uint64_t));
    m->lag_ms = core_calloc(m->n, sizeof(uint32_t));
    m->highest_answer_ms = core_calloc(m->n, sizeof(uint64_t));
    return m->scratch_creators && m->scratch_rounds && m->scratch_ids && m->highest_reply_ms &&
                   m->lag_ms && m->highest_answer_ms
               ? 0
               : -1;
}

void member_free_epoch_state(aleph_member *m)
{
    ordering_free(m);
    pending_free(m);
    dag_free(m);
    shed_free(m);
    catchup_free(m);
    alert_free(m);
    sync_free(m);
    core_free(m->scratch_creators);
    core_free(m->scratch_rounds);
    core_free(m->scratch_ids);
    core_free(m->highest_reply_ms);
    core_free(m->lag_ms);
    core_free(m->highest_answer_ms);
    m->scratch_creators = m->scratch_rounds = m->scratch_ids = NULL;
    m->highest_reply_ms = m->highest_answer_ms = NULL;
    m->lag_ms = NULL;
    if (m->is_prev) sodium_memzero(&m->secret, sizeof m->secret);
}

/* Frees a kept epoch and every older one chained behind it. */
static void kept_free(aleph_member *p)
{
    while (p) {
        aleph_member *older = p->prev;
        member_free_epoch_state(p);
        outbox_free(&p->out);
        core_free(p);
        p = older;
    }
}

/* The kept finished epoch `epoch`, or NULL when it is not kept. */
static aleph_member *kept_find(const aleph_member *m, uint32_t epoch)
{
    for (aleph_member *p = m->prev; p; p = p->prev)
        if (p->epoch == epoch) return p;
    return NULL;
}

uint32_t epoch_kept_count(const aleph_member *m)
{
    uint32_t count = 0;
    for (const aleph_member *p = m->prev; p; p = p->prev) count++;
    return count;
}

void epoch_free(aleph_member *m)
{
    kept_free(m->prev);
    m->prev = NULL;
    kept_free(m->archive);
    m->archive = NULL;
    core_free(m->carry);
    core_free(m->ahead_reply_ms);
    m->carry = NULL;
    m->ahead_reply_ms = NULL;
}

uint64_t aleph_epoch_session_next(uint64_t session, uint32_t next_epoch,
                                  const uint8_t head_hash[ALEPH_HASH_BYTES])
{
    uint8_t in[8 + 4 + 32], out[32];
    put_uint(in, session, 8);
    put_uint(in + 8, next_epoch, 4);
    memcpy(in + 12, head_hash, 32);
    hash_tagged(out, "aleph/epoch", in, sizeof in);
    uint64_t s = 0;
    for (int i = 7; i >= 0; i--) s = s << 8 | out[i];
    return s;
}

uint32_t aleph_member_epoch(const aleph_member *m)
{
    return m->epoch;
}

uint64_t aleph_member_epoch_session(const aleph_member *m)
{
    return m->cfg.session;
}

int aleph_member_coin_epoch(aleph_member *m, uint32_t epoch, uint32_t round, uint8_t out[32])
{
    if (epoch == m->epoch) return coin_value(m, round, out);
    aleph_member *p = kept_find(m, epoch);
    return p ? coin_value(p, round, out) : 0;
}

size_t aleph_member_epoch_carry(const aleph_member *m, const uint8_t **payload, uint32_t *txs)
{
    *payload = m->carry;
    *txs = m->carry_txs;
    return m->carry_len;
}

/* ---- moving on -------------------------------------------------------------------------------- */

/* Gives m an empty state for a new epoch; what it held is owned elsewhere (the kept copy).
 * On failure the caller frees what was allocated (member_free_epoch_state). */
static int fresh_state(aleph_member *m)
{
    fork_hooks hooks = m->dag.forks_hooks; /* wired once by member.c */
    memset(&m->dag, 0, sizeof m->dag);
    memset(&m->pending, 0, sizeof m->pending);
    memset(&m->requests, 0, sizeof m->requests);
    memset(&m->alerts, 0, sizeof m->alerts);
    memset(&m->election, 0, sizeof m->election);
    memset(&m->shed, 0, sizeof m->shed);
    memset(&m->catchup, 0, sizeof m->catchup);
    memset(&m->wants, 0, sizeof m->wants); /* the kept copy owns the old list */
    memset(m->coin_cache, 0, sizeof m->coin_cache);
    m->next_head_round = 0;
    m->own_round = -1;
    m->own_last = NONE;
    m->own_created_ms = 0;
    m->quorum_seen_ms = 0;
    m->lag_round = 0;
    m->lag_quorum_ms = 0;
    m->restored_dirty = 0;
    m->own_seen_plus1 = 0;
    if (member_alloc_epoch_arrays(m) != 0) return -1;
    int rc = dag_init(m);
    m->dag.forks_hooks = hooks;
    if (rc != 0 || shed_init(m) != 0 || catchup_init(m) != 0 || alert_init(m) != 0) return -1;
    return hashmap_init(&m->requests.by_key, 64);
}

/* Chains the epoch just finished in front of the kept ones and frees the oldest beyond
 * cfg.epochs_kept (at least 1: epoch_init). */
static void kept_trim(aleph_member *m, aleph_member *finished)
{
    aleph_member **link = &m->prev;
    *link = finished; /* finished->prev: the kept epochs before it, newest first */
    for (uint32_t kept = 0; *link && kept < m->cfg.epochs_kept; kept++) link = &(*link)->prev;
    kept_free(*link);
    *link = NULL;
}

/* The epoch m is in, frozen into the kept chain (its DAG answers members still in it), m
 * given an empty state. It shares the keys and nothing else that the member keeps. The
 * newest epochs_kept are kept (it, then the older ones already chained behind it); the
 * oldest beyond go. Returns 0, -1 when out of memory (m unchanged). */
static int freeze_epoch(aleph_member *m)
{
    aleph_member *old = core_malloc(sizeof *old);
    if (!old) return -1;
    *old = *m;
    if (fresh_state(m) != 0) {
        member_free_epoch_state(m);
        *m = *old;
        core_free(old);
        return -1;
    }
    old->is_prev = 1;
    old->restoring_finished = 0;
    memset(&old->out, 0, sizeof old->out);
    old->out.with_epoch = 1;
    old->out.epoch = old->epoch;
    memset(&old->pool, 0, sizeof old->pool);
    old->carry = NULL;
    old->ahead_reply_ms = NULL;
    old->own_answered = NULL;
    old->archive = NULL; /* m's */
    kept_trim(m, old);
    return 0;
}

void epoch_advance(aleph_member *m)
{
    if (!m->epoch_done) return;
    uint8_t *carry;
    size_t carry_len;
    uint32_t carry_txs;
    if (carry_collect(m, &carry, &carry_len, &carry_txs) != 0) goto oom;
    if (freeze_epoch(m) != 0) {
        core_free(carry);
        goto oom;
    }
    m->prev->kept_signs_alerts = 1;

    uint64_t session = aleph_epoch_session_next(m->cfg.session, m->epoch + 1, m->epoch_last_head);
    m->epoch++;
    m->epoch_done = 0;
    m->cfg.session = session;
    m->limits.session = session;
    m->out.epoch = m->epoch;
    core_free(m->carry);
    m->carry = carry;
    m->carry_len = carry_len;
    m->carry_off = 0;
    m->carry_txs = m->carry_left = carry_txs;
    m->stats.epoch = m->epoch;
    m->stats.carry_txs = carry_txs;
    m->stats.round_created = UINT32_MAX;
    m->stats.round_ordered = UINT32_MAX;
    aleph_notice n = {.kind = ALEPH_NOTICE_EPOCH_STARTED,
                      .creator = NONE,
                      .round = NONE,
                      .peer = NONE};
    outbox_notice(&m->out, &n);
    return;
oom:
    notice_out_of_memory(m, "epoch: the next epoch's state (tried again at the next step)");
}

/* ---- messages of other epochs ------------------------------------------------------------- */

static void epoch_drop(aleph_member *m, uint32_t from, uint64_t *counter, const char *reason)
{
    (*counter)++;
    notice_drop(m, from, reason);
}

/* A request of a member still in the kept finished epoch p, answered from p's state (its
 * DAG, its rate limits); its messages (already named with p's epoch) go out with this
 * step's. */
static void answer_from_kept(aleph_member *m, aleph_member *p, uint32_t from, const message *msg,
                             uint64_t *answers)
{
    p->now_ms = m->now_ms;
    uint64_t dropped_before = p->stats.messages_dropped;
    switch (msg->type) {
    case MSG_REQUEST_UNITS:
    case MSG_REQUEST_PARENTS:
    case MSG_REQUEST_HASHES:
    case MSG_HIGHEST: sync_receive(p, from, msg); break;
    case MSG_REQUEST_RANGE: catchup_receive(p, from, msg); break;
    case MSG_OWN_QUERY: own_check_query(p, from); break;
    case MSG_ALERT:
    case MSG_ALERT_SIGNATURE:
    case MSG_ALERT_CERT:
    case MSG_REQUEST_ALERT:
        if (alert_receive_kept(p, from, msg)) break;
        epoch_drop(m, from, &m->stats.epoch_stale_dropped, "alert message a finished epoch does not take");
        return;
    default:
        epoch_drop(m, from, &m->stats.epoch_stale_dropped, "message of a finished epoch");
        return;
    }
    (*answers)++;
    m->stats.messages_dropped += p->stats.messages_dropped - dropped_before; /* its drops */
    outbox_finish_reserve(&p->out);
    aleph_update up;
    outbox_finish(&p->out, &up);
    for (size_t i = 0; i < up.messages_len; i++)
        if (outbox_send_raw(&m->out, up.messages[i].to, up.messages[i].data, up.messages[i].len) != 0)
            break;
    for (size_t i = 0; i < up.notices_len; i++) outbox_notice(&m->out, &up.notices[i]);
    if (p->out.alloc_failed) m->out.alloc_failed += p->out.alloc_failed;
    p->out.alloc_failed = 0;
    outbox_reset(&p->out);
}

/* A message a finished epoch's state answers (answer_from_kept): what a member still in it
 * sends to get what it lacks. */
static int asks(int type)
{
    switch (type) {
    case MSG_REQUEST_UNITS:
    case MSG_REQUEST_PARENTS:
    case MSG_REQUEST_HASHES:
    case MSG_HIGHEST:
    case MSG_REQUEST_RANGE:
    case MSG_OWN_QUERY:
    case MSG_REQUEST_ALERT: return 1;
    default: return 0;
    }
}

static void restore_into(aleph_member *m, uint32_t epoch, uint64_t epoch_session);

int epoch_take_message(aleph_member *m, const aleph_event *ev, void *msg_)
{
    message *msg = msg_;
    uint32_t epoch;
    const char *err =
        message_decode_epoch(ev->data, ev->len, m->n, m->cfg.epoch_rounds > 0, &epoch, msg);
    if (err) {
        notice_drop(m, ev->from, err);
        return 0;
    }
    if (epoch == m->epoch) return 1;
    if (epoch > m->epoch) {
        /* Its session cannot be checked before this member ordered its own epoch's end.
         * Within epochs_kept ahead (this member's setting, taken for its peers'), the
         * sender still keeps this epoch and answers; beyond, it most likely does not. */
        if (epoch - m->epoch <= m->cfg.epochs_kept) {
            epoch_drop(m, ev->from, &m->stats.epoch_ahead_dropped, "message of a later epoch");
        } else {
            epoch_drop(m, ev->from, &m->stats.epoch_far_dropped,
                       "message of an epoch more than epochs_kept ahead");
        }
        uint64_t *last = &m->ahead_reply_ms[ev->from];
        if (*last == 0 || m->now_ms >= *last + m->cfg.anti_entropy_ms / 2) {
            *last = m->now_ms ? m->now_ms : 1;
            sync_send_highest(m, ev->from); /* it answers from its kept copy of this epoch */
        }
        return 0;
    }
    aleph_member *kept = kept_find(m, epoch);
    if (kept) {
        answer_from_kept(m, kept, ev->from, msg, &m->stats.epoch_answers);
        return 0;
    }
    if (m->archive && m->archive->epoch == epoch) {
        answer_from_kept(m, m->archive, ev->from, msg, &m->stats.archive_answers);
        return 0;
    }
    epoch_drop(m, ev->from, &m->stats.epoch_stale_dropped, "message of a finished epoch");
    if (asks(msg->type)) { /* the shell may hold its backup: PROTOCOL.md, the archive */
        m->stats.archive_asked++;
        aleph_notice n = {.kind = ALEPH_NOTICE_EPOCH_NOT_HELD, .creator = NONE, .round = NONE,
                          .peer = ev->from, .asked_epoch = epoch};
        outbox_notice(&m->out, &n);
    }
    return 0;
}

/* ---- the archive slot (PROTOCOL.md, "Beyond K: the archive") ------------------------------ */

const char *aleph_member_archive_begin(aleph_member *m, uint32_t epoch, uint64_t epoch_session)
{
    if (m->is_prev || m->restoring_finished) return "archive_begin on a member between steps only";
    if (!m->cfg.epoch_rounds) return "an archived epoch in a committee without epochs";
    if (epoch >= m->epoch || kept_find(m, epoch)) return "the epoch is current or kept";
    if (epoch == 0 && epoch_session != m->committee_session)
        return "epoch 0's session is not the committee's";
    aleph_member_archive_free(m);
    aleph_member *a = core_malloc(sizeof *a);
    if (!a) return "out of memory";
    *a = *m; /* the keys and configuration; fresh_state gives it an empty epoch state */
    a->prev = a->archive = NULL;
    a->carry = NULL;
    a->ahead_reply_ms = NULL;
    a->own_answered = NULL;
    a->own_check = 0;
    memset(&a->pool, 0, sizeof a->pool);
    memset(&a->out, 0, sizeof a->out);
    memset(&a->stats, 0, sizeof a->stats);
    a->is_prev = 1;
    a->kept_signs_alerts = 0; /* it does not know what it signed after its end */
    if (fresh_state(a) != 0) {
        kept_free(a);
        return "out of memory";
    }
    a->carry_len = a->carry_off = 0;
    a->carry_txs = a->carry_left = 0;
    a->out.with_epoch = 1;
    restore_into(a, epoch, epoch_session);
    m->archive = a;
    return NULL;
}

const char *aleph_member_archive_record(aleph_member *m, aleph_persist_kind kind,
                                        const uint8_t *data, size_t len)
{
    if (!m->archive) return "no archived epoch begun";
    return aleph_member_restore_record(m->archive, kind, data, len);
}

void aleph_member_archive_free(aleph_member *m)
{
    kept_free(m->archive);
    m->archive = NULL;
}

int aleph_member_archive_epoch(const aleph_member *m, uint32_t *epoch)
{
    if (!m->archive) return 0;
    *epoch = m->archive->epoch;
    return 1;
}

/* ---- restart -------------------------------------------------------------------------------- */

/* Sets the epoch the units restored next belong to. */
static void restore_into(aleph_member *m, uint32_t epoch, uint64_t epoch_session)
{
    m->epoch = epoch;
    m->cfg.session = epoch_session;
    m->limits.session = epoch_session;
    m->out.epoch = epoch;
}

const char *aleph_member_restore_finished(aleph_member *m, uint32_t epoch, uint64_t epoch_session)
{
    if (!m->cfg.epoch_rounds) return "a finished epoch in a committee without epochs";
    if (m->restoring_finished) {
        if (epoch <= m->epoch) return "finished epochs come oldest first";
        if (freeze_epoch(m) != 0) return "out of memory";
    } else if (m->dag.units_len || m->epoch || m->carry) {
        return "restore_finished comes before restore_epoch and any unit";
    }
    if (epoch == 0 && epoch_session != m->committee_session)
        return "epoch 0's session is not the committee's";
    restore_into(m, epoch, epoch_session);
    m->restoring_finished = 1;
    return NULL;
}

const char *aleph_member_restore_epoch(aleph_member *m, uint32_t epoch, uint64_t epoch_session,
                                       const uint8_t *carry, size_t carry_len)
{
    if (m->restoring_finished) { /* the finished epochs restored so far go to the kept chain */
        if (epoch <= m->epoch) return "the current epoch comes after the finished ones";
        if (freeze_epoch(m) != 0) return "out of memory";
        m->restoring_finished = 0;
        m->epoch = 0;
    }
    if (m->dag.units_len || m->epoch || m->carry) return "restore_epoch comes before any unit";
    if (epoch > 0 && !m->cfg.epoch_rounds) return "an epoch above 0 in a committee without epochs";
    if (epoch == 0 && epoch_session != m->committee_session)
        return "epoch 0's session is not the committee's";
    if (epoch == 0 && carry_len) return "epoch 0 has no carried transactions";
    if (carry_len && !carry) return "carried transactions missing";
    uint32_t txs = 0;
    size_t off = 0;
    const uint8_t *tx;
    size_t tx_len;
    int rc;
    while ((rc = aleph_payload_next(carry, carry_len, &off, &tx, &tx_len)) == 1) {
        if (tx_len == 0 || tx_len > m->cfg.tx_bytes_max) return "a carried transaction of a bad size";
        txs++;
    }
    if (rc < 0) return "carried transactions malformed";
    if (carry_len) {
        m->carry = core_malloc(carry_len);
        if (!m->carry) return "out of memory";
        memcpy(m->carry, carry, carry_len);
    }
    m->carry_len = carry_len;
    m->carry_off = 0;
    m->carry_txs = m->carry_left = txs;
    restore_into(m, epoch, epoch_session);
    m->stats.epoch = epoch;
    m->stats.carry_txs = txs;
    return NULL;
}

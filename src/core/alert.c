/* Fork alerts by reliable multicast: the member's side of PROTOCOL.md section 7 (see alert.h
 * for the exchange). Memory per forker is bounded: at most two alerts per (sender, forker)
 * are kept (the first one seen, which is the one signed, and a different one only when a
 * certificate shows that it completed; two different alerts of one sender about one forker
 * cannot both complete, since two quorums share an honest member, who signs one), and each
 * commits at most one unit per round. */
#include "alloc.h"
#include "alert.h"

#include <stdlib.h>
#include <string.h>

#include "alert_wire.h"
#include "bytes.h"
#include "crypto.h"
#include "member.h"
#include "message.h"

#define ALERT_RESEND_SHIFT_MAX 3u
#define ALERT_CERTS_PENDING_PER_MEMBER 4u

int alert_init(aleph_member *m)
{
    alert_state *a = &m->alerts;
    memset(a, 0, sizeof *a);
    a->own_sent = core_calloc(m->n, 1);
    a->restored_fork = core_calloc(m->n, 1);
    if (!a->own_sent || !a->restored_fork || hashmap_init(&a->by_hash, 16) != 0 || hashmap_init(&a->by_pair, 16) != 0 ||
        hashmap_init(&a->committed, 64) != 0)
        return -1;
    return 0;
}

static void entry_free(alert_entry *e)
{
    if (!e) return;
    core_free(e->bytes);
    core_free(e->cert);
    core_free(e->served_ms);
    core_free(e->sigs);
    core_free(e->signed_by);
    core_free(e);
}

void alert_free(aleph_member *m)
{
    alert_state *a = &m->alerts;
    for (uint32_t i = 0; i < a->len; i++) entry_free(a->items[i]);
    core_free(a->items);
    for (uint32_t i = 0; i < a->certs_len; i++) core_free(a->certs[i].bytes);
    core_free(a->certs);
    core_free(a->commits);
    core_free(a->own_sent);
    core_free(a->restored_fork);
    hashmap_free(&a->by_hash);
    hashmap_free(&a->by_pair);
    hashmap_free(&a->committed);
    memset(a, 0, sizeof *a);
}

static void pair_key(uint32_t sender, uint32_t forker, uint8_t key[32])
{
    /* Unit and alert hashes are uniform; a key with 26 zero bytes is not one of them. */
    memset(key, 0, 32);
    key[0] = 'a';
    put_uint(key + 1, sender, 2);
    put_uint(key + 3, forker, 2);
}

/* A kept alert or its certificate goes to the backup (not when it comes from there), so that
 * a restart keeps the same alerts (PROTOCOL.md, "Fork alerts", restart); with before_send (an
 * own alert, or one this member signs) it is durable before anything after it is sent.
 * Returns 0, or -1 out of memory: the member halts rather than send what it would forget. */
static int persist(aleph_member *m, aleph_persist_kind kind, const uint8_t *data, uint32_t len,
                   int before_send, const alert_entry *e)
{
    /* A kept finished epoch's backup takes no more records (alert_receive_kept). */
    if (m->restoring || m->is_prev) return 0;
    if (outbox_persist(&m->out, kind, data, len, NULL) == 0) {
        if (before_send) m->out.persist_own = 1;
        return 0;
    }
    notice_out_of_memory(m, "backup: an alert to persist");
    notice_halt(m, 0, e->forker, NONE, e->hash, "out of memory: an alert not persisted");
    return -1;
}

/* Stores an alert body (already checked) and persists it (before_send: see persist); returns
 * its entry or NULL when out of memory. */
static alert_entry *entry_add(aleph_member *m, const alert_wire *w, const uint8_t *bytes,
                              size_t len, int before_send)
{
    alert_state *a = &m->alerts;
    if (a->len == a->cap) {
        uint32_t cap = a->cap ? a->cap * 2 : 8;
        alert_entry **grown = core_realloc(a->items, cap * sizeof *grown);
        if (!grown) return NULL;
        a->items = grown;
        a->cap = cap;
    }
    alert_entry *e = core_calloc(1, sizeof *e);
    if (!e) return NULL;
    e->bytes = core_malloc(len);
    e->served_ms = core_calloc(m->n, sizeof *e->served_ms);
    if (!e->bytes || !e->served_ms || hashmap_put(&a->by_hash, w->hash, a->len) != 0) {
        entry_free(e);
        return NULL;
    }
    memcpy(e->bytes, bytes, len);
    e->len = (uint32_t)len;
    memcpy(e->hash, w->hash, 32);
    e->sender = w->sender;
    e->forker = w->forker;
    e->commit_round_lo = w->commit_round_lo;
    e->commit_count = w->commit_count;
    e->commits_off = (uint32_t)(w->commits - bytes);
    a->items[a->len++] = e;
    m->stats.alerts_held = a->len;
    persist(m, ALEPH_PERSIST_ALERT, e->bytes, e->len, before_send, e);
    return e;
}

static alert_entry *entry_find(const aleph_member *m, const uint8_t hash[32])
{
    uint32_t i;
    return hashmap_get(&m->alerts.by_hash, hash, &i) ? m->alerts.items[i] : NULL;
}

static void send_cert(aleph_member *m, uint32_t to, const alert_entry *e)
{
    outbox_send(&m->out, to, MSG_ALERT_CERT, e->cert, e->cert_len);
}

/* The alert is complete: its commitments let the forker's units in. */
static void entry_complete(aleph_member *m, alert_entry *e, const uint8_t *cert, size_t len)
{
    alert_state *a = &m->alerts;
    e->cert = core_malloc(len);
    if (!e->cert) return;
    memcpy(e->cert, cert, len);
    e->cert_len = (uint32_t)len;
    e->complete = 1;
    m->stats.alert_certificates_completed++;
    /* Before the units it lets in (they follow in the backup); not before sending: a lost
     * certificate is learnt again from peers, who send it with the forker's units. */
    persist(m, ALEPH_PERSIST_ALERT_CERT, e->cert, e->cert_len, 0, e);
    uint32_t index;
    hashmap_get(&a->by_hash, e->hash, &index);
    for (uint32_t i = 0; i < e->commit_count; i++) {
        const uint8_t *h = e->bytes + e->commits_off + 32 * (size_t)i;
        if (hashmap_get(&a->committed, h, NULL)) continue;
        if (a->commits_len == a->commits_cap) {
            uint32_t cap = a->commits_cap ? a->commits_cap * 2 : 64;
            alert_commit *grown = core_realloc(a->commits, cap * sizeof *grown);
            if (!grown) return;
            a->commits = grown;
            a->commits_cap = cap;
        }
        if (hashmap_put(&a->committed, h, a->commits_len) != 0) return;
        a->commits[a->commits_len++] =
            (alert_commit){.alert = index, .forker = e->forker, .round = e->commit_round_lo + i};
    }
    /* Units that waited for a committed variant ask for it again now that it may enter. */
    pending_rerequest(m);
}

/* q signatures on our own alert: the certificate, sent to everyone. */
static void own_complete(aleph_member *m, alert_entry *e)
{
    size_t len = 32 + 2 + (size_t)e->sig_count * ALERT_CERT_ENTRY_BYTES;
    uint8_t *cert = core_malloc(len);
    if (!cert) return;
    memcpy(cert, e->hash, 32);
    put_uint(cert + 32, e->sig_count, 2);
    uint8_t *p = cert + 34;
    for (uint32_t s = 0; s < m->n; s++) {
        if (!e->signed_by[s]) continue;
        put_uint(p, s, 2);
        memcpy(p + 2, e->sigs[s], 64);
        p += ALERT_CERT_ENTRY_BYTES;
    }
    entry_complete(m, e, cert, len);
    core_free(cert);
    if (e->complete && m->n > 1) send_cert(m, ALEPH_TO_ALL, e);
}

static void own_add_signature(aleph_member *m, alert_entry *e, uint32_t signer,
                              const uint8_t sig[64])
{
    if (e->complete || e->signed_by[signer]) return;
    e->signed_by[signer] = 1;
    memcpy(e->sigs[signer], sig, 64);
    if (++e->sig_count >= m->q) own_complete(m, e);
}

/* The chain of j's units in the DAG, from its highest unit down its own parents: one per
 * round and downward closed. Writes up to ALERT_COMMITS_MAX hashes lowest round first. */
static uint32_t own_commitments(aleph_member *m, uint32_t j, const uint8_t **hashes,
                                uint32_t *round_lo)
{
    uint32_t h = m->dag.highest_plus1[j];
    *round_lo = 0;
    if (h == 0) return 0;
    uint32_t id = dag_first_in_slot(m, j, h - 1), count = 0;
    while (id != NONE && count < ALERT_COMMITS_MAX) {
        const unit *u = m->dag.units[id];
        hashes[count++] = u->hash;
        *round_lo = u->round;
        /* A shed unit kept no parent list; before the fork was learnt its slot below held
         * one unit of j, its own parent. */
        if (u->parents)
            id = dag_parent(m, u, j);
        else
            id = u->round > 0 ? dag_first_in_slot(m, j, u->round - 1) : NONE;
        /* One hash per consecutive round: a chain with a gap (a member that resumed at the
         * committee's round) is committed from its highest unit down to the gap; what is
         * below was made long before (like a chain over ALERT_COMMITS_MAX). */
        if (id != NONE && m->dag.units[id]->round + 1 != u->round) id = NONE;
    }
    for (uint32_t i = 0; i < count / 2; i++) {
        const uint8_t *t = hashes[i];
        hashes[i] = hashes[count - 1 - i];
        hashes[count - 1 - i] = t;
    }
    return count;
}

/* Learns that j forked, once: mark it, report it, and send the own alert about it. */
static void learn_fork(aleph_member *m, uint32_t j, const uint8_t *a, uint32_t a_len,
                       const uint8_t *b, uint32_t b_len, uint32_t round)
{
    alert_state *st = &m->alerts;
    if (st->own_sent[j]) return;
    st->own_sent[j] = 1;
    dag_mark_forker(m, j, round);
    uint32_t h = m->dag.highest_plus1[j];
    const uint8_t **hashes = core_malloc((h ? h : 1) * sizeof *hashes);
    if (!hashes) return;
    uint32_t lo, count = own_commitments(m, j, hashes, &lo);
    size_t len = alert_encoded_len(a_len, b_len, count);
    uint8_t *buf = core_malloc(len);
    if (!buf) {
        core_free(hashes);
        return;
    }
    uint8_t hash[32];
    alert_encode_signed(buf, m->cfg.session, m->secret.index, j, a, a_len, b, b_len, lo, hashes,
                        count, m->secret.sign_secret_key, hash);
    core_free(hashes);
    alert_wire w;
    alert_entry *e = NULL;
    if (alert_decode(buf, len, &m->limits, &w) == NULL) e = entry_add(m, &w, buf, len, 1);
    uint8_t key[32];
    pair_key(m->secret.index, j, key);
    if (e) {
        e->sigs = core_calloc(m->n, 64);
        e->signed_by = core_calloc(m->n, 1);
    }
    if (e && e->sigs && e->signed_by && hashmap_put(&st->by_pair, key, st->len - 1) == 0 &&
        !m->halted) {
        m->stats.alerts_sent++;
        e->next_ms = m->now_ms + m->cfg.anti_entropy_ms;
        if (m->n > 1) outbox_send(&m->out, ALEPH_TO_ALL, MSG_ALERT, buf, len);
        own_add_signature(m, e, m->secret.index, w.signature);
    }
    core_free(buf);
}

void alert_fork_found(aleph_member *m, const unit *first, const uint8_t *second, size_t second_len)
{
    if (!first->bytes) {
        /* Shed (ordered, and every peer reported holding it): no proof to send, but the
         * fork is certain. A valid alert from a peer makes this member send its own. */
        dag_mark_forker(m, first->creator, first->round);
        return;
    }
    learn_fork(m, first->creator, first->bytes, first->len, second, (uint32_t)second_len,
               first->round);
}

int alert_committed(const aleph_member *m, const uint8_t hash[32], uint32_t creator, uint32_t round)
{
    uint32_t i;
    if (!hashmap_get(&m->alerts.committed, hash, &i)) return 0;
    return m->alerts.commits[i].forker == creator && m->alerts.commits[i].round == round;
}

static int may_serve(const aleph_member *m, alert_entry *e, uint32_t to)
{
    if (to >= m->n) return 0;
    if (e->served_ms[to] && m->now_ms < e->served_ms[to] + m->cfg.anti_entropy_ms) return 0;
    e->served_ms[to] = m->now_ms ? m->now_ms : 1;
    return 1;
}

void alert_before_unit_sent(aleph_member *m, uint32_t to, const unit *u)
{
    uint32_t i;
    if (!m->dag.forker[u->creator] || !hashmap_get(&m->alerts.committed, u->hash, &i)) return;
    alert_entry *e = m->alerts.items[m->alerts.commits[i].alert];
    if (to == ALEPH_TO_ALL) {
        for (uint32_t p = 0; p < m->n; p++)
            if (p != m->secret.index && may_serve(m, e, p)) send_cert(m, p, e);
    } else if (may_serve(m, e, to)) {
        send_cert(m, to, e);
    }
}

static int proof_signed(const aleph_member *m, const alert_wire *w)
{
    return peer_signature_valid(m, w->hash, w->signature, w->sender) &&
           peer_signature_valid(m, w->a_hash, w->a.signature, w->forker) &&
           peer_signature_valid(m, w->b_hash, w->b.signature, w->forker);
}

static void sign_for_sender(aleph_member *m, const alert_entry *e)
{
    if (e->sender == m->secret.index) return;
    uint8_t body[ALERT_SIGNATURE_BODY_BYTES];
    memcpy(body, e->hash, 32);
    sign_hash(body + 32, e->hash, m->secret.sign_secret_key);
    outbox_send(&m->out, e->sender, MSG_ALERT_SIGNATURE, body, sizeof body);
}

static int take_pending_cert(aleph_member *m, alert_entry *e)
{
    alert_state *a = &m->alerts;
    for (uint32_t i = 0; i < a->certs_len; i++) {
        if (memcmp(a->certs[i].hash, e->hash, 32) != 0) continue;
        entry_complete(m, e, a->certs[i].bytes, a->certs[i].len);
        core_free(a->certs[i].bytes);
        a->certs[i] = a->certs[--a->certs_len];
        return 1;
    }
    return 0;
}

/* A repeated alert: its sender lacks our signature, or a peer lacks the certificate. */
static void alert_again(aleph_member *m, uint32_t from, alert_entry *e)
{
    if (e->complete) {
        if (may_serve(m, e, from)) send_cert(m, from, e);
    } else if (from == e->sender) {
        uint32_t first;
        uint8_t key[32];
        pair_key(e->sender, e->forker, key);
        if (hashmap_get(&m->alerts.by_pair, key, &first) && m->alerts.items[first] == e)
            sign_for_sender(m, e);
    }
}

/* An own alert made before (restored from the backup, or signed before a backup was lost and
 * learnt back from a peer) becomes the one own alert about its forker, as it is: the fork is
 * marked, and the alert goes to every member whose signature it lacks at the next tick
 * (send: also now). Returns its entry, or NULL out of memory. */
static alert_entry *own_keep(aleph_member *m, const alert_wire *w, const uint8_t *body,
                             size_t len, int send)
{
    alert_state *st = &m->alerts;
    st->own_sent[w->forker] = 1;
    dag_mark_forker(m, w->forker, w->a.round);
    alert_entry *e = entry_add(m, w, body, len, send);
    if (!e) return NULL;
    uint8_t key[32];
    pair_key(w->sender, w->forker, key);
    e->sigs = core_calloc(m->n, 64);
    e->signed_by = core_calloc(m->n, 1);
    if (!e->sigs || !e->signed_by || hashmap_put(&st->by_pair, key, st->len - 1) != 0)
        return NULL;
    e->next_ms = m->now_ms;
    if (send && m->n > 1 && !m->halted) {
        outbox_send(&m->out, ALEPH_TO_ALL, MSG_ALERT, body, len);
        e->next_ms = m->now_ms + m->cfg.anti_entropy_ms;
    }
    own_add_signature(m, e, m->secret.index, w->signature);
    if (send && !e->complete) take_pending_cert(m, e);
    return e;
}

static void receive_alert(aleph_member *m, uint32_t from, const uint8_t *body, size_t len)
{
    alert_wire w;
    const char *err = alert_decode(body, len, &m->limits, &w);
    if (err) {
        m->stats.alerts_invalid++;
        notice_drop(m, from, err);
        return;
    }
    alert_entry *known = entry_find(m, w.hash);
    if (known) {
        alert_again(m, from, known);
        return;
    }
    if (!proof_signed(m, &w)) {
        m->stats.alerts_invalid++;
        notice_drop(m, from, "alert with a bad signature");
        return;
    }
    if (w.sender == m->secret.index && !m->alerts.own_sent[w.forker]) {
        /* Its own alert, signed before a backup was lost: it stays its one alert about the
         * forker, rather than a second, different one. */
        own_keep(m, &w, body, len, 1);
        return;
    }
    learn_fork(m, w.forker, w.a.signature - w.a.signed_len, (uint32_t)w.a.len,
               w.b.signature - w.b.signed_len, (uint32_t)w.b.len, w.a.round);
    uint8_t key[32];
    pair_key(w.sender, w.forker, key);
    int first = !hashmap_get(&m->alerts.by_pair, key, NULL);
    int certified = 0;
    for (uint32_t i = 0; i < m->alerts.certs_len; i++)
        certified |= memcmp(m->alerts.certs[i].hash, w.hash, 32) == 0;
    if (!first && !certified) {
        /* A second alert of one sender about one forker: never signed, never kept. */
        m->stats.alerts_ignored++;
        return;
    }
    alert_entry *e = entry_add(m, &w, body, len, first);
    if (!e) return;
    if (first && hashmap_put(&m->alerts.by_pair, key, m->alerts.len - 1) == 0 && !m->halted)
        sign_for_sender(m, e);
    take_pending_cert(m, e);
}

static void receive_signature(aleph_member *m, uint32_t from, const uint8_t *body)
{
    alert_entry *e = entry_find(m, body);
    if (!e || e->sender != m->secret.index) {
        notice_drop(m, from, "signature for an alert this member did not send");
        return;
    }
    if (e->complete || e->signed_by[from]) return;
    if (!peer_signature_valid(m, e->hash, body + 32, from)) {
        m->stats.alerts_invalid++;
        notice_drop(m, from, "bad alert signature");
        return;
    }
    own_add_signature(m, e, from, body + 32);
}

static int cert_valid(const aleph_member *m, const cert_wire *c)
{
    for (uint32_t i = 0; i < c->count; i++)
        if (!peer_signature_valid(m, c->alert_hash, cert_signature(c, i), cert_signer(c, i)))
            return 0;
    return 1;
}

static void keep_cert(aleph_member *m, uint32_t from, const cert_wire *c, const uint8_t *body,
                      size_t len)
{
    alert_state *a = &m->alerts;
    for (uint32_t i = 0; i < a->certs_len; i++)
        if (memcmp(a->certs[i].hash, c->alert_hash, 32) == 0) return;
    if (a->certs_len >= ALERT_CERTS_PENDING_PER_MEMBER * m->n) return; /* asked again later */
    if (a->certs_len == a->certs_cap) {
        uint32_t cap = a->certs_cap ? a->certs_cap * 2 : 8;
        alert_pending_cert *grown = core_realloc(a->certs, cap * sizeof *grown);
        if (!grown) return;
        a->certs = grown;
        a->certs_cap = cap;
    }
    alert_pending_cert *p = &a->certs[a->certs_len];
    if (!(p->bytes = core_malloc(len))) return;
    memcpy(p->bytes, body, len);
    memcpy(p->hash, c->alert_hash, 32);
    p->len = (uint32_t)len;
    p->from = from;
    p->attempts = 0;
    p->next_ms = m->now_ms;
    a->certs_len++;
}

static void receive_cert(aleph_member *m, uint32_t from, const uint8_t *body, size_t len)
{
    cert_wire c;
    const char *err = cert_decode(body, len, m->n, m->q, &c);
    if (err) {
        m->stats.alerts_invalid++;
        notice_drop(m, from, err);
        return;
    }
    alert_entry *e = entry_find(m, c.alert_hash);
    if (e && e->complete) return;
    if (!cert_valid(m, &c)) {
        m->stats.alerts_invalid++;
        notice_drop(m, from, "certificate with a bad signature");
        return;
    }
    if (e)
        entry_complete(m, e, body, len);
    else
        keep_cert(m, from, &c, body, len);
}

static void receive_request(aleph_member *m, uint32_t from, const uint8_t *hash)
{
    alert_entry *e = entry_find(m, hash);
    if (!e || !may_serve(m, e, from)) return;
    outbox_send(&m->out, from, MSG_ALERT, e->bytes, e->len);
    if (e->complete) send_cert(m, from, e);
}

void alert_receive(aleph_member *m, uint32_t from, const message *msg)
{
    switch (msg->type) {
    case MSG_ALERT: receive_alert(m, from, msg->body, msg->body_len); break;
    case MSG_ALERT_SIGNATURE: receive_signature(m, from, msg->body); break;
    case MSG_ALERT_CERT: receive_cert(m, from, msg->body, msg->body_len); break;
    case MSG_REQUEST_ALERT: receive_request(m, from, msg->body); break;
    default: break;
    }
}

int alert_receive_kept(aleph_member *p, uint32_t from, const message *msg)
{
    alert_entry *e;
    switch (msg->type) {
    case MSG_ALERT_SIGNATURE: receive_signature(p, from, msg->body); return 1;
    case MSG_REQUEST_ALERT: receive_request(p, from, msg->body); return 1;
    case MSG_ALERT: {
        /* A new one only where p's memory holds every signature p gave (kept_signs_alerts:
         * what it signs now is in no backup, which takes no more records). */
        alert_wire w;
        if (alert_decode(msg->body, msg->body_len, &p->limits, &w) != NULL) return 0;
        e = entry_find(p, w.hash);
        if (e) {
            alert_again(p, from, e);
        } else {
            if (!p->kept_signs_alerts) return 0;
            receive_alert(p, from, msg->body, msg->body_len);
        }
        return 1;
    }
    case MSG_ALERT_CERT: {
        cert_wire c;
        if (cert_decode(msg->body, msg->body_len, p->n, p->q, &c) != NULL) return 0;
        e = entry_find(p, c.alert_hash);
        if (!e) return 0;
        if (!e->complete) receive_cert(p, from, msg->body, msg->body_len);
        return 1;
    }
    default: return 0;
    }
}

static uint64_t backoff_ms(const aleph_member *m, uint32_t attempts)
{
    uint32_t shift = attempts < ALERT_RESEND_SHIFT_MAX ? attempts : ALERT_RESEND_SHIFT_MAX;
    return (uint64_t)m->cfg.anti_entropy_ms << shift;
}

/* Own alerts go again to the members whose signature is missing; certificates without
 * their alert ask for it, first the peer that sent the certificate, then others in turn. */
void alert_tick(aleph_member *m)
{
    alert_state *a = &m->alerts;
    if (m->n == 1) return;
    for (uint32_t i = 0; i < a->len; i++) {
        alert_entry *e = a->items[i];
        if (e->sender != m->secret.index || e->complete || e->next_ms > m->now_ms) continue;
        for (uint32_t p = 0; p < m->n; p++)
            if (!e->signed_by[p]) outbox_send(&m->out, p, MSG_ALERT, e->bytes, e->len);
        e->next_ms = m->now_ms + backoff_ms(m, ++e->attempts);
    }
    for (uint32_t i = 0; i < a->certs_len; i++) {
        alert_pending_cert *p = &a->certs[i];
        if (p->next_ms > m->now_ms) continue;
        uint32_t to = p->attempts == 0 ? p->from : peer_random(m);
        outbox_send(&m->out, to, MSG_REQUEST_ALERT, p->hash, 32);
        p->next_ms = m->now_ms + backoff_ms(m, ++p->attempts);
    }
}

uint64_t alert_wake_ms(const aleph_member *m)
{
    const alert_state *a = &m->alerts;
    uint64_t at = UINT64_MAX;
    if (m->n == 1) return at;
    for (uint32_t i = 0; i < a->len; i++) {
        const alert_entry *e = a->items[i];
        if (e->sender == m->secret.index && !e->complete && e->next_ms < at) at = e->next_ms;
    }
    for (uint32_t i = 0; i < a->certs_len; i++)
        if (a->certs[i].next_ms < at) at = a->certs[i].next_ms;
    return at;
}

/* ---- restart: the backup's alert records ------------------------------------------------- */

static uint32_t pair_count(const aleph_member *m, uint32_t sender, uint32_t forker)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < m->alerts.len; i++)
        count += m->alerts.items[i]->sender == sender && m->alerts.items[i]->forker == forker;
    return count;
}

const char *alert_restore(aleph_member *m, const uint8_t *body, size_t len)
{
    alert_wire w;
    const char *err = alert_decode(body, len, &m->limits, &w);
    if (err) return err;
    if (entry_find(m, w.hash)) return NULL; /* restored already */
    if (!proof_signed(m, &w)) return "alert with a bad signature (or of another session)";
    uint8_t key[32];
    pair_key(w.sender, w.forker, key);
    int first = !hashmap_get(&m->alerts.by_pair, key, NULL);
    int own = w.sender == m->secret.index;
    /* What a running member keeps: one own alert per forker; of another sender the one it
     * signed and at most one more, which a certificate showed complete. */
    if (!first && pair_count(m, w.sender, w.forker) >= 2)
        return "a third alert of one sender about one forker";
    m->alerts.restored_fork[w.forker] = 1;
    if (own && first) {
        /* The own alert goes out again as it is, at the first tick, to every member whose
         * signature it lacks (all: signatures are not kept); peers that signed it sign
         * again, and those holding it complete send the certificate. */
        return own_keep(m, &w, body, len, 0) ? NULL : "out of memory";
    }
    /* (A second own alert is one signed before a lost backup and learnt back from a peer
     * after the member had made another: kept, like any sender's second, when certified.) */
    dag_mark_forker(m, w.forker, w.a.round);
    alert_entry *e = entry_add(m, &w, body, len, 0);
    if (!e || (first && hashmap_put(&m->alerts.by_pair, key, m->alerts.len - 1) != 0))
        return "out of memory";
    return NULL;
}

const char *alert_restore_cert(aleph_member *m, const uint8_t *body, size_t len)
{
    cert_wire c;
    const char *err = cert_decode(body, len, m->n, m->q, &c);
    if (err) return err;
    alert_entry *e = entry_find(m, c.alert_hash);
    if (!e) return "a certificate whose alert is not restored before it";
    if (e->complete) return NULL;
    if (!cert_valid(m, &c)) return "certificate with a bad signature";
    entry_complete(m, e, body, len);
    return e->complete ? NULL : "out of memory";
}

int alert_restore_admits(const aleph_member *m, const uint8_t hash[32], uint32_t creator,
                         uint32_t round)
{
    /* Own units enter from the creator, not through admission (a member that learnt that its
     * own key forked, after a lost backup, still adds what it creates). */
    return !m->alerts.restored_fork[creator] || creator == m->secret.index ||
           alert_committed(m, hash, creator, round);
}

/* Dissemination beyond the first broadcast (PROTOCOL.md section 6): requests for missing
 * units (first to the peer that showed the need, then to random peers with back-off) and the
 * periodic anti-entropy exchange of highest rounds, which heals lost messages, late joiners
 * and restarted members. Everything sent is bounded per message. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "crypto.h"
#include "member.h"
#include "message.h"

/* A request goes first to the peer that showed the need (it holds what is missing, if it is
 * honest), then to every other peer in turn, so that a unit only a few members hold (a
 * forker's variant) is found within one pass over the committee. */
#define REQUEST_ATTEMPTS_MIN 8u
#define REQUEST_BACKOFF_SHIFT_MAX 2u
/* Units sent in answer to one HIGHEST message: enough for several rounds of catch-up. */
#define ANTI_ENTROPY_ROUNDS_MAX 8u
/* Answers to REQUEST_PARENTS that also carry the parent units, per message. */
#define PARENTS_PUSH_MAX 2u
#define ANTI_ENTROPY_BYTES_MAX (2u * 1024u * 1024u)
/* Unit bytes pushed to one peer per second, on average: after an answer of B bytes the next
 * waits B / rate (at least half a period). A member far behind pulls ranges instead
 * (catchup.c, 64 MiB/s); pushes heal a peer a few rounds behind, and when units take longer
 * than a period to arrive (large units on busy links) they only send them twice. */
#define ANTI_ENTROPY_PUSH_BYTES_PER_S (4ull << 20)

static void slot_key(uint32_t creator, uint32_t round, uint8_t key[32])
{
    /* Unit hashes are uniform; a key with 24 zero bytes is not one of them in practice. */
    memset(key, 0, 32);
    key[0] = 's';
    put_uint(key + 1, creator, 4);
    put_uint(key + 5, round, 4);
}

static void parents_key(const uint8_t hash[32], uint8_t key[32])
{
    hash_tagged(key, "aleph/parents-request", hash, 32);
}

static uint32_t requests_max(const aleph_member *m)
{
    return 4u * m->cfg.pending_units_max + 4u * m->n;
}

static void request_add(aleph_member *m, uint8_t kind, const uint8_t key[32],
                        const uint8_t target[32], uint32_t creator, uint32_t round, uint32_t peer)
{
    request_set *rs = &m->requests;
    if (m->n == 1 || hashmap_get(&rs->by_key, key, NULL)) return;
    if (rs->len >= requests_max(m)) return; /* anti-entropy still heals what is not asked */
    if (rs->len == rs->cap) {
        uint32_t cap = rs->cap ? rs->cap * 2 : 64;
        request *grown = core_realloc(rs->items, cap * sizeof *grown);
        if (!grown) return;
        rs->items = grown;
        rs->cap = cap;
    }
    if (hashmap_put(&rs->by_key, key, rs->len) != 0) return;
    request *r = &rs->items[rs->len++];
    memcpy(r->key, key, 32);
    if (target) memcpy(r->target, target, 32);
    r->kind = kind;
    r->creator = creator;
    r->round = round;
    r->attempts = 0;
    r->next_ms = m->now_ms;
    r->origin = (peer == m->secret.index || peer >= m->n) ? peer_random(m) : peer;
}

static uint32_t request_attempts_max(const aleph_member *m)
{
    uint32_t pass = 2 * (m->n - 1) + 1;
    return pass > REQUEST_ATTEMPTS_MIN ? pass : REQUEST_ATTEMPTS_MIN;
}

/* Attempt k asks the origin on even k, and the k/2-th other peer after it on odd k. */
static uint32_t request_peer(const aleph_member *m, const request *r)
{
    if (r->attempts % 2 == 0) return r->origin;
    uint32_t step = 1 + (r->attempts / 2) % (m->n - 1);
    uint32_t p = (r->origin + step) % m->n;
    if (p == m->secret.index) p = (p + 1) % m->n;
    if (p == r->origin) p = (p + 1) % m->n;
    if (p == m->secret.index) p = (p + 1) % m->n;
    return p;
}

void sync_take_wants(aleph_member *m, want_list *wants)
{
    for (uint32_t i = 0; i < wants->len; i++) {
        const dag_want_item *w = &wants->items[i];
        uint8_t key[32];
        switch (w->kind) {
        case WANT_SLOT:
            if (catchup_covers(m, w->round)) break; /* a range brings it */
            slot_key(w->creator, w->round, key);
            request_add(m, REQ_SLOT, key, NULL, w->creator, w->round, w->peer);
            break;
        case WANT_PARENTS:
            parents_key(w->hash, key);
            request_add(m, REQ_PARENTS, key, w->hash, 0, 0, w->peer);
            break;
        case WANT_HASH: request_add(m, REQ_HASH, w->hash, w->hash, 0, 0, w->peer); break;
        default: ALEPH_ASSERT(0 && "unknown want kind");
        }
    }
    wants->len = 0;
}

static void request_remove(aleph_member *m, uint32_t index)
{
    request_set *rs = &m->requests;
    hashmap_remove(&rs->by_key, rs->items[index].key);
    rs->len--;
    if (index != rs->len) {
        rs->items[index] = rs->items[rs->len];
        hashmap_put(&rs->by_key, rs->items[index].key, index);
    }
}

void sync_free(aleph_member *m)
{
    core_free(m->requests.items);
    hashmap_free(&m->requests.by_key);
    memset(&m->requests, 0, sizeof m->requests);
}

static int request_satisfied(aleph_member *m, const request *r)
{
    switch (r->kind) {
    case REQ_SLOT: /* a range brings it (asked before the catch-up began) */
        return dag_first_in_slot(m, r->creator, r->round) != NONE || catchup_covers(m, r->round);
    case REQ_HASH: return dag_find(m, r->target) != NULL;
    default:
        /* Parents were asked for a pending unit: done once it left the buffer or got them. */
        return dag_pending_has_explicit(m, r->target) != 0;
    }
}

typedef struct due_request {
    uint32_t peer;
    uint8_t kind;
    uint32_t index;
} due_request;

static int compare_due(const void *a, const void *b)
{
    const due_request *x = a, *y = b;
    if (x->peer != y->peer) return x->peer < y->peer ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

static void send_request_group(aleph_member *m, const due_request *group, uint32_t count)
{
    uint8_t type = group[0].kind == REQ_SLOT      ? MSG_REQUEST_UNITS
                   : group[0].kind == REQ_PARENTS ? MSG_REQUEST_PARENTS
                                                  : MSG_REQUEST_HASHES;
    size_t entry = group[0].kind == REQ_SLOT ? 6 : 32;
    uint8_t *p = outbox_send_reserve(&m->out, group[0].peer, 3 + entry * count);
    if (!p) return;
    p[0] = type;
    put_uint(p + 1, count, 2);
    p += 3;
    for (uint32_t i = 0; i < count; i++, p += entry) {
        const request *r = &m->requests.items[group[i].index];
        if (r->kind == REQ_SLOT) {
            put_uint(p, r->creator, 2);
            put_uint(p + 2, r->round, 4);
        } else {
            memcpy(p, r->target, 32);
        }
    }
    m->stats.requests_sent += count;
}

/* Sends every request that is due, grouped into one message per (peer, kind), and forgets
 * the ones that were answered or asked too often (anti-entropy covers those). */
static void flush_requests(aleph_member *m)
{
    request_set *rs = &m->requests;
    for (uint32_t i = 0; i < rs->len;) {
        request *r = &rs->items[i];
        if (request_satisfied(m, r) || r->attempts >= request_attempts_max(m))
            request_remove(m, i);
        else
            i++;
    }
    due_request *due = NULL;
    uint32_t due_len = 0;
    for (uint32_t i = 0; i < rs->len; i++) {
        request *r = &rs->items[i];
        if (r->next_ms > m->now_ms) continue;
        if (!due && !(due = core_malloc(rs->len * sizeof *due))) return;
        due[due_len++] = (due_request){.peer = request_peer(m, r), .kind = r->kind, .index = i};
        uint32_t shift = r->attempts / 2 < REQUEST_BACKOFF_SHIFT_MAX ? r->attempts / 2
                                                                     : REQUEST_BACKOFF_SHIFT_MAX;
        r->attempts++;
        r->next_ms = m->now_ms + ((uint64_t)m->cfg.request_retry_ms << shift);
    }
    if (!due_len) return;
    qsort(due, due_len, sizeof *due, compare_due);
    for (uint32_t start = 0; start < due_len;) {
        uint32_t end = start;
        while (end < due_len && end - start < MSG_LIST_MAX && due[end].peer == due[start].peer &&
               due[end].kind == due[start].kind)
            end++;
        send_request_group(m, due + start, end - start);
        start = end;
    }
    core_free(due);
}

static void send_highest(aleph_member *m, uint32_t to)
{
    uint8_t *p = outbox_send_reserve(&m->out, to, 3 + 4 * (size_t)m->n);
    if (!p) return;
    p[0] = MSG_HIGHEST;
    put_uint(p + 1, m->n, 2);
    for (uint32_t c = 0; c < m->n; c++) put_uint(p + 3 + 4 * (size_t)c, m->dag.highest_plus1[c], 4);
}

void sync_send_highest(aleph_member *m, uint32_t to)
{
    send_highest(m, to);
}

int sync_anti_entropy_tick(aleph_member *m)
{
    if (m->n == 1 || m->now_ms < m->next_anti_entropy_ms) return 0;
    send_highest(m, peer_random(m));
    m->next_anti_entropy_ms = m->now_ms + m->cfg.anti_entropy_ms;
    return 1;
}

void sync_flush(aleph_member *m)
{
    if (m->n > 1) flush_requests(m);
}

uint64_t sync_wake_ms(const aleph_member *m)
{
    if (m->n == 1) return UINT64_MAX;
    uint64_t at = m->next_anti_entropy_ms;
    for (uint32_t i = 0; i < m->requests.len; i++)
        if (m->requests.items[i].next_ms < at) at = m->requests.items[i].next_ms;
    return at;
}

static void send_unit(aleph_member *m, uint32_t to, const unit *u)
{
    if (!u->bytes) return;            /* shed: every peer reported holding it */
    alert_before_unit_sent(m, to, u); /* a known forker's unit needs its certificate there */
    outbox_send(&m->out, to, MSG_UNIT, u->bytes, u->len);
}

static void send_slot(aleph_member *m, uint32_t to, uint32_t creator, uint32_t round)
{
    for (uint32_t id = dag_first_in_slot(m, creator, round); id != NONE;
         id = m->dag.units[id]->fork_next) {
        send_unit(m, to, m->dag.units[id]);
        if (m->dag.units[id]->bytes) m->stats.slot_answer_bytes += m->dag.units[id]->len;
    }
}

static void answer_parents(aleph_member *m, uint32_t to, const uint8_t hash[32], int push_units)
{
    const unit *u = dag_find(m, hash);
    if (!u || !u->parents) return;
    uint32_t count = 0;
    for (uint32_t c = 0; c < m->n; c++) count += u->parents[c] != NONE;
    uint8_t *p = outbox_send_reserve(&m->out, to, 1 + 32 + 2 + 32 * (size_t)count);
    if (!p) return;
    p[0] = MSG_PARENTS;
    memcpy(p + 1, hash, 32);
    put_uint(p + 33, count, 2);
    p += 35;
    for (uint32_t c = 0; c < m->n; c++) {
        uint32_t pid = dag_parent(m, u, c);
        if (pid == NONE) continue;
        memcpy(p, m->dag.units[pid]->hash, 32);
        p += 32;
    }
    /* Parents are asked for only when a fork is involved, and the asker will most likely
     * need a variant it lacks next: send the parent units too, saving a round trip. */
    if (!push_units) return;
    for (uint32_t c = 0; c < m->n; c++)
        if (dag_parent(m, u, c) != NONE) send_unit(m, to, m->dag.units[dag_parent(m, u, c)]);
}

/* Sends the units a peer lacks according to its highest rounds, lowest rounds first (so
 * they can enter its DAG in the order they arrive), a bounded amount at a time. */
static void answer_highest(aleph_member *m, uint32_t to, const message *msg)
{
    uint32_t lowest = UINT32_MAX, their_top = 0;
    int they_have_more = 0;
    for (uint32_t c = 0; c < m->n; c++) {
        uint32_t theirs = message_highest(msg, c), ours = m->dag.highest_plus1[c];
        shed_peer_reported(m, to, c, theirs);
        if (theirs < ours && theirs < lowest) lowest = theirs;
        if (theirs > ours) they_have_more = 1;
        if (theirs > their_top) their_top = theirs;
    }
    catchup_peer_reported(m, to, their_top);
    /* A peer far behind pulls ranges (catchup.c), one peer per range: pushing to it too
     * would send it every unit once per peer. It learns how far behind it is from our
     * HIGHEST. */
    if (catchup_peer_far_behind(m, their_top)) {
        lowest = UINT32_MAX;
        they_have_more = 1;
    }
    size_t bytes = 0;
    /* At most one batch of units per peer per half period, and ANTI_ENTROPY_PUSH_BYTES_PER_S
     * on average (highest_answer_ms: when the next may go): a HIGHEST of a few bytes must not
     * be a lever for making a member send megabytes over and over. */
    if (lowest != UINT32_MAX && m->now_ms >= m->highest_answer_ms[to]) {
        uint32_t last = lowest + ANTI_ENTROPY_ROUNDS_MAX;
        for (uint32_t r = lowest;
             r < m->dag.rounds_len && r < last && bytes < ANTI_ENTROPY_BYTES_MAX; r++) {
            for (uint32_t c = 0; c < m->n; c++) {
                if (message_highest(msg, c) > r) continue;
                for (uint32_t id = dag_first_in_slot(m, c, r); id != NONE;
                     id = m->dag.units[id]->fork_next) {
                    const unit *u = m->dag.units[id];
                    /* A unit that reached us within the last period is most likely still
                     * on its way to the peer by the normal broadcast: on long links,
                     * pushing it again only doubles the traffic. */
                    if (u->added_ms + m->cfg.anti_entropy_ms > m->now_ms) continue;
                    send_unit(m, to, u);
                    bytes += u->len;
                    m->stats.pushed_bytes += u->len;
                }
            }
        }
        uint64_t wait_ms = (uint64_t)bytes * 1000u / ANTI_ENTROPY_PUSH_BYTES_PER_S;
        if (wait_ms < m->cfg.anti_entropy_ms / 2) wait_ms = m->cfg.anti_entropy_ms / 2;
        m->highest_answer_ms[to] = m->now_ms + wait_ms;
    }
    if (they_have_more && m->now_ms >= m->highest_reply_ms[to] + m->cfg.anti_entropy_ms / 2) {
        m->highest_reply_ms[to] = m->now_ms;
        send_highest(m, to);
    }
}

void sync_receive(aleph_member *m, uint32_t from, const void *msg_)
{
    const message *msg = msg_;
    switch (msg->type) {
    case MSG_REQUEST_UNITS:
        for (uint32_t i = 0; i < msg->count; i++) {
            uint32_t c, r;
            message_slot(msg, i, &c, &r);
            if (c < m->n) send_slot(m, from, c, r);
        }
        break;
    case MSG_REQUEST_HASHES:
        for (uint32_t i = 0; i < msg->count; i++) {
            const unit *u = dag_find(m, message_hash(msg, i));
            if (u) send_unit(m, from, u);
        }
        break;
    case MSG_REQUEST_PARENTS:
        /* Units are pushed for the first few only: a request must not be a lever for
         * making a member send N units per 32 bytes asked. */
        for (uint32_t i = 0; i < msg->count; i++)
            answer_parents(m, from, message_hash(msg, i), i < PARENTS_PUSH_MAX);
        break;
    case MSG_PARENTS: dag_receive_parents(m, from, msg->body, msg->items, msg->count); break;
    case MSG_HIGHEST: answer_highest(m, from, msg); break;
    default: break;
    }
}

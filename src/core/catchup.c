/* Bulk catch-up (docs/PROTOCOL.md, "Catch-up in bulk"): a member far behind the committee
 * pulls ranges of rounds, many units per message, instead of climbing by requests for single
 * slots and anti-entropy pushes of 8 rounds (which every peer answered with the same units).
 *
 * Asking: the target is the (f+1)-th highest round any peer reported holding (HIGHEST,
 * OWN_ANSWER), so at least one honest member holds it. While the DAG's top is more than
 * CATCHUP_LAG_ROUNDS below it, the rounds from the DAG's top up are cut into chunks, each
 * asked of one peer that reported holding it (never the same chunk of two peers at once),
 * at most one chunk per peer in flight, within a window the waiting buffer can hold (chunks
 * answered out of order wait there for their parents). An answer that stops short (its byte
 * bound) is continued from where it stopped with the same peer; a chunk not answered in time,
 * or answered without progress, goes to another peer.
 *
 * Answering: the units of the rounds asked that the asker lacks by its vector, lowest round
 * first (so they enter its DAG in the order they come), at most RANGE_ANSWER_BYTES_MAX per
 * message, and at most RANGE_BYTES_PER_S per peer (a token bucket; a request over the rate is
 * answered empty, and the asker turns to another peer). Shed units are not served: every peer
 * reported holding them, the asker too (a restarted member from an intact backup has them). */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "member.h"
#include "message.h"

/* Behind by more than this many rounds: catch up by ranges, and peers stop pushing units by
 * anti-entropy (they push only to members less than twice this far behind). */
#define CATCHUP_LAG_ROUNDS 32u
#define CATCHUP_CHUNK_ROUNDS_MAX 128u
#define CATCHUP_CHUNK_ROUNDS_MIN 4u
/* Rounds below the DAG's top asked again at the start: units of slow creators. */
#define CATCHUP_BACK_ROUNDS 64u
#define RANGE_ANSWER_BYTES_MAX (4u << 20)
#define RANGE_BYTES_PER_S (64ull << 20)
#define RANGE_BURST_BYTES (2 * (int64_t)RANGE_ANSWER_BYTES_MAX)
/* A step this long after the previous one is a resume (a member wakes at least every
 * anti-entropy period): at least RESUME_GAP_MS_MIN and RESUME_GAP_PERIODS periods. The hold
 * that follows lasts at most RESUME_HOLD_PERIODS periods, at least RESUME_HOLD_MS_MIN. */
#define RESUME_GAP_MS_MIN 2000u
#define RESUME_GAP_PERIODS 10u
#define RESUME_HOLD_MS_MIN 4000u
#define RESUME_HOLD_PERIODS 20u

_Static_assert(RANGE_ANSWER_BYTES_MAX + ALEPH_PAYLOAD_BYTES_MAX + 1024u <= ALEPH_MESSAGE_BYTES_MAX,
               "an answer (one unit over its bound at most) fits a message");
_Static_assert(CATCHUP_CHUNK_ROUNDS_MAX <= RANGE_ROUNDS_MAX, "a chunk fits a request");

int catchup_init(aleph_member *m)
{
    catchup_state *cs = &m->catchup;
    memset(cs, 0, sizeof *cs);
    cs->peer_top = core_calloc(m->n, sizeof *cs->peer_top);
    cs->scratch = core_calloc(m->n, sizeof *cs->scratch);
    cs->tokens = core_calloc(m->n, sizeof *cs->tokens);
    cs->tokens_ms = core_calloc(m->n, sizeof *cs->tokens_ms);
    cs->chunks = core_calloc(m->n, sizeof *cs->chunks);
    cs->heard = core_calloc(m->n, sizeof *cs->heard);
    if (!cs->peer_top || !cs->scratch || !cs->tokens || !cs->tokens_ms || !cs->chunks ||
        !cs->heard)
        return -1;
    for (uint32_t p = 0; p < m->n; p++) cs->tokens[p] = RANGE_BURST_BYTES;
    return 0;
}

void catchup_free(aleph_member *m)
{
    catchup_state *cs = &m->catchup;
    core_free(cs->peer_top);
    core_free(cs->scratch);
    core_free(cs->tokens);
    core_free(cs->tokens_ms);
    core_free(cs->chunks);
    core_free(cs->heard);
    memset(cs, 0, sizeof *cs);
}

/* The value a descending sort of a[0..k) would put at index nth (nth < k), found by
 * selection (a is reordered): O(k) on average instead of a sort's O(k log k). */
static uint32_t nth_highest(uint32_t *a, uint32_t k, uint32_t nth)
{
    uint32_t lo = 0, hi = k; /* the answer lies in a[lo..hi) */
    for (;;) {
        uint32_t pivot = a[lo + (hi - lo) / 2], gt = lo, i = lo, lt = hi, t;
        /* three ways: a[lo..gt) > pivot, a[gt..lt) == pivot, a[lt..hi) < pivot */
        while (i < lt) {
            if (a[i] > pivot) {
                t = a[gt], a[gt++] = a[i], a[i++] = t;
            } else if (a[i] < pivot) {
                t = a[--lt], a[lt] = a[i], a[i] = t;
            } else {
                i++;
            }
        }
        if (nth < gt) hi = gt;
        else if (nth >= lt) lo = lt;
        else return pivot;
    }
}

void catchup_peer_reported(aleph_member *m, uint32_t peer, uint32_t top_plus1)
{
    catchup_state *cs = &m->catchup;
    if (peer >= m->n || peer == m->secret.index || top_plus1 <= cs->peer_top[peer]) return;
    cs->peer_top[peer] = top_plus1;
    cs->target_dirty = 1;
}

/* The (f+1)-th highest report: a faulty peer alone cannot make a member wait for rounds that
 * do not exist. A creator's validly signed unit of round r is a report too: it held every
 * round below (so a restarted member learns the committee's round from the first units that
 * reach it, before any HIGHEST). */
static void update_target(aleph_member *m)
{
    catchup_state *cs = &m->catchup;
    for (uint32_t c = 0; c < m->n; c++) catchup_peer_reported(m, c, m->pending.seen_plus1[c]);
    if (!cs->target_dirty) return;
    cs->target_dirty = 0;
    /* Only reports above the target can raise it: it rises when f+1 of them do, to the
     * (f+1)-th highest of them (the (f+1)-th highest of all). */
    uint32_t k = 0;
    for (uint32_t p = 0; p < m->n; p++)
        if (p != m->secret.index && cs->peer_top[p] > cs->target) cs->scratch[k++] = cs->peer_top[p];
    if (m->f < k) cs->target = nth_highest(cs->scratch, k, m->f);
}

static uint64_t periods_ms(const aleph_member *m, uint32_t periods, uint32_t min_ms)
{
    uint64_t t = (uint64_t)periods * m->cfg.anti_entropy_ms;
    return t < min_ms ? min_ms : t;
}

/* What a resumed member reads first is what its peers sent while it was stopped (socket
 * buffers: units, HIGHESTs, requests of the pause's first seconds), then their newest units;
 * until it knows the committee's round, every unit with a missing parent would start
 * single-slot requests (thousands per second at N = 7), each answered with units on the
 * committee's cores, for units the ranges bring anyway. So single slots wait, and it asks
 * every peer the own check's query: an answer can only be to this query (a stale HIGHEST in
 * the buffers could be taken for a fresh one), it comes after the stale bytes, and it tells
 * the peer's top, so f+1 of them mean the member has heard the committee's round. */
void catchup_clock(aleph_member *m, uint64_t now_ms)
{
    catchup_state *cs = &m->catchup;
    if (m->n > 1 && cs->stepped && !m->own_check &&
        now_ms > m->now_ms + periods_ms(m, RESUME_GAP_PERIODS, RESUME_GAP_MS_MIN)) {
        cs->holding = 1;
        cs->hold_announce = 1;
        cs->hold_until_ms = now_ms + periods_ms(m, RESUME_HOLD_PERIODS, RESUME_HOLD_MS_MIN);
        memset(cs->heard, 0, m->n * sizeof *cs->heard);
        cs->heard_count = 0;
        m->stats.resumes++;
    }
    cs->stepped = 1;
}

void catchup_resume_answer(aleph_member *m, uint32_t peer, uint32_t top_plus1)
{
    catchup_state *cs = &m->catchup;
    if (!cs->holding || m->own_check || peer >= m->n || peer == m->secret.index || cs->heard[peer])
        return;
    cs->heard[peer] = 1;
    cs->heard_count++;
    catchup_peer_reported(m, peer, top_plus1);
}

/* The hold ends once the pull started (the ranges bring what is missing), f+1 peers told
 * their tops since the resume without the member being far behind (single requests are then
 * the right tool), or at its deadline (liveness: waiting units ask again by anti-entropy). */
static void update_hold(aleph_member *m)
{
    catchup_state *cs = &m->catchup;
    if (!cs->holding) return;
    if (cs->hold_announce) {
        cs->hold_announce = 0;
        for (uint32_t p = 0; p < m->n; p++)
            if (p != m->secret.index) outbox_send(&m->out, p, MSG_OWN_QUERY, NULL, 0);
    }
    if (cs->active || cs->heard_count > m->f || m->now_ms >= cs->hold_until_ms) cs->holding = 0;
}

int catchup_active(const aleph_member *m)
{
    return m->catchup.active;
}

int catchup_covers(const aleph_member *m, uint32_t round)
{
    /* No upper bound: the target is what peers reported a while ago, and the committee's
     * newest units (their parents above the target) would otherwise start a chain of
     * single-slot requests down to it; the ranges reach them as the target grows. */
    if (m->catchup.holding) return 1; /* any round: the pull starts below the top too */
    return m->catchup.active && round >= m->dag.rounds_len;
}

int catchup_peer_far_behind(const aleph_member *m, uint32_t their_top_plus1)
{
    return m->dag.rounds_len > their_top_plus1 + 2 * CATCHUP_LAG_ROUNDS;
}

/* Rounds that may be in flight above the DAG's top: chunks answered out of order wait in
 * the buffer, whose share per creator is max(8, pending_units_max / N) units. */
static uint32_t window_rounds(const aleph_member *m)
{
    uint32_t share = m->cfg.pending_units_max / m->n;
    if (share < 8) share = 8;
    uint32_t w = share / 2;
    return w < CATCHUP_CHUNK_ROUNDS_MIN ? CATCHUP_CHUNK_ROUNDS_MIN : w;
}

static uint32_t chunk_rounds(const aleph_member *m)
{
    uint32_t c = window_rounds(m) / (m->n - 1);
    if (c > CATCHUP_CHUNK_ROUNDS_MAX) c = CATCHUP_CHUNK_ROUNDS_MAX;
    return c < CATCHUP_CHUNK_ROUNDS_MIN ? CATCHUP_CHUNK_ROUNDS_MIN : c;
}

/* Long: an answer of megabytes on a busy machine takes a while to be sent and processed, and
 * asking another peer early only doubles the bytes; a dead peer costs this once per chunk. */
static uint64_t timeout_ms(const aleph_member *m)
{
    uint64_t t = 10 * (uint64_t)m->cfg.anti_entropy_ms;
    return t < 2000 ? 2000 : t;
}

static int peer_busy(const catchup_state *cs, uint32_t peer)
{
    for (uint32_t i = 0; i < cs->chunks_len; i++)
        if (cs->chunks[i].peer == peer) return 1;
    return 0;
}

/* The next peer in turn, other than `not`, that reported holding round `lo` and has no chunk
 * in flight; NONE when there is none. */
static uint32_t pick_peer(aleph_member *m, uint32_t lo, uint32_t not)
{
    catchup_state *cs = &m->catchup;
    for (uint32_t k = 0; k < m->n; k++) {
        uint32_t p = (cs->peer_next + k) % m->n;
        if (p == m->secret.index || p == not || cs->peer_top[p] <= lo || peer_busy(cs, p))
            continue;
        cs->peer_next = (p + 1) % m->n;
        return p;
    }
    return NONE;
}

static void send_range(aleph_member *m, catchup_chunk *ch)
{
    uint8_t *p = outbox_send_reserve(&m->out, ch->peer, 11 + 4 * (size_t)m->n);
    ch->deadline_ms = m->now_ms + timeout_ms(m);
    ch->asked = 1;
    if (!p) return; /* counted by the outbox; the timeout asks again */
    p[0] = MSG_REQUEST_RANGE;
    put_uint(p + 1, ch->lo, 4);
    put_uint(p + 5, ch->hi, 4);
    put_uint(p + 9, m->n, 2);
    for (uint32_t c = 0; c < m->n; c++)
        put_uint(p + 11 + 4 * (size_t)c, m->dag.highest_plus1[c], 4);
    m->stats.range_requests_sent++;
}

static void chunk_remove(catchup_state *cs, uint32_t i)
{
    cs->chunks[i] = cs->chunks[--cs->chunks_len];
}

/* Starts or ends the catch-up as the DAG's top compares to the target. */
static void update_active(aleph_member *m)
{
    catchup_state *cs = &m->catchup;
    uint32_t top = m->dag.rounds_len;
    int behind = cs->target > top + CATCHUP_LAG_ROUNDS;
    if (behind && !cs->active) {
        cs->active = 1;
        cs->chunks_len = 0;
        uint32_t lo = UINT32_MAX;
        for (uint32_t c = 0; c < m->n; c++)
            if (m->dag.highest_plus1[c] < lo) lo = m->dag.highest_plus1[c];
        uint32_t back = top > CATCHUP_BACK_ROUNDS ? top - CATCHUP_BACK_ROUNDS : 0;
        cs->next_lo = lo > back ? lo : back;
    } else if (!behind && cs->active) {
        cs->active = 0;
        cs->chunks_len = 0; /* late answers still bring units; the rest is anti-entropy's */
    }
}

void catchup_tick(aleph_member *m)
{
    catchup_state *cs = &m->catchup;
    if (m->n == 1) return;
    update_target(m);
    update_active(m);
    update_hold(m);
    if (!cs->active) return;
    for (uint32_t i = 0; i < cs->chunks_len; i++) {
        catchup_chunk *ch = &cs->chunks[i];
        if (m->now_ms < ch->deadline_ms) continue;
        if (ch->asked) {
            /* Not answered in time (or answered without progress): another peer, if one is
             * free; else the same one again (the request may have been lost). */
            m->stats.range_timeouts++;
            uint32_t other = pick_peer(m, ch->lo, ch->peer);
            if (other != NONE) ch->peer = other;
        }
        send_range(m, ch); /* a continuation goes to the peer that answered */
    }
    /* Nothing in flight and the top below what was handed out: some unit did not come (a
     * peer claimed rounds it did not send, or a waiting unit was evicted): cut again from
     * the top, since single-slot requests there are left to the ranges. */
    if (cs->chunks_len == 0 && cs->next_lo > m->dag.rounds_len) cs->next_lo = m->dag.rounds_len;
    uint32_t limit = m->dag.rounds_len + window_rounds(m), size = chunk_rounds(m);
    while (cs->chunks_len < m->n - 1 && cs->next_lo < cs->target && cs->next_lo < limit) {
        uint32_t peer = pick_peer(m, cs->next_lo, NONE);
        if (peer == NONE) break;
        catchup_chunk *ch = &cs->chunks[cs->chunks_len++];
        ch->lo = cs->next_lo;
        ch->hi = cs->target - cs->next_lo > size ? cs->next_lo + size : cs->target;
        ch->peer = peer;
        send_range(m, ch);
        cs->next_lo = ch->hi;
    }
}

uint64_t catchup_wake_ms(const aleph_member *m)
{
    const catchup_state *cs = &m->catchup;
    uint64_t at = cs->holding ? cs->hold_until_ms : UINT64_MAX;
    if (!cs->active) return at;
    for (uint32_t i = 0; i < cs->chunks_len; i++)
        if (cs->chunks[i].deadline_ms < at) at = cs->chunks[i].deadline_ms;
    return at;
}

/* An answer from `from` to the chunk it was asked for: continue, finish, or (no progress)
 * ask another peer after a short pause. */
static void answered(aleph_member *m, uint32_t from, uint32_t lo, uint32_t next)
{
    catchup_state *cs = &m->catchup;
    for (uint32_t i = 0; i < cs->chunks_len; i++) {
        catchup_chunk *ch = &cs->chunks[i];
        if (ch->peer != from || ch->lo != lo || !ch->asked) continue;
        if (next > ch->lo) {
            ch->lo = next < ch->hi ? next : ch->hi;
            if (ch->lo >= ch->hi) {
                chunk_remove(cs, i);
                return;
            }
            ch->asked = 0; /* continued with the same peer at once (catchup_tick) */
            ch->deadline_ms = m->now_ms;
        } else {
            ch->deadline_ms = m->now_ms + m->cfg.request_retry_ms; /* then another peer */
        }
        return;
    }
}

static void receive_units(aleph_member *m, uint32_t from, const message *msg)
{
    size_t offset = 0, len;
    const uint8_t *u;
    while (message_units_next(msg, &offset, &u, &len)) {
        m->stats.range_units_received++;
        dag_receive_unit(m, u, len, from);
    }
    if (m->catchup.active) answered(m, from, msg->range_lo, msg->range_hi);
}

/* Walks the units a range answer holds, in the order sent; `write` NULL: only measures.
 * Returns the count and sets *bytes and *next. */
static uint32_t range_units(aleph_member *m, uint32_t to, const message *msg, uint8_t *write,
                            size_t *bytes, uint32_t *next)
{
    uint32_t count = 0;
    *bytes = 0;
    uint32_t hi = msg->range_hi < m->dag.rounds_len ? msg->range_hi : m->dag.rounds_len;
    *next = hi > msg->range_lo ? hi : msg->range_lo;
    for (uint32_t r = msg->range_lo; r < hi; r++) {
        for (uint32_t c = 0; c < m->n; c++) {
            if (r < message_highest(msg, c)) continue;
            for (uint32_t id = dag_first_in_slot(m, c, r); id != NONE;
                 id = m->dag.units[id]->fork_next) {
                const unit *u = m->dag.units[id];
                if (!u->bytes) continue; /* shed: every peer reported holding it */
                if (count == UNITS_PER_MESSAGE_MAX ||
                    (count && *bytes + 4 + u->len > RANGE_ANSWER_BYTES_MAX)) {
                    *next = r; /* the asker's vector then skips what it got of round r */
                    return count;
                }
                if (write) {
                    put_uint(write + *bytes, u->len, 4);
                    memcpy(write + *bytes + 4, u->bytes, u->len);
                } else {
                    alert_before_unit_sent(m, to, u); /* a forker's certificate goes first */
                }
                *bytes += 4 + (size_t)u->len;
                count++;
            }
        }
    }
    return count;
}

static void answer_range(aleph_member *m, uint32_t from, const message *msg)
{
    catchup_state *cs = &m->catchup;
    uint64_t elapsed = m->now_ms - cs->tokens_ms[from];
    cs->tokens_ms[from] = m->now_ms;
    int64_t refill = (int64_t)(elapsed > 60000 ? 60000 : elapsed) * (int64_t)(RANGE_BYTES_PER_S / 1000);
    cs->tokens[from] = cs->tokens[from] + refill > RANGE_BURST_BYTES ? RANGE_BURST_BYTES
                                                                      : cs->tokens[from] + refill;
    size_t bytes = 0;
    uint32_t next = msg->range_lo, count = 0;
    if (cs->tokens[from] > 0)
        count = range_units(m, from, msg, NULL, &bytes, &next);
    else
        m->stats.range_requests_refused++;
    uint8_t *p = outbox_send_reserve(&m->out, from, 11 + bytes);
    if (!p) return;
    p[0] = MSG_UNITS;
    put_uint(p + 1, msg->range_lo, 4);
    put_uint(p + 5, next, 4);
    put_uint(p + 9, count, 2);
    if (count) {
        size_t written;
        uint32_t next_again, again = range_units(m, from, msg, p + 11, &written, &next_again);
        ALEPH_ASSERT(again == count && written == bytes && next_again == next);
        cs->tokens[from] -= (int64_t)bytes;
        m->stats.range_requests_served++;
    }
}

void catchup_receive(aleph_member *m, uint32_t from, const void *msg_)
{
    const message *msg = msg_;
    if (msg->type == MSG_REQUEST_RANGE)
        answer_range(m, from, msg);
    else if (msg->type == MSG_UNITS)
        receive_units(m, from, msg);
}

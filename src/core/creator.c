/* Creating own units (PROTOCOL.md section 3). Round r > 0 is made once the own unit of r-1
 * and units of r-1 from at least q creators that are not known forkers are held, the
 * minimum delay since the last own unit has passed, and either every such creator's unit of
 * r-1 is in or the extra wait for more parents is over. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "member.h"
#include "message.h"

/* Creators (not known forkers) with a unit of `round` in the DAG, and how many could have. */
static uint32_t usable_creators(const aleph_member *m, uint32_t round, uint32_t *possible)
{
    if (m->dag.forks_len == 0) {
        *possible = m->n;
        return round < m->dag.rounds_len ? m->dag.rounds[round].creators_present : 0;
    }
    uint32_t present = 0, candidates = 0;
    for (uint32_t c = 0; c < m->n; c++) {
        if (m->dag.forker[c] && c != m->secret.index) continue;
        candidates++;
        if (dag_first_in_slot(m, c, round) != NONE) present++;
    }
    *possible = candidates;
    return present;
}

/* Whether creator c's unit of `round` is missing and usually arrives within `bound_ms` after
 * the own quorum (waiting in vain only slows the round). */
static int expected_within(const aleph_member *m, uint32_t c, uint32_t round, uint32_t bound_ms)
{
    if (c == m->secret.index || m->dag.forker[c]) return 0;
    if (dag_first_in_slot(m, c, round) != NONE) return 0;
    return m->lag_ms[c] <= bound_ms;
}

static int expected_soon(const aleph_member *m, uint32_t c, uint32_t round)
{
    return expected_within(m, c, round, m->cfg.candidate_wait_ms_max);
}

/* Whether the next unit (round prev+1) is that round's first candidate and a unit of round
 * prev that usually comes within head_parent_wait_ms_max is missing: the head of prev+1 has
 * the units of prev below it that its batch outputs; a unit that misses it waits one batch
 * more (docs/PROTOCOL.md, "The head's parents"). */
static int head_parent_wait(const aleph_member *m, uint32_t prev)
{
    uint32_t bound = m->cfg.head_parent_wait_ms_max;
    if (bound == 0 || config_default_creator(m, prev + 1) != m->secret.index) return 0;
    for (uint32_t c = 0; c < m->n; c++)
        if (expected_within(m, c, prev, bound)) return 1;
    return 0;
}

/* The fast path (docs/PROTOCOL.md): whether the next unit, made from the units of `prev`, is
 * worth a bounded wait so that (a) it carries round prev's first candidate (the unit of its
 * default creator), which then gets the d = 1 votes of a quorum, or (b) fewer than q of its
 * round-prev parents carry round prev-1's first candidate, and a unit that may is due. */
static int fast_path_wait(const aleph_member *m, uint32_t prev)
{
    if (expected_soon(m, config_default_creator(m, prev), prev)) return 1;
    if (prev == 0) return 0;
    uint32_t c_prev = config_default_creator(m, prev - 1);
    uint32_t first = dag_first_in_slot(m, c_prev, prev - 1);
    if (first == NONE) return 0;
    uint32_t carriers = 0, due = 0;
    for (uint32_t c = 0; c < m->n; c++) {
        uint32_t id = dag_first_in_slot(m, c, prev);
        if (id != NONE) {
            /* A shed unit (already ordered: a member far behind in its own rounds) has no
             * parent list; it is no carrier worth waiting for. */
            const unit *u = m->dag.units[id];
            carriers += u->parents && dag_parent(m, u, c_prev) == first;
        }
        else
            due |= expected_soon(m, c, prev);
    }
    return carriers < m->q && due;
}

/* Measures, for the round whose quorum came last time, how late after that quorum every
 * creator's unit arrived (a unit still missing counts as late as now), into a running mean. */
static void lag_update(aleph_member *m)
{
    if (!m->lag_quorum_ms) return;
    for (uint32_t c = 0; c < m->n; c++) {
        if (c == m->secret.index || m->dag.forker[c]) continue;
        uint32_t id = dag_first_in_slot(m, c, m->lag_round);
        uint64_t at = id != NONE ? m->dag.units[id]->added_ms : m->now_ms;
        uint64_t lag = at > m->lag_quorum_ms ? at - m->lag_quorum_ms : 0;
        if (lag > 60000) lag = 60000;
        m->lag_ms[c] = (uint32_t)((3 * (uint64_t)m->lag_ms[c] + lag) / 4);
    }
}

static int idle(const aleph_member *m)
{
    return m->pool.used == 0 && carry_bytes_left(m) == 0 && m->dag.unordered_with_payload == 0;
}

/* The pacing follows the load: the idle pace when no transaction waits anywhere (an empty unit
 * orders nothing); no delay when a full unit's worth of transactions waits in the pool
 * (waiting would only add latency, the unit is full anyway); otherwise the minimum delay,
 * which bounds how many mostly empty units a lightly loaded member makes per second. */
static uint64_t pace_ms(const aleph_member *m)
{
    if (idle(m)) return m->cfg.round_delay_ms_idle;
    if (m->pool.used + carry_bytes_left(m) >= m->cfg.unit_bytes_max) return 0;
    return m->cfg.round_delay_ms_min;
}

/* A member far behind in its own rounds (the DAG holds a quorum of units more than
 * JUMP_ROUNDS_MIN rounds above its newest own unit) resumes at the committee's round: the
 * highest round whose previous round holds q usable units, with its newest own unit as own
 * parent (PROTOCOL.md, "Catch-up in bulk"). Returns that round, or 0 when not far behind. */
#define JUMP_ROUNDS_MIN 8u

static uint32_t jump_round(const aleph_member *m)
{
    if (m->own_round < 0 || m->dag.rounds_len <= (uint32_t)m->own_round + 1 + JUMP_ROUNDS_MIN)
        return 0;
    uint32_t top = m->dag.rounds_len;
    if (m->cfg.rounds_max && top > m->cfg.rounds_max) top = m->cfg.rounds_max;
    for (uint32_t r = top; r > (uint32_t)m->own_round + 1 + JUMP_ROUNDS_MIN; r--) {
        uint32_t possible;
        if (usable_creators(m, r - 1, &possible) >= m->q) return r;
    }
    return 0;
}

/* Earliest time the next own unit may be created, UINT64_MAX when it waits for units. */
uint64_t creator_wake_ms(const aleph_member *m)
{
    if (m->halted || m->cfg.observer) return UINT64_MAX;
    if (own_check_blocks(m) || m->epoch_done) return UINT64_MAX; /* epoch_done: no more in it */
    if (m->cfg.rounds_max && m->own_round >= (int32_t)m->cfg.rounds_max) return UINT64_MAX;
    if (m->own_round < 0) return m->now_ms;
    /* Far behind: catch up first (units made now would be stale), then jump. */
    if (catchup_active(m)) return UINT64_MAX;
    if (jump_round(m)) return m->own_created_ms + pace_ms(m) > m->now_ms
                                  ? m->own_created_ms + pace_ms(m)
                                  : m->now_ms;
    uint32_t prev = (uint32_t)m->own_round, possible;
    uint32_t present = usable_creators(m, prev, &possible);
    if (present < m->q) return UINT64_MAX;
    uint64_t delay = pace_ms(m);
    uint64_t at = m->own_created_ms + delay;
    if (present < possible && m->quorum_seen_ms) {
        uint64_t wait_until = m->quorum_seen_ms + m->cfg.parent_wait_ms_max;
        if (fast_path_wait(m, prev) &&
            m->quorum_seen_ms + m->cfg.candidate_wait_ms_max > wait_until)
            wait_until = m->quorum_seen_ms + m->cfg.candidate_wait_ms_max;
        if (head_parent_wait(m, prev) &&
            m->quorum_seen_ms + m->cfg.head_parent_wait_ms_max > wait_until)
            wait_until = m->quorum_seen_ms + m->cfg.head_parent_wait_ms_max;
        if (wait_until > at) at = wait_until;
    }
    return at;
}

/* An own unit's payload is at most max(a floor, UNIT_PAYLOAD_GROWTH x the largest payload of
 * its parents by other creators), within unit_bytes_max (PROTOCOL.md, "Unit payload bound"):
 * a backlog that piled up in one member (a paused process: its clients' transactions waited
 * in its sockets) goes out over several rounds instead of in a few units of unit_bytes_max
 * that every member must receive, hash, persist and order within one round. A load that
 * grows everywhere grows by the factor per round; the floor holds any one transaction. */
#define UNIT_PAYLOAD_GROWTH 4u
#define UNIT_PAYLOAD_FLOOR_DIV 8u

static size_t payload_bound(const aleph_member *m, uint32_t round, size_t parents_payload_max)
{
    size_t full = m->cfg.unit_bytes_max;
    if (round == 0) return full;
    size_t floor = full / UNIT_PAYLOAD_FLOOR_DIV;
    if (floor < (size_t)m->cfg.tx_bytes_max + 4) floor = (size_t)m->cfg.tx_bytes_max + 4;
    size_t bound = UNIT_PAYLOAD_GROWTH * parents_payload_max;
    if (bound < floor) bound = floor;
    return bound < full ? bound : full;
}

/* The parents of an own unit of `round` > 0, into m->scratch_*: the own last unit and every
 * other non-forking creator's highest below `round`. Returns their count, their hashes in
 * `hashes`, and in *payload_max the largest payload among the other creators' ones. */
static uint32_t choose_parents(aleph_member *m, uint32_t round, const uint8_t **hashes,
                               size_t *payload_max)
{
    uint32_t parents = 0;
    *payload_max = 0;
    for (uint32_t c = 0; c < m->n; c++) {
        uint32_t h = m->dag.highest_plus1[c], r, id;
        if (c == m->secret.index) {
            /* Our own last unit, always: even if another process signs with our key (then
             * we count as a forker too, and the slot may hold its unit first). */
            r = (uint32_t)m->own_round; /* round - 1, or older after a jump */
            id = m->own_last;
        } else {
            if (m->dag.forker[c] || h == 0) continue;
            /* The highest unit below `round`: late units of slow members still get in. */
            r = h - 1 < round - 1 ? h - 1 : round - 1;
            id = dag_first_in_slot(m, c, r);
        }
        if (id == NONE) continue;
        if (c != m->secret.index && m->dag.units[id]->payload_len > *payload_max)
            *payload_max = m->dag.units[id]->payload_len;
        m->scratch_creators[parents] = c;
        m->scratch_rounds[parents] = r;
        hashes[parents] = m->dag.units[id]->hash;
        parents++;
    }
    return parents;
}

/* Fills the draft's payload, signs it and adds the unit to the own DAG; NULL when out of
 * memory or rejected. The transactions go from the pool straight to their place in the
 * encoding, and the encoding's buffer becomes the DAG's copy of the unit: no copies in
 * between. Carried transactions first, all of them before any pooled one (EPOCH-API: the
 * node counts on that order for its durable acknowledgements). */
static unit *encode_own(aleph_member *m, unit_draft *d, size_t payload_max, size_t *len)
{
    d->payload_len = (uint32_t)payload_max;
    size_t cap = unit_encoded_len(d);
    uint8_t *buf = core_malloc(cap);
    if (!buf) {
        notice_out_of_memory(m, "creator: the own unit's encoding");
        return NULL;
    }
    uint8_t *payload = buf + unit_payload_offset(d);
    size_t taken = carry_take(m, payload, payload_max);
    if (carry_bytes_left(m) == 0)
        taken += pool_take(&m->pool, payload + taken, payload_max - taken);
    d->payload_len = (uint32_t)taken;
    d->payload = payload;
    *len = unit_encoded_len(d);
    uint8_t hash[32];
    unit_encode_signed(d, m->secret.sign_secret_key, buf, hash);
    if (*len < cap) {
        uint8_t *shrunk = core_realloc(buf, *len); /* in place: the payload was shorter */
        if (shrunk) buf = shrunk;
    }
    /* Into the own DAG first: it checks the unit like any other, so a unit that breaks a
     * rule is never sent. */
    unit *own = dag_add_own(m, buf, *len, hash);
    if (!own) core_free(buf);
    return own;
}

/* The own unit of `round` exists (it is in the DAG): the round is used, whatever follows. */
static void own_created(aleph_member *m, const unit *own, uint32_t round, size_t len)
{
    m->own_last = own->id;
    /* The DAG put it among the step's persists; the caller makes them durable before it
     * sends `messages`: never sent before it is durable. */
    m->out.persist_own = 1;
    m->own_round = (int32_t)round;
    m->own_created_ms = m->now_ms;
    m->quorum_seen_ms = 0;
    m->stats.units_created++;
    m->stats.round_created = round;
    if (m->halted) return; /* it could not be persisted (dag.c): never send it */
    /* Not sent when out of memory: the outbox counts it and peers will request the unit. */
    outbox_send(&m->out, ALEPH_TO_ALL, MSG_UNIT, own->bytes, len);
    aleph_notice n = {.kind = ALEPH_NOTICE_UNIT_CREATED,
                      .creator = m->secret.index,
                      .round = round,
                      .peer = NONE};
    memcpy(n.hash, own->hash, 32);
    outbox_notice(&m->out, &n);
}

static void create(aleph_member *m, uint32_t round)
{
    /* One own unit per round: above the last own one (the next, or a jump). */
    ALEPH_ASSERT((int64_t)round > (int64_t)m->own_round);
    ALEPH_ASSERT(round == 0 || m->own_round >= 0);
    uint32_t parents = 0;
    size_t parents_payload_max = 0; /* other creators' parents only */
    const uint8_t *hashes[ALEPH_MEMBERS_MAX];
    uint8_t control[32];
    if (round > 0) {
        lag_update(m);
        m->lag_round = round - 1;
        m->lag_quorum_ms = m->quorum_seen_ms;
        parents = choose_parents(m, round, hashes, &parents_payload_max);
        unit_control_hash(hashes, parents, control);
    }
    uint8_t share[ALEPH_COIN_SHARE_BYTES];
    int with_share = coin_share_for(m, round, share);
    if (with_share < 0) {
        notice_halt(m, round, m->secret.index, NONE, NULL,
                    "cannot create a coin share: bad coin key");
        return;
    }
    unit_draft d = {.session = m->cfg.session,
                    .creator = m->secret.index,
                    .round = round,
                    .parents_len = parents,
                    .parent_creators = m->scratch_creators,
                    .parent_rounds = m->scratch_rounds,
                    .control_hash = round > 0 ? control : NULL,
                    .coin_share = with_share ? share : NULL};
    size_t avail = m->pool.used + carry_bytes_left(m);
    size_t bound = payload_bound(m, round, parents_payload_max);
    size_t len = 0;
    unit *own = encode_own(m, &d, avail < bound ? avail : bound, &len);
    if (!own) {
        notice_halt(m, round, m->secret.index, NONE, NULL,
                    "own unit rejected by the own DAG (out of memory?)");
        return;
    }
    own_created(m, own, round, len);
}

/* Creates at most one unit per call, so that a committee with no delays still returns to
 * its caller between rounds. */
void creator_try(aleph_member *m)
{
    uint64_t at = creator_wake_ms(m);
    if (at == UINT64_MAX) return;
    if (m->own_round >= 0 && !m->quorum_seen_ms) {
        /* Quorum of parents just reached: the extra wait for more starts now. */
        m->quorum_seen_ms = m->now_ms;
        at = creator_wake_ms(m);
    }
    if (at > m->now_ms) return;
    uint32_t jump = jump_round(m);
    create(m, jump ? jump : (uint32_t)(m->own_round + 1));
}

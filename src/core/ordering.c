/* Ordering (PROTOCOL.md section 4): every member computes heads and batches from its own DAG
 * alone. One election runs at a time, for the lowest round without a head; it evaluates the
 * candidates in the committee-wide order, and the first decided 1, after every earlier one
 * is decided 0, is the head.
 *
 * Votes are memoised per candidate and unit: votes[d-1][round_pos] holds the state of the
 * unit at round r+d. A unit's vote depends only on its parents, which are fixed by its hash,
 * so a final state never changes; states that wait for a coin value are recomputed. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "crypto.h"
#include "member.h"

#define STATE_UNKNOWN (-1)
#define STATE_VOTE_MASK 1
#define STATE_VOTE_WAITS 2     /* the vote itself needs a coin value or a waiting parent */
#define STATE_DECISION_WAITS 4 /* the vote is final, whether it decides is not yet known */

enum { DECIDED_NOT_YET = -1 };

static void election_reset_votes(election *e)
{
    for (uint32_t i = 0; i < e->votes_rounds; i++) core_free(e->votes[i]);
    core_free(e->votes);
    core_free(e->votes_len);
    core_free(e->final_upto);
    e->votes = NULL;
    e->votes_len = NULL;
    e->final_upto = NULL;
    e->votes_rounds = 0;
}

static void election_clear(election *e)
{
    election_reset_votes(e);
    core_free(e->candidates);
    core_free(e->deciders);
    memset(e, 0, sizeof *e);
}

void ordering_free(aleph_member *m)
{
    election_clear(&m->election);
}

/* CommonVote(U0, R) for a voter at depth d: 0, 1, or -1 when coin(R+1) is not known yet. */
static int common_vote(aleph_member *m, const unit *u0, uint32_t d, uint32_t voter_round)
{
    if (d == 2) return 1;
    if (d == 3) return 0;
    if (d == 4) return 1;
    if (m->cfg.coin_mode == ALEPH_COIN_OFF) return (d & 1) ? 1 : 0;
    uint8_t coin[32], h[32];
    if (!coin_value(m, voter_round + 1, coin)) return -1;
    hash_tagged2(h, "aleph/common-vote", coin, 32, u0->hash, 32);
    return h[0] & 1;
}

static int8_t *votes_row(election *e, uint32_t d, uint32_t units_in_round)
{
    if (d > e->votes_rounds) {
        int8_t **rows = core_realloc(e->votes, d * sizeof *rows);
        if (rows) e->votes = rows;
        uint32_t *lens = core_realloc(e->votes_len, d * sizeof *lens);
        if (lens) e->votes_len = lens;
        uint32_t *finals = core_realloc(e->final_upto, d * sizeof *finals);
        if (finals) e->final_upto = finals;
        if (!rows || !lens || !finals) return NULL;
        for (uint32_t i = e->votes_rounds; i < d; i++) {
            e->votes[i] = NULL;
            e->votes_len[i] = 0;
            e->final_upto[i] = 0;
        }
        e->votes_rounds = d;
    }
    if (e->votes_len[d - 1] < units_in_round) {
        uint32_t cap = units_in_round * 2;
        int8_t *grown = core_realloc(e->votes[d - 1], cap);
        if (!grown) return NULL;
        memset(grown + e->votes_len[d - 1], STATE_UNKNOWN, cap - e->votes_len[d - 1]);
        e->votes[d - 1] = grown;
        e->votes_len[d - 1] = cap;
    }
    return e->votes[d - 1];
}

/* Computes the state of unit u (round r+d) about u0; returns the value u decides, or
 * DECIDED_NOT_YET. */
static int evaluate(aleph_member *m, election *e, const unit *u0, const unit *u, uint32_t d,
                    int8_t *state)
{
    if (d == 1) {
        *state = (int8_t)(dag_parent(m, u, u0->creator) == u0->id ? 1 : 0);
        return DECIDED_NOT_YET;
    }
    const int8_t *below = e->votes[d - 2];
    uint32_t count[2] = {0, 0}, waiting = 0;
    for (uint32_t j = 0; j < m->n; j++) {
        uint32_t pid = dag_parent(m, u, j);
        if (pid == NONE) continue;
        const unit *p = m->dag.units[pid];
        if (p->round + 1 != u->round) continue; /* older parents never count */
        int8_t s = below[p->round_pos];
        if (s == STATE_UNKNOWN || (s & STATE_VOTE_WAITS))
            waiting++;
        else
            count[s & STATE_VOTE_MASK]++;
    }
    int cv = common_vote(m, u0, d, u->round);
    int vote;
    if (count[0] > 0 && count[1] > 0)
        vote = cv; /* mixed: the common vote */
    else if (waiting > 0)
        vote = -1; /* may still turn out mixed */
    else
        vote = count[1] > 0 ? 1 : 0; /* unanimous */

    int decided = DECIDED_NOT_YET;
    int decision_final = 0;
    if (cv >= 0) {
        if (count[cv] >= m->q)
            decided = cv, decision_final = 1;
        else if (waiting == 0)
            decision_final = 1;
    }
    if (vote < 0)
        *state = STATE_VOTE_WAITS;
    else
        *state = (int8_t)(vote | (decision_final ? 0 : STATE_DECISION_WAITS));
    return decided;
}

/* Decides u0 as far as the DAG allows: 0 or 1 (and the deciding unit's id), or
 * DECIDED_NOT_YET. */
static int decide(aleph_member *m, election *e, const unit *u0, uint32_t *depth,
                  uint32_t *decider)
{
    const dag *g = &m->dag;
    for (uint32_t round = e->round + 1; round < g->rounds_len; round++) {
        uint32_t d = round - e->round;
        const round_index *ri = &g->rounds[round];
        int8_t *row = votes_row(e, d, ri->units_len);
        if (!row) {
            notice_out_of_memory(m, "ordering: a row of votes (tried again when the DAG grows)");
            return DECIDED_NOT_YET;
        }
        uint32_t *final_upto = &e->final_upto[d - 1];
        for (uint32_t pos = *final_upto; pos < ri->units_len; pos++) {
            int8_t s = row[pos];
            int final = s != STATE_UNKNOWN && !(s & (STATE_VOTE_WAITS | STATE_DECISION_WAITS));
            if (!final) {
                int v = evaluate(m, e, u0, g->units[ri->units[pos]], d, &row[pos]);
                if (v != DECIDED_NOT_YET) {
                    *depth = d;
                    *decider = ri->units[pos];
                    return v;
                }
                s = row[pos];
                final = !(s & (STATE_VOTE_WAITS | STATE_DECISION_WAITS));
            }
            /* A final prefix is never looked at again for this candidate. */
            if (final && pos == *final_upto) (*final_upto)++;
        }
    }
    return DECIDED_NOT_YET;
}

static int compare_by_hash(const void *a, const void *b)
{
    const unit *ua = *(const unit *const *)a, *ub = *(const unit *const *)b;
    return memcmp(ua->hash, ub->hash, 32);
}

static int compare_by_round_hash(const void *a, const void *b)
{
    const unit *ua = *(const unit *const *)a, *ub = *(const unit *const *)b;
    if (ua->round != ub->round) return ua->round < ub->round ? -1 : 1;
    return memcmp(ua->hash, ub->hash, 32);
}

typedef struct ranked {
    uint8_t priority[32];
    uint32_t id;
    const uint8_t *hash;
} ranked;

static int compare_ranked(const void *a, const void *b)
{
    const ranked *ra = a, *rb = b;
    int c = memcmp(ra->priority, rb->priority, 32);
    return c ? c : memcmp(ra->hash, rb->hash, 32);
}

/* Fixes the candidate list once a unit of round r+3 exists: the default creator's round-r
 * units first (by hash), then every other round-r unit, ordered later (sort_rest). */
static int election_start(aleph_member *m, election *e, uint32_t round)
{
    const round_index *ri = &m->dag.rounds[round];
    e->round = round;
    e->candidates = core_malloc((ri->units_len ? ri->units_len : 1) * sizeof *e->candidates);
    e->deciders = core_malloc((ri->units_len ? ri->units_len : 1) * sizeof *e->deciders);
    uint32_t def = config_default_creator(m, round);
    unit **defaults = core_malloc((ri->units_len ? ri->units_len : 1) * sizeof *defaults);
    if (!e->candidates || !e->deciders || !defaults) { /* not started: tried again later */
        core_free(e->candidates);
        core_free(e->deciders);
        core_free(defaults);
        e->candidates = NULL;
        e->deciders = NULL;
        return -1;
    }
    uint32_t nd = 0, nc = 0;
    for (uint32_t id = ri->first_by_creator[def]; id != NONE; id = m->dag.units[id]->fork_next)
        defaults[nd++] = m->dag.units[id];
    qsort(defaults, nd, sizeof *defaults, compare_by_hash);
    for (uint32_t i = 0; i < nd; i++) e->candidates[nc++] = defaults[i]->id;
    core_free(defaults);
    e->defaults_len = nd;
    for (uint32_t pos = 0; pos < ri->units_len; pos++) {
        const unit *u = m->dag.units[ri->units[pos]];
        if (u->creator != def) e->candidates[nc++] = u->id;
    }
    e->candidates_len = nc;
    e->started = 1;
    e->current = 0;
    e->rest_sorted = (nc == nd);
    return 0;
}

/* Orders the non-default candidates: by H("aleph/priority" || coin(r+5) || hash), or by
 * hash in deterministic mode. Returns 0 when the coin is not known yet. */
static int sort_rest(aleph_member *m, election *e)
{
    uint32_t rest = e->candidates_len - e->defaults_len;
    ranked *items = core_malloc(rest * sizeof *items);
    if (!items) {
        notice_out_of_memory(m, "ordering: sorting candidates (tried again when the DAG grows)");
        return 0;
    }
    uint8_t coin[32];
    int with_coin = m->cfg.coin_mode != ALEPH_COIN_OFF;
    if (with_coin && !coin_value(m, e->round + 5, coin)) {
        core_free(items);
        return 0;
    }
    for (uint32_t i = 0; i < rest; i++) {
        const unit *u = m->dag.units[e->candidates[e->defaults_len + i]];
        items[i].id = u->id;
        items[i].hash = u->hash;
        if (with_coin)
            hash_tagged2(items[i].priority, "aleph/priority", coin, 32, u->hash, 32);
        else
            memcpy(items[i].priority, u->hash, 32);
    }
    qsort(items, rest, sizeof *items, compare_ranked);
    for (uint32_t i = 0; i < rest; i++) e->candidates[e->defaults_len + i] = items[i].id;
    core_free(items);
    e->rest_sorted = 1;
    return 1;
}

/* The election record of the batch just begun (aleph_batch.candidates): the candidates in
 * order (all when the rest was sorted), then the decider of each one up to the head. */
static void record_election(aleph_member *m, const election *e)
{
    uint32_t listed = e->rest_sorted ? e->candidates_len : e->defaults_len;
    const uint8_t **hashes = core_malloc(((size_t)listed + e->current + 1) * sizeof *hashes);
    if (!hashes) {
        notice_out_of_memory(m, "ordering: a batch's election record (handed out without it)");
        return;
    }
    for (uint32_t k = 0; k < listed; k++) hashes[k] = m->dag.units[e->candidates[k]]->hash;
    for (uint32_t k = 0; k <= e->current; k++)
        hashes[listed + k] = m->dag.units[e->deciders[k]]->hash;
    aleph_batch *b = &m->out.batches[m->out.batches_len - 1];
    b->candidates_len = listed;
    b->head_index = e->current;
    outbox_batch_record(&m->out, hashes);
    core_free(hashes);
}

/* Emits batch(r): every unit below or equal to the head in no earlier batch, sorted by
 * (round, hash). */
/* Hands out the batch closed by head; -1 when memory ran out (nothing was handed out). */
static int emit_batch(aleph_member *m, unit *head, uint32_t depth)
{
    dag *g = &m->dag;
    uint32_t round = m->election.round;
    size_t cap = 64, len = 0, top = 0;
    unit **found = core_malloc(cap * sizeof *found);
    if (!found) return -1;
    found[len++] = head;
    head->batch_round = round;
    /* `found` doubles as the DFS stack: entries at or after `top` still need expanding. */
    while (top < len) {
        unit *u = found[top++];
        if (!u->parents) continue;
        for (uint32_t j = 0; j < m->n; j++) {
            uint32_t pid = dag_parent(m, u, j);
            if (pid == NONE) continue;
            unit *p = g->units[pid];
            if (p->batch_round != NONE) continue;
            p->batch_round = round;
            if (len == cap) {
                cap *= 2;
                unit **grown = core_realloc(found, cap * sizeof *grown);
                if (!grown) {
                    core_free(found);
                    return -1;
                }
                found = grown;
            }
            found[len++] = p;
        }
    }
    qsort(found, len, sizeof *found, compare_by_round_hash);
    aleph_batch b = {.round = round,
                     .epoch = m->epoch,
                     .epoch_last = m->cfg.epoch_rounds && round + 1 == m->cfg.epoch_rounds,
                     .head_creator = head->creator,
                     .head_hash = head->hash,
                     .head_depth = depth,
                     .units_len = len};
    aleph_ordered_unit *out = outbox_batch_begin(&m->out, &b, len);
    if (!out) {
        core_free(found);
        return -1;
    }
    ALEPH_ASSERT(len >= 1);
    record_election(m, &m->election);
    for (size_t i = 0; i < len; i++) {
        unit *u = found[i];
        ALEPH_ASSERT(u->batch_round == round);
        out[i].creator = u->creator;
        out[i].round = u->round;
        out[i].hash = u->hash;
        out[i].payload = u->bytes + u->payload_off;
        out[i].payload_len = u->payload_len;
        out[i].txs_len = u->txs_len;
        if (u->payload_len > 0) g->unordered_with_payload--;
        m->stats.txs_ordered += u->txs_len;
        shed_unit_ordered(m, u);
    }
    m->stats.units_ordered += len;
    m->stats.batches_ordered++;
    m->stats.round_ordered = round;
    core_free(found);
    return 0;
}

void ordering_advance(aleph_member *m)
{
    election *e = &m->election;
    while (!m->halted && !m->epoch_done) {
        uint32_t r = m->next_head_round;
        if (!e->started) {
            if (m->dag.rounds_len <= r + 3 || m->dag.rounds[r + 3].units_len == 0) return;
            if (election_start(m, e, r) != 0) {
                notice_out_of_memory(m, "ordering: an election (tried again when the DAG grows)");
                return;
            }
        }
        unit *head = NULL;
        uint32_t depth = 0;
        while (e->current < e->candidates_len) {
            if (e->current == e->defaults_len && !e->rest_sorted && !sort_rest(m, e)) return;
            const unit *u0 = m->dag.units[e->candidates[e->current]];
            uint32_t d = 0, decider = NONE;
            int v = decide(m, e, u0, &d, &decider);
            if (v == DECIDED_NOT_YET) return;
            election_reset_votes(e);
            e->deciders[e->current] = decider;
            if (v == 1) {
                head = m->dag.units[u0->id];
                depth = d;
                break;
            }
            e->current++;
        }
        if (!head) {
            /* Every candidate decided 0: impossible with at most f faulty members. */
            notice_halt(m, r, NONE, NONE, NULL, "every candidate of a round decided 0");
            return;
        }
        ALEPH_ASSERT(r == m->election.round);
        if (emit_batch(m, head, depth) != 0) {
            /* A batch that cannot be handed out must not be skipped: stop instead. */
            notice_out_of_memory(m, "ordering: a batch");
            notice_halt(m, r, NONE, NONE, NULL, "out of memory: batch not output");
            return;
        }
        election_clear(e);
        m->next_head_round = r + 1;
        if (m->cfg.epoch_rounds && r + 1 == m->cfg.epoch_rounds) {
            /* The epoch's last batch: no more in it; the step moves on (epoch.c). */
            m->epoch_done = 1;
            memcpy(m->epoch_last_head, head->hash, 32);
        }
    }
}

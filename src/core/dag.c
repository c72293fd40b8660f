/* The DAG: units that passed every check of PROTOCOL.md section 2, always downward closed,
 * and the bounded buffer of units that wait for their parents. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "crypto.h"
#include "member.h"
#include "unit_store.h"

/* REFUSED: a known forker's unit that no completed alert commits; not the sender's fault. */
enum resolve_result { RESOLVE_ADDED, RESOLVE_MISSING, RESOLVE_REJECTED, RESOLVE_REFUSED };
enum wait_kind { WAIT_NOTHING = 0, WAIT_SLOT, WAIT_HASH, WAIT_EXPLICIT };

int dag_init(aleph_member *m)
{
    dag *d = &m->dag;
    memset(d, 0, sizeof *d);
    d->highest_plus1 = core_calloc(m->n, sizeof *d->highest_plus1);
    d->forker = core_calloc(m->n, 1);
    if (!d->highest_plus1 || !d->forker || hashmap_init(&d->by_hash, 1024) != 0) return -1;
    if (m->cfg.unit_store && !(d->sid_scratch = core_malloc(m->n * sizeof *d->sid_scratch)))
        return -1;
    pending_set *p = &m->pending;
    memset(p, 0, sizeof *p);
    p->per_creator = core_calloc(m->n, sizeof *p->per_creator);
    p->seen_plus1 = core_calloc(m->n, sizeof *p->seen_plus1);
    if (!p->per_creator || !p->seen_plus1 || hashmap_init(&p->by_hash, 64) != 0) return -1;
    return 0;
}

void dag_free(aleph_member *m)
{
    dag *d = &m->dag;
    for (uint32_t i = 0; i < d->units_len; i++) {
        unit *u = d->units[i];
        if (u->sid != NONE) {
            store_release(m->cfg.unit_store, u->sid, u->bytes != NULL);
        } else {
            core_free(u->parents);
            core_free(u->bytes);
        }
        core_free(u);
    }
    core_free(d->units);
    core_free(d->local_of_sid);
    core_free(d->sid_scratch);
    for (uint32_t r = 0; r < d->rounds_len; r++) {
        core_free(d->rounds[r].first_by_creator);
        core_free(d->rounds[r].units);
    }
    core_free(d->rounds);
    hashmap_free(&d->by_hash);
    core_free(d->highest_plus1);
    core_free(d->forker);
    core_free(d->forks);
    memset(d, 0, sizeof *d);
}

uint32_t dag_parent(const aleph_member *m, const unit *u, uint32_t c)
{
    uint32_t p = u->parents[c];
    return u->sid == NONE || p == NONE ? p : m->dag.local_of_sid[p];
}

void dag_unit_drop_body(aleph_member *m, unit *u)
{
    if (u->sid != NONE) {
        if (u->bytes) store_shed(m->cfg.unit_store, u->sid);
    } else {
        core_free(u->bytes);
        core_free(u->parents);
    }
    u->bytes = NULL;
    u->parents = NULL;
}

/* With a unit store: u (its own bytes and parents just filled) takes the store's copy when
 * its parents are all shared too; otherwise it keeps its own. */
static void share_unit(aleph_member *m, unit *u)
{
    dag *d = &m->dag;
    uint32_t *sids = NULL;
    if (u->parents) {
        sids = d->sid_scratch;
        for (uint32_t c = 0; c < m->n; c++) {
            uint32_t p = u->parents[c];
            if (p != NONE && d->units[p]->sid == NONE) return;
            sids[c] = p == NONE ? NONE : d->units[p]->sid;
        }
    }
    const uint8_t *bytes;
    const uint32_t *parents;
    uint32_t sid = store_acquire(m->cfg.unit_store, u->hash, u->bytes, u->len, sids, &bytes,
                                 &parents);
    if (sid == STORE_NONE) return;
    if (sid >= d->local_of_sid_len) {
        uint32_t len = d->local_of_sid_len ? d->local_of_sid_len : 1024;
        while (len <= sid) len *= 2;
        uint32_t *grown = core_realloc(d->local_of_sid, (size_t)len * sizeof *grown);
        if (!grown) {
            store_release(m->cfg.unit_store, sid, 1);
            return;
        }
        for (uint32_t i = d->local_of_sid_len; i < len; i++) grown[i] = NONE;
        d->local_of_sid = grown;
        d->local_of_sid_len = len;
    }
    d->local_of_sid[sid] = u->id;
    core_free(u->bytes);
    core_free(u->parents);
    u->bytes = (uint8_t *)bytes; /* never written: see unit.bytes */
    u->parents = (uint32_t *)parents;
    u->sid = sid;
}

unit *dag_find(const aleph_member *m, const uint8_t hash[32])
{
    uint32_t id;
    return hashmap_get(&m->dag.by_hash, hash, &id) ? m->dag.units[id] : NULL;
}

uint32_t dag_first_in_slot(const aleph_member *m, uint32_t creator, uint32_t round)
{
    if (round >= m->dag.rounds_len) return NONE;
    return m->dag.rounds[round].first_by_creator[creator];
}

/* What resolving found missing goes on a list that the member hands to sync (member.c): the
 * DAG asks nobody itself. A full list (or no memory) drops the want: a waiting unit asks
 * again every anti-entropy period (pending_rerequest). */
void dag_want(aleph_member *m, uint8_t kind, uint32_t creator, uint32_t round,
              const uint8_t *hash, uint32_t peer)
{
    want_list *w = &m->wants;
    if (w->len == w->cap) {
        if (w->cap >= WANTS_MAX) return;
        uint32_t cap = w->cap ? w->cap * 2 : 64;
        dag_want_item *grown = core_realloc(w->items, cap * sizeof *grown);
        if (!grown) return;
        w->items = grown;
        w->cap = cap;
    }
    dag_want_item *it = &w->items[w->len++];
    it->kind = kind;
    it->creator = creator;
    it->round = round;
    it->peer = peer;
    if (hash) memcpy(it->hash, hash, 32);
}

int dag_pending_has_explicit(const aleph_member *m, const uint8_t hash[32])
{
    if (!hashmap_get(&m->pending.by_hash, hash, NULL)) return -1;
    for (uint32_t i = 0; i < m->pending.len; i++)
        if (memcmp(m->pending.items[i]->hash, hash, 32) == 0)
            return m->pending.items[i]->explicit_parents != NULL;
    return -1;
}

static round_index *round_at(aleph_member *m, uint32_t round)
{
    dag *d = &m->dag;
    if (round >= d->rounds_cap) {
        uint32_t cap = d->rounds_cap ? d->rounds_cap : 64;
        while (cap <= round) cap *= 2;
        round_index *grown = core_realloc(d->rounds, cap * sizeof *grown);
        if (!grown) return NULL;
        memset(grown + d->rounds_cap, 0, (cap - d->rounds_cap) * sizeof *grown);
        d->rounds = grown;
        d->rounds_cap = cap;
    }
    while (d->rounds_len <= round) {
        round_index *ri = &d->rounds[d->rounds_len];
        ri->first_by_creator = core_malloc(m->n * sizeof *ri->first_by_creator);
        if (!ri->first_by_creator) return NULL;
        for (uint32_t i = 0; i < m->n; i++) ri->first_by_creator[i] = NONE;
        d->rounds_len++;
    }
    return &d->rounds[round];
}

static int append_u32(uint32_t **arr, uint32_t *len, uint32_t *cap, uint32_t v)
{
    if (*len == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 16;
        uint32_t *grown = core_realloc(*arr, ncap * sizeof *grown);
        if (!grown) return -1;
        *arr = grown;
        *cap = ncap;
    }
    (*arr)[(*len)++] = v;
    return 0;
}

void dag_mark_forker(aleph_member *m, uint32_t j, uint32_t round)
{
    dag *d = &m->dag;
    if (d->forker[j]) return;
    d->forker[j] = 1;
    m->stats.forks_detected++;
    aleph_notice n = {.kind = ALEPH_NOTICE_FORK, .creator = j, .round = round, .peer = NONE};
    outbox_notice(&m->out, &n);
    if (d->forks_len == d->forks_cap) {
        uint32_t cap = d->forks_cap ? d->forks_cap * 2 : 4;
        fork_proof *grown = core_realloc(d->forks, cap * sizeof *grown);
        if (!grown) return;
        d->forks = grown;
        d->forks_cap = cap;
    }
    d->forks[d->forks_len++] = (fork_proof){.creator = j, .round = round};
}

/* A second validly signed unit in an occupied slot: its creator forked (the two units are
 * the proof; the alert goes out at once). */
static void check_fork(aleph_member *m, const unit_wire *w, const uint8_t *data)
{
    if (m->dag.forker[w->creator]) return;
    uint32_t first = dag_first_in_slot(m, w->creator, w->round);
    if (first != NONE) m->dag.forks_hooks.found(m, m->dag.units[first], data, w->len);
}

/* An own unit entered the DAG: from the backup, or from a peer while recovering (restore.c),
 * it is the newest own unit made so far; the creator goes on above it. */
static void own_unit_added(aleph_member *m, const unit *u)
{
    if (!m->restoring && !(m->own_check && m->cfg.recover)) return;
    if ((int64_t)u->round <= (int64_t)m->own_round) return;
    m->own_round = (int32_t)u->round;
    m->own_last = u->id;
    m->stats.round_created = u->round;
}

/* Stores a unit whose parents (ids, `members` entries or NULL for round 0) are resolved. With
 * `owned` (a malloc'd buffer holding data), the unit takes that buffer instead of a copy; on
 * failure the caller keeps it. */
static unit *add_unit(aleph_member *m, const unit_wire *w, const uint8_t *data,
                      const uint8_t hash[32], const uint32_t *parent_ids, uint8_t *owned)
{
    dag *d = &m->dag;
    round_index *ri = round_at(m, w->round);
    unit *u = core_calloc(1, sizeof *u);
    if (!ri || !u) goto oom;
    u->bytes = owned ? owned : core_malloc(w->len);
    if (!u->bytes) goto oom;
    if (w->round > 0) {
        /* Downward closure: every parent is already in the DAG, in a lower round. */
        for (uint32_t c = 0; c < m->n; c++)
            ALEPH_ASSERT(parent_ids[c] == NONE ||
                         (parent_ids[c] < d->units_len && d->units[parent_ids[c]]->round < w->round));
        u->parents = core_malloc(m->n * sizeof *u->parents);
        if (!u->parents) goto oom;
        memcpy(u->parents, parent_ids, m->n * sizeof *u->parents);
    }
    if (d->units_len == d->units_cap) {
        uint32_t cap = d->units_cap ? d->units_cap * 2 : 1024;
        unit **grown = core_realloc(d->units, cap * sizeof *grown);
        if (!grown) goto oom;
        d->units = grown;
        d->units_cap = cap;
    }
    if (!owned) memcpy(u->bytes, data, w->len);
    memcpy(u->hash, hash, 32);
    u->len = (uint32_t)w->len;
    u->creator = w->creator;
    u->round = w->round;
    u->id = d->units_len;
    u->fork_next = NONE;
    u->batch_round = NONE;
    u->sid = NONE;
    u->payload_off = (uint32_t)(w->payload - data);
    u->payload_len = w->payload_len;
    u->txs_len = w->txs_len;
    u->share_off = w->coin_share ? (uint32_t)(w->coin_share - data) : 0;
    u->round_pos = ri->units_len;
    u->added_ms = m->now_ms;
    if (append_u32(&ri->units, &ri->units_len, &ri->units_cap, u->id) != 0) goto oom;
    if (hashmap_put(&d->by_hash, hash, u->id) != 0) {
        ri->units_len--;
        goto oom;
    }
    d->units[d->units_len++] = u;
    if (m->cfg.unit_store) share_unit(m, u);

    uint32_t first = ri->first_by_creator[u->creator];
    if (first == NONE) {
        ri->first_by_creator[u->creator] = u->id;
        ri->creators_present++;
    } else {
        unit *last = d->units[first];
        while (last->fork_next != NONE) last = d->units[last->fork_next];
        last->fork_next = u->id; /* a variant committed in a completed alert */
    }
    if (d->highest_plus1[u->creator] < u->round + 1) d->highest_plus1[u->creator] = u->round + 1;
    if (u->payload_len > 0) d->unordered_with_payload++;
    m->stats.units_added++;
    m->stats.dag_units = d->units_len;

    aleph_notice n = {
        .kind = ALEPH_NOTICE_UNIT_ADDED, .creator = u->creator, .round = u->round, .peer = NONE};
    memcpy(n.hash, hash, 32);
    outbox_notice(&m->out, &n);
    /* Every unit goes to the backup in DAG order, so that a restart can rebuild the DAG from
     * it alone (parents before children); an own unit must be durable before it is sent. */
    if (!m->restoring && outbox_persist(&m->out, ALEPH_PERSIST_UNIT, u->bytes, u->len, u->hash) != 0) {
        /* A unit missing from the backup breaks a restart's DAG, and an own unit must never
         * leave undurable: stop rather than go on without the record. */
        notice_out_of_memory(m, "backup: a unit to persist");
        notice_halt(m, u->round, u->creator, NONE, u->hash, "out of memory: a unit not persisted");
    }
    if (u->creator == m->secret.index) own_unit_added(m, u);
    return u;
oom:
    notice_out_of_memory(m, "dag: a unit (dropped; it comes again)");
    if (u) {
        if (u->bytes != owned) core_free(u->bytes);
        core_free(u->parents);
        core_free(u);
    }
    return NULL;
}

unit *dag_add_resolved(aleph_member *m, const unit_wire *w, const uint8_t *data,
                       const uint8_t hash[32], const uint32_t *parent_ids)
{
    /* A restored slot with two units: the creator forked (the alerts about it were not in
     * the backup; a valid alert from a peer makes this member send its own again). */
    if (dag_first_in_slot(m, w->creator, w->round) != NONE)
        dag_mark_forker(m, w->creator, w->round);
    return add_unit(m, w, data, hash, parent_ids, NULL);
}

/* With a unit store: whether another member stored the unit `hash` (so the same signed bytes
 * and control hash) with the very parents in ids (the same store ids, so the same parent
 * hashes): then the control hash matches, as that member's check found (store_parents), and
 * hashing the N parent hashes again would give the same answer. A pure shortcut: 0 leaves the
 * check to the hash. */
static int store_vouches(const aleph_member *m, const uint8_t hash[32], const uint32_t *ids)
{
    if (!m->cfg.unit_store) return 0;
    const uint32_t *parents = store_parents(m->cfg.unit_store, hash);
    if (!parents) return 0;
    for (uint32_t c = 0; c < m->n; c++) {
        uint32_t sid = ids[c] == NONE ? NONE : m->dag.units[ids[c]]->sid;
        if (sid != parents[c] || (ids[c] != NONE && sid == NONE)) return 0;
    }
    return 1;
}

/* Looks up every parent's slot into ids (by creator); each empty slot is asked for, and the
 * first one becomes what the unit waits for. Returns whether any was missing; *ambiguous
 * tells whether a slot holds forks. */
static int find_parent_slots(aleph_member *m, pending_unit *pu, const unit_wire *w,
                             uint32_t *ids, int *ambiguous)
{
    int missing = 0;
    *ambiguous = 0;
    for (uint32_t i = 0; i < w->parents_len; i++) {
        uint32_t c, r;
        unit_wire_parent(w, i, &c, &r);
        uint32_t id = dag_first_in_slot(m, c, r);
        if (id == NONE) {
            if (!missing) {
                pu->wait_kind = WAIT_SLOT;
                pu->wait_creator = c;
                pu->wait_round = r;
            }
            missing = 1;
            dag_want(m, WANT_SLOT, c, r, NULL, pu->from);
            continue;
        }
        if (m->dag.units[id]->fork_next != NONE) *ambiguous = 1;
        ids[c] = id;
    }
    return missing;
}

int dag_parents_match(const aleph_member *m, const unit_wire *w, const uint32_t *ids)
{
    const uint8_t *hashes[ALEPH_MEMBERS_MAX];
    for (uint32_t i = 0; i < w->parents_len; i++) {
        uint32_t c, r;
        unit_wire_parent(w, i, &c, &r);
        hashes[i] = m->dag.units[ids[c]]->hash;
    }
    uint8_t control[32];
    unit_control_hash(hashes, w->parents_len, control);
    return memcmp(control, w->control_hash, 32) == 0;
}

/* The parents a peer named by hash (an answer to WANT_PARENTS): 1 when they fit the unit
 * (into ids), -1 when some are still missing (asked for), 0 when the answer did not fit (it
 * is forgotten and another peer is asked). */
static int explicit_parents_match(aleph_member *m, pending_unit *pu, const unit_wire *w,
                                  uint32_t *ids)
{
    int usable = pu->explicit_len == w->parents_len, missing = 0;
    for (uint32_t i = 0; usable && i < w->parents_len; i++) {
        uint32_t c, r;
        unit_wire_parent(w, i, &c, &r);
        unit *p = dag_find(m, pu->explicit_parents[i]);
        if (!p) {
            if (pu->wait_kind == WAIT_NOTHING) {
                pu->wait_kind = WAIT_HASH;
                memcpy(pu->wait_hash, pu->explicit_parents[i], 32);
            }
            dag_want(m, WANT_HASH, 0, 0, pu->explicit_parents[i], pu->from);
            missing = 1;
            continue;
        }
        if (p->creator != c || p->round != r) usable = 0;
        ids[c] = p->id;
    }
    if (usable && missing) return -1;
    if (usable && dag_parents_match(m, w, ids)) return 1;
    /* The answer did not fit the unit: forget it and ask someone else. */
    core_free(pu->explicit_parents);
    pu->explicit_parents = NULL;
    pu->explicit_len = 0;
    pu->from = peer_random(m);
    return 0;
}

/* Resolves the parent slots of a checked unit against the DAG. On RESOLVE_MISSING, records in
 * *pu what it waits for and asks for it. */
static enum resolve_result resolve(aleph_member *m, pending_unit *pu, const unit_wire *w,
                                   const uint8_t *data, const char **reason)
{
    uint32_t *ids = m->scratch_ids;
    for (uint32_t i = 0; i < m->n; i++) ids[i] = NONE;
    pu->wait_kind = WAIT_NOTHING;

    /* A known forker's units enter only when a completed alert commits them (section 7),
     * so a forker cannot make us store more than one variant per round per alert; checked
     * first, so that its other variants do not even wait in the buffer. */
    check_fork(m, w, data);
    if (m->dag.forker[w->creator] &&
        !m->dag.forks_hooks.admits(m, pu->hash, w->creator, w->round)) {
        m->stats.forker_units_refused++;
        return RESOLVE_REFUSED;
    }
    int ambiguous;
    if (find_parent_slots(m, pu, w, ids, &ambiguous)) return RESOLVE_MISSING;
    if (w->round > 0) {
        int matched = 0;
        if (pu->explicit_parents) {
            matched = explicit_parents_match(m, pu, w, ids);
            if (matched < 0) return RESOLVE_MISSING;
        } else if (!ambiguous) {
            /* the slots' units, no forks among them */
            matched = store_vouches(m, pu->hash, ids) || dag_parents_match(m, w, ids);
        }
        if (!matched) {
            /* A fork is involved: the units held do not give the control hash. */
            pu->wait_kind = WAIT_EXPLICIT;
            dag_want(m, WANT_PARENTS, 0, 0, pu->hash, pu->from);
            return RESOLVE_MISSING;
        }
    }

    if (m->dag.forker[w->creator]) m->stats.forker_units_admitted++;
    /* A unit that waited in the buffer moves its bytes into the DAG without a copy. */
    uint8_t *owned = pu->bytes && pu->bytes == data ? pu->bytes : NULL;
    unit *u = add_unit(m, w, data, pu->hash, ids, owned);
    if (!u) {
        *reason = "out of memory";
        return RESOLVE_REJECTED;
    }
    if (pu->share_state == SHARE_VALID) u->share_state = SHARE_VALID;
    if (owned) pu->bytes = NULL;
    return RESOLVE_ADDED;
}

static int wait_satisfied(const aleph_member *m, const pending_unit *pu)
{
    switch (pu->wait_kind) {
    case WAIT_SLOT: return dag_first_in_slot(m, pu->wait_creator, pu->wait_round) != NONE;
    case WAIT_HASH: return dag_find(m, pu->wait_hash) != NULL;
    case WAIT_EXPLICIT: return pu->explicit_parents != NULL;
    default: return 1;
    }
}

static void pending_release(aleph_member *m, uint32_t index)
{
    pending_set *p = &m->pending;
    pending_unit *pu = p->items[index];
    hashmap_remove(&p->by_hash, pu->hash);
    p->per_creator[pu->creator]--;
    memmove(&p->items[index], &p->items[index + 1], (p->len - index - 1) * sizeof *p->items);
    p->len--;
    m->stats.units_pending = p->len;
    core_free(pu->explicit_parents);
    core_free(pu->bytes);
    core_free(pu);
}

/* The highest-round pending unit, of one creator or (creator == NONE) of anyone. */
static uint32_t pending_highest(const aleph_member *m, uint32_t creator)
{
    const pending_set *p = &m->pending;
    for (uint32_t i = p->len; i-- > 0;)
        if (creator == NONE || p->items[i]->creator == creator) return i;
    return NONE;
}

static uint32_t pending_quota(const aleph_member *m)
{
    uint32_t q = m->cfg.pending_units_max / m->n;
    return q < 8 ? 8 : q;
}

/* Keeps a copy of a unit that waits for parents. When the buffer (or the creator's share of
 * it) is full, the highest-round unit goes: lower rounds are needed first, and anti-entropy
 * brings the rest again later. */
static void pending_keep(aleph_member *m, const pending_unit *tmp, const uint8_t *data, size_t len)
{
    pending_set *p = &m->pending;
    uint32_t victim = NONE;
    if (p->per_creator[tmp->creator] >= pending_quota(m))
        victim = pending_highest(m, tmp->creator);
    else if (p->len >= m->cfg.pending_units_max)
        victim = pending_highest(m, NONE);
    if (victim != NONE) {
        m->stats.pending_evicted++;
        if (p->items[victim]->round <= tmp->round) return; /* the newcomer is the one to drop */
        pending_release(m, victim);
    }
    if (p->len == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 64;
        pending_unit **grown = core_realloc(p->items, cap * sizeof *grown);
        if (!grown) return;
        p->items = grown;
        p->cap = cap;
    }
    pending_unit *pu = core_malloc(sizeof *pu);
    uint8_t *copy = core_malloc(len);
    if (!pu || !copy) {
        core_free(pu);
        core_free(copy);
        return;
    }
    *pu = *tmp;
    memcpy(copy, data, len);
    pu->bytes = copy;
    pu->len = (uint32_t)len;
    if (hashmap_put(&p->by_hash, pu->hash, 0) != 0) {
        core_free(copy);
        core_free(pu);
        return;
    }
    uint32_t at = p->len;
    while (at > 0 && p->items[at - 1]->round > pu->round) at--;
    memmove(&p->items[at + 1], &p->items[at], (p->len - at) * sizeof *p->items);
    p->items[at] = pu;
    p->len++;
    p->per_creator[pu->creator]++;
    m->stats.units_pending = p->len;
}

/* Retries every pending unit whose wait is over, bottom-up, until nothing more enters. */
static void pending_retry(aleph_member *m)
{
    pending_set *p = &m->pending;
    int progress = 1;
    while (progress) {
        progress = 0;
        for (uint32_t i = 0; i < p->len;) {
            pending_unit *pu = p->items[i];
            if (!wait_satisfied(m, pu)) {
                i++;
                continue;
            }
            unit_wire w;
            const char *reason = unit_decode(pu->bytes, pu->len, &m->limits, &w);
            enum resolve_result res = RESOLVE_REJECTED;
            if (!reason) res = resolve(m, pu, &w, pu->bytes, &reason);
            if (res == RESOLVE_MISSING) {
                i++;
                continue;
            }
            if (res == RESOLVE_REJECTED)
                notice_drop(m, pu->from, reason);
            else if (res == RESOLVE_ADDED)
                progress = 1;
            pending_release(m, i);
        }
    }
}

void dag_receive_unit(aleph_member *m, const uint8_t *data, size_t len, uint32_t from)
{
    unit_wire w;
    const char *reason = unit_decode(data, len, &m->limits, &w);
    if (reason) {
        notice_drop(m, from, reason);
        return;
    }
    pending_unit tmp;
    memset(&tmp, 0, sizeof tmp);
    if (!m->cfg.unit_hash_known ||
        !m->cfg.unit_hash_known(m->cfg.unit_hash_ctx, data, w.signed_len, tmp.hash))
        unit_hash(data, w.signed_len, tmp.hash);
    if (dag_find(m, tmp.hash) || hashmap_get(&m->pending.by_hash, tmp.hash, NULL)) return;
    if (!peer_signature_valid(m, tmp.hash, w.signature, w.creator)) {
        notice_drop(m, from, "bad unit signature");
        return;
    }
    if (w.round + 1 > m->pending.seen_plus1[w.creator]) m->pending.seen_plus1[w.creator] = w.round + 1;
    if (w.creator == m->secret.index && !m->cfg.observer &&
        (int64_t)w.round > (int64_t)m->own_round && !(m->own_check && m->cfg.recover)) {
        /* Our key signed a unit this process did not make: a lost backup or a second
         * process with our key. Creating further units could equivocate. */
        notice_halt(m, w.round, w.creator, from, tmp.hash, "own unit newer than any created here");
    }
    tmp.creator = w.creator;
    tmp.round = w.round;
    tmp.from = from;
    if (coin_share_known_valid(m, data, &w)) tmp.share_state = SHARE_VALID;
    enum resolve_result res = resolve(m, &tmp, &w, data, &reason);
    if (res == RESOLVE_REJECTED) {
        notice_drop(m, from, reason);
    } else if (res == RESOLVE_MISSING) {
        pending_keep(m, &tmp, data, len);
    } else if (res == RESOLVE_ADDED) {
        pending_retry(m);
    }
}

unit *dag_add_own(aleph_member *m, uint8_t *data, size_t len, const uint8_t hash[32])
{
    unit_wire w;
    if (unit_decode(data, len, &m->limits, &w) != NULL) return NULL;
    uint32_t *ids = m->scratch_ids;
    for (uint32_t i = 0; i < m->n; i++) ids[i] = NONE;
    for (uint32_t i = 0; i < w.parents_len; i++) {
        uint32_t c, r;
        unit_wire_parent(&w, i, &c, &r);
        ids[c] = c == m->secret.index ? m->own_last : dag_first_in_slot(m, c, r);
        if (ids[c] == NONE) return NULL;
    }
    unit *u = add_unit(m, &w, data, hash, ids, data);
    if (u) pending_retry(m);
    return u;
}

void dag_receive_parents(aleph_member *m, uint32_t from, const uint8_t unit_hash_[32],
                         const uint8_t *hashes, uint32_t count)
{
    pending_set *p = &m->pending;
    if (!hashmap_get(&p->by_hash, unit_hash_, NULL)) return; /* not (or no longer) waiting */
    for (uint32_t i = 0; i < p->len; i++) {
        pending_unit *pu = p->items[i];
        if (memcmp(pu->hash, unit_hash_, 32) != 0) continue;
        if (pu->explicit_parents) return;
        pu->explicit_parents = core_malloc((size_t)count * 32 + 1);
        if (!pu->explicit_parents) return;
        memcpy(pu->explicit_parents, hashes, (size_t)count * 32);
        pu->explicit_len = count;
        pu->from = from; /* it holds those parents: ask it for any that are missing */
        pending_retry(m);
        return;
    }
}

void pending_rerequest(aleph_member *m)
{
    for (uint32_t i = 0; i < m->pending.len; i++) {
        pending_unit *pu = m->pending.items[i];
        uint32_t peer = peer_random(m);
        switch (pu->wait_kind) {
        case WAIT_SLOT: dag_want(m, WANT_SLOT, pu->wait_creator, pu->wait_round, NULL, peer); break;
        case WAIT_HASH: dag_want(m, WANT_HASH, 0, 0, pu->wait_hash, peer); break;
        case WAIT_EXPLICIT: dag_want(m, WANT_PARENTS, 0, 0, pu->hash, peer); break;
        default: break;
        }
    }
}

void pending_free(aleph_member *m)
{
    while (m->pending.len) pending_release(m, m->pending.len - 1);
    core_free(m->pending.items);
    core_free(m->pending.per_creator);
    core_free(m->pending.seen_plus1);
    hashmap_free(&m->pending.by_hash);
    core_free(m->wants.items);
    memset(&m->wants, 0, sizeof m->wants);
}

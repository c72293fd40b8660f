/* The engine: members on virtual time. Every member is a real aleph_member; this file only
 * moves bytes between them through the network model, wakes them when they ask, feeds them
 * transactions, plays the faulty behaviours, and hands every batch to the invariant checker.
 *
 * Event order is total: (virtual ms, sequence number of scheduling). Randomness comes from
 * streams derived from the seed (sim_rng.h). So a seed replays a run exactly. */
#include "sim.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "persist.h"
#include "pause.h"
#include "restart.h"
#include "sim_state.h"
#include "base/grow.h"


/* ---- what a step hands back --------------------------------------------------------------- */

static void count_drop(sim *s, const char *reason)
{
    for (uint32_t k = 0; k < s->drops_len; k++)
        if (s->drops[k].reason == reason || strcmp(s->drops[k].reason, reason) == 0) {
            s->drops[k].count++;
            return;
        }
    if (s->drops_len < sizeof s->drops / sizeof s->drops[0])
        s->drops[s->drops_len++] = (drop_reason){reason, 1};
}

/* With epochs, a message crafted without one gets the epoch header after its type byte. */
static size_t epoch_header(const sim *s, uint32_t epoch, uint8_t **bytes, size_t len)
{
    if (!s->cfg->epoch_rounds || len == 0 || len == (size_t)-1) return len;
    uint8_t *grown = realloc(*bytes, len + 4);
    if (!grown) return (size_t)-1;
    memmove(grown + 5, grown + 1, len - 1);
    le32_put(grown + 1, epoch);
    *bytes = grown;
    return len + 4;
}

/* The encoding of the unit just created with this hash: it is among the step's persists. */
static const aleph_blob *created_unit(const sim *s, const aleph_update *up, const uint8_t hash[32])
{
    for (size_t k = 0; k < up->persist_len; k++) {
        aleph_unit_info info;
        uint32_t epoch;
        if (sim_inspect_own(s, up->persist[k].data, up->persist[k].len, &info, &epoch) != NULL)
            continue;
        if (memcmp(info.hash, hash, 32) == 0) return &up->persist[k];
    }
    return NULL;
}

/* Deliveries the adversary held back that it now admits go out at once. */
static void release_held(sim *s)
{
    size_t kept = 0;
    for (size_t k = 0; k < s->held_len; k++) {
        sim_event ev = s->held[k];
        const sim_member *to = &s->members[ev.to];
        if (sim_adversary_admit(s->adversary, ev.to, to->inst[0].own_round, ev.msg->data,
                                ev.msg->len)) {
            ev.at_ms = s->now;
            if (sim_queue_push(&s->queue, ev) != 0) sim_fail(s, NULL, "simulator out of memory (queue)");
        } else {
            s->held[kept++] = ev;
        }
    }
    s->held_len = kept;
}

static void hold(sim *s, const sim_event *ev)
{
    if (s->held_len == s->held_cap) {
        sim_event *grown = array_grow(s->held, &s->held_cap, s->held_len + 1, sizeof *grown, 256);
        if (!grown) {
            sim_fail(s, NULL, "simulator out of memory (held messages)");
            sim_msg_release(ev->msg);
            return;
        }
        s->held = grown;
    }
    s->held[s->held_len++] = *ev;
}

static void adversary_saw_created(sim *s, const aleph_update *up, const uint8_t hash[32])
{
    const aleph_blob *b = created_unit(s, up, hash);
    if (!b) return;
    int was_active = sim_adversary_active(s->adversary);
    if (sim_adversary_created(s->adversary, b->data, b->len) ||
        was_active != sim_adversary_active(s->adversary))
        release_held(s);
}

static void handle_notices(sim *s, uint32_t i, uint32_t w, const aleph_update *up)
{
    sim_member *mb = &s->members[i];
    sim_instance *in = &mb->inst[w];
    for (size_t k = 0; k < up->notices_len; k++) {
        const aleph_notice *no = &up->notices[k];
        switch (no->kind) {
        case ALEPH_NOTICE_UNIT_CREATED: {
            s->res->units_created++;
            /* With epochs rounds are global (epoch * E + round); a unit above round E-1
             * overlaps the next epoch's first rounds, which is good enough for this
             * bookkeeping (it is never ordered). */
            uint32_t g = sim_global_round(s, no->epoch, no->round);
            if ((int64_t)g > in->own_round) in->own_round = (int32_t)g;
            if (mb->created_ms && g <= s->rounds_max) {
                mb->created_ms[g % mb->created_len] = s->now;
                mb->created_round[g % mb->created_len] = g;
            }
            if (mb->honest && !mb->disk) { /* no disk: durable at once */
                const aleph_blob *b = created_unit(s, up, no->hash);
                if (b) sim_own_durable(s, i, b->data, b->len);
            }
            if (mb->honest && !mb->reached_heal_round && g >= s->heal_round) {
                mb->reached_heal_round = 1;
                s->honest_at_heal_round++;
            }
            if (s->dumping) {
                const aleph_blob *b = created_unit(s, up, no->hash);
                if (b) sim_dump_unit_created(&s->dump, i, w, b->data, b->len, s->now);
            }
            if (s->adversary && w == 0) adversary_saw_created(s, up, no->hash);
            break;
        }
        case ALEPH_NOTICE_EPOCH_STARTED:
            sim_epoch_started(s, in->m, no->epoch);
            if (mb->disk && w == 0) sim_persist_epoch(s, i, in->m);
            if (mb->behaviour == SIM_GARBAGE || (mb->behaviour == SIM_FORKER && s->cfg->fork_variants))
                sim_garbage_epoch(&mb->garbage, aleph_member_epoch_session(in->m));
            if (s->dumping) sim_dump_epoch_started(&s->dump, i, w, in->m, no->epoch);
            if (mb->honest) {
                const uint8_t *carried;
                uint32_t txs;
                aleph_member_epoch_carry(in->m, &carried, &txs);
                s->res->carry_txs += txs;
            }
            break;
        case ALEPH_NOTICE_EPOCH_NOT_HELD:
            if (mb->disk && w == 0) sim_archive_asked(s, i, in->m, no->asked_epoch);
            break;
        case ALEPH_NOTICE_UNIT_ADDED:
            if (s->dumping) sim_dump_unit_added(&s->dump, i, w, no->creator, no->round, no->hash);
            break;
        case ALEPH_NOTICE_DROPPED:
            if (mb->honest) count_drop(s, no->reason ? no->reason : "?");
            break;
        case ALEPH_NOTICE_OWN_NEWER:
            if (mb->wiped) sim_restart_refused(s, i); /* a stale backup: the operator recovers */
            else if (mb->honest && mb->life)
                sim_fail(s, &s->res->signed_once,
                     "member %u restarted from its backup, but peer %u holds its own unit of "
                     "round %u, newer than any in the backup: a unit was sent before it was "
                     "durable (virtual ms %" PRIu64 ")",
                     i, no->peer, no->round, s->now);
            break;
        case ALEPH_NOTICE_HALT:
            if (mb->wiped && no->creator == i)
                sim_restart_refused(s, i); /* a stale backup, seen by a unit from a peer */
            else if (mb->honest && mb->life && no->creator == i)
                sim_fail(s, &s->res->signed_once,
                     "member %u restarted from its backup and halted at virtual ms %" PRIu64
                     ": peer %u sent it an own unit of round %u, newer than any in the backup "
                     "(a unit was sent before it was durable)",
                     i, s->now, no->peer, no->round);
            else if (mb->checked && !mb->crashed)
                sim_fail(s, &s->res->liveness,
                     "member %u halted at virtual ms %" PRIu64 " (round %u): %s", i, s->now,
                     no->round, no->reason ? no->reason : "?");
            break;
        default:
            break;
        }
    }
}

static void handle_batch(sim *s, uint32_t i, uint32_t w, const aleph_batch *epoch_batch)
{
    sim_member *mb = &s->members[i];
    if (s->dumping) {
        sim_dump_batch(&s->dump, i, w, epoch_batch, s->now);
        if (s->cfg->restarts) /* long runs: old coin shares are shed before the end */
            sim_dump_coins_between(&s->dump, i, mb->inst[w].m, epoch_batch->round + 3,
                                   epoch_batch->round + epoch_batch->head_depth + 6);
    }
    if (!mb->checked || w != 0) return;
    uint32_t e_rounds = s->cfg->epoch_rounds;
    if (e_rounds ? epoch_batch->round >= e_rounds ||
                       epoch_batch->epoch_last != (epoch_batch->round == e_rounds - 1)
                 : epoch_batch->epoch != 0 || epoch_batch->epoch_last) {
        sim_fail(s, &s->res->agreement,
                 "member %u output batch %u of epoch %u marked %s, epochs of %u rounds", i,
                 epoch_batch->round, epoch_batch->epoch,
                 epoch_batch->epoch_last ? "last" : "not last", e_rounds);
        return;
    }
    /* The checker sees global rounds: batches 0, 1, 2, ... over all epochs. */
    aleph_batch global = *epoch_batch;
    global.round = sim_global_round(s, epoch_batch->epoch, epoch_batch->round);
    const aleph_batch *b = &global;
    if (sim_checker_batch(&s->checker, i, b) != 0) {
        sim_fail(s, &s->res->agreement, "%s", s->checker.message);
        return;
    }
    if (b->round < mb->heads) return; /* derived again after a restart: output already */
    mb->heads++;
    if (s->adversary && i == 0 && b->round >= sim_adversary_attack_round(s->adversary) &&
        s->res->adversary_head_delay == UINT32_MAX) {
        int32_t own = mb->inst[0].own_round;
        uint32_t r0 = sim_adversary_attack_round(s->adversary);
        s->res->adversary_head_delay = own > (int32_t)r0 ? (uint32_t)own - r0 : 0;
        s->res->adversary_head_depth = b->head_depth;
        s->res->adversary_held = sim_adversary_rounds_held(s->adversary);
        sim_adversary_stop(s->adversary);
        release_held(s);
    }
    if (!mb->honest) return;
    uint32_t d = b->head_depth < 2 ? 2 : b->head_depth > 5 ? 5 : b->head_depth;
    s->res->heads_at_depth[d - 2]++;
    for (size_t k = 0; k < b->units_len; k++) {
        const aleph_ordered_unit *u = &b->units[k];
        if (u->creator != i) continue;
        uint32_t g = sim_global_round(s, b->epoch, u->round);
        s->res->own_units_in_batch[b->round <= g ? 0 : b->round == g + 1 ? 1 : 2]++;
        /* a unit ordered SIM_CREATED_RING rounds after its creation has no sample */
        if (g <= s->rounds_max && mb->created_ms &&
            (mb->created_len == s->rounds_max + 1 || mb->created_round[g % mb->created_len] == g))
            sim_samples_add(&s->consensus, s->now - mb->created_ms[g % mb->created_len]);
        size_t off = 0;
        const uint8_t *tx;
        size_t tx_len;
        while (aleph_payload_next(u->payload, u->payload_len, &off, &tx, &tx_len) == 1) {
            if (tx_len != SIM_TX_BYTES || le32_get(tx) != i) continue;
            uint64_t sent = le64_get(tx + 8);
            if (sent <= s->now) sim_samples_add(&s->e2e, s->now - sent);
        }
    }
    if (!mb->reached_target && b->round >= s->target) {
        mb->reached_target = 1;
        s->honest_reached++;
    }
    s->progress_dirty = 1;
}

static void crash(sim *s, uint32_t i)
{
    sim_member *mb = &s->members[i];
    mb->crashed = 1;
}

/* A flooding forker: after each own unit, fork_variants further signed variants of it. */
static void fork_flood(sim *s, uint32_t i, uint32_t w, const uint8_t *msg, size_t len)
{
    sim_member *mb = &s->members[i];
    uint32_t round_before = mb->garbage.last_round;
    const uint8_t *before = mb->garbage.last_unit;
    sim_garbage_observe(&mb->garbage, msg, len);
    if (mb->garbage.last_unit == before && mb->garbage.last_round == round_before) return;
    for (uint32_t k = 0; k < s->cfg->fork_variants; k++) {
        uint8_t *bytes = NULL;
        size_t len_plain = sim_garbage_fork_variant(&mb->garbage, &s->fault_rng, &bytes);
        size_t n = epoch_header(s, aleph_member_epoch(mb->inst[w].m), &bytes, len_plain);
        if (n != (size_t)-1 && n > 0) {
            /* in the dump too: the oracle rebuilds members' DAGs from dag.jsonl */
            size_t unit_at = 1 + (n - len_plain); /* after the type byte and epoch header */
            if (s->dumping) sim_dump_unit_created(&s->dump, i, w, bytes + unit_at, n - unit_at, s->now);
            sim_route(s, i, w, bytes, n, ALEPH_TO_ALL, NULL);
            s->res->fork_variants_sent++;
        }
        free(bytes);
    }
}

static void step(sim *s, uint32_t i, uint32_t w, const aleph_event *ev)
{
    sim_member *mb = &s->members[i];
    sim_instance *in = &mb->inst[w];
    aleph_update up;
    aleph_member_step(in->m, ev, &up);
    s->res->steps++;
    if (mb->disk) sim_persist(s, i, &up);
    handle_notices(s, i, w, &up);
    int hold = mb->disk && sim_disk_must_hold(mb->disk) && s->cfg->restart_bug != SIM_BUG_SEND_EARLY;
    for (size_t k = 0; k < up.messages_len; k++) {
        const aleph_outgoing *o = &up.messages[k];
        if (mb->behaviour == SIM_GARBAGE) sim_garbage_observe(&mb->garbage, o->data, o->len);
        if (hold) {
            if (sim_disk_hold(mb->disk, o->to, o->data, o->len) != 0)
                sim_fail(s, NULL, "simulator out of memory (held messages)");
            continue;
        }
        sim_route(s, i, w, o->data, o->len, o->to, NULL);
        if (mb->behaviour == SIM_FORKER && s->cfg->fork_variants && o->to == ALEPH_TO_ALL)
            fork_flood(s, i, w, o->data, o->len);
    }
    for (size_t k = 0; k < up.batches_len; k++) handle_batch(s, i, w, &up.batches[k]);
    if (mb->behaviour == SIM_CRASH && !mb->crashed && in->own_round >= (int32_t)mb->crash_round)
        crash(s, i);
    if (mb->fault_end) sim_restart_check(s, i);
    if (!mb->crashed) sim_schedule_wake(s, i, w, up.wake_at_ms);
}

/* ---- events ------------------------------------------------------------------------------- */

static void on_deliver(sim *s, const sim_event *ev)
{
    sim_member *mb = &s->members[ev->to];
    if (s->adversary && !mb->crashed &&
        !sim_adversary_admit(s->adversary, ev->to, mb->inst[0].own_round, ev->msg->data,
                             ev->msg->len)) {
        hold(s, ev);
        return;
    }
    if (!mb->crashed) {
        s->res->messages_delivered++;
        aleph_event in = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = s->now, .from = ev->from,
                          .data = ev->msg->data, .len = ev->msg->len};
        if (ev->msg->hostile == 2 && mb->honest) {
            /* Every receiver must reject it, and count it. */
            aleph_member_stats before, after;
            aleph_member_stats_get(mb->inst[0].m, &before);
            step(s, ev->to, 0, &in);
            aleph_member_stats_get(mb->inst[0].m, &after);
            if (after.messages_dropped == before.messages_dropped)
                sim_fail(s, NULL,
                     "member %u did not drop a hostile message from member %u (%s, %u bytes) at "
                     "virtual ms %" PRIu64,
                     ev->to, ev->from, ev->msg->label ? ev->msg->label : "?", ev->msg->len, s->now);
        } else {
            for (uint32_t w = 0; w < mb->instances && !mb->crashed; w++) step(s, ev->to, w, &in);
        }
    } else {
        s->res->messages_to_crashed++;
    }
    sim_msg_release(ev->msg);
}

static void on_tick(sim *s, const sim_event *ev)
{
    sim_member *mb = &s->members[ev->to];
    sim_instance *in = &mb->inst[ev->aux];
    if (mb->crashed || in->wake_ms != ev->at_ms) return; /* superseded by an earlier wake */
    in->wake_ms = UINT64_MAX;
    aleph_event tick = {.kind = ALEPH_EVENT_TICK, .now_ms = s->now};
    step(s, ev->to, ev->aux, &tick);
}

static void on_load(sim *s)
{
    int any = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        sim_member *mb = &s->members[i];
        any |= mb->down; /* it comes back */
        if (mb->crashed || mb->behaviour == SIM_SILENT) continue;
        if (mb->paused) { /* its clients' transactions wait in its sockets */
            mb->loads_missed++;
            any = 1;
            continue;
        }
        /* A forker always gets transactions, so its two faces never make the same unit. */
        uint32_t k_txs = s->cfg->txs_per_tick * (1 + mb->loads_missed);
        mb->loads_missed = 0;
        if (mb->behaviour == SIM_FORKER && k_txs == 0) k_txs = 1;
        if (k_txs == 0) continue;
        for (uint32_t w = 0; w < mb->instances; w++) {
            sim_instance *in = &mb->inst[w];
            if (in->own_round >= (int32_t)s->rounds_max) continue;
            any = 1;
            for (uint32_t k = 0; k < k_txs; k++) {
                uint8_t tx[SIM_TX_BYTES];
                uint32_t who = i | (w ? 0x80000000u : 0);
                le32_put(tx, who);
                le32_put(tx + 4, in->tx_seq);
                le64_put(tx + 8, s->now);
                in->tx_seq++;
                int ok = aleph_member_submit(in->m, tx, sizeof tx) == ALEPH_SUBMIT_OK;
                if (ok && mb->honest) s->res->txs_submitted++;
                if (!ok && mb->honest && sim_checker_refused_tx(&s->checker, tx, sizeof tx) != 0)
                    sim_fail(s, NULL, "simulator out of memory (checker)");
            }
            aleph_event tick = {.kind = ALEPH_EVENT_TICK, .now_ms = s->now};
            step(s, i, w, &tick);
        }
    }
    if (any) sim_push(s, s->now + SIM_LOAD_PERIOD_MS, SIM_EV_LOAD, 0, 0, 0, NULL);
}

static void on_garbage(sim *s, const sim_event *ev)
{
    sim_member *mb = &s->members[ev->to];
    if (mb->crashed) return;
    sim_garbage_kind kind = (sim_garbage_kind)sim_rng_below(&s->fault_rng, SIM_GARBAGE_KINDS);
    uint32_t variant = (uint32_t)sim_rng_below(&s->fault_rng, 64);
    uint8_t *bytes = NULL;
    int must_drop = 0;
    const char *label = NULL;
    size_t len = sim_garbage_craft(&mb->garbage, &s->fault_rng, kind, variant, &bytes, &must_drop,
                                   &label);
    len = epoch_header(s, aleph_member_epoch(mb->inst[0].m), &bytes, len);
    if (len != (size_t)-1) {
        uint64_t sent_before = s->res->messages_sent;
        sim_hostile_tag tag = {.kind = must_drop ? 2 : 1, .label = label};
        sim_route(s, ev->to, 0, bytes, len, ALEPH_TO_ALL, &tag);
        uint64_t copies = s->res->messages_sent - sent_before;
        s->res->garbage_sent += copies;
        if (must_drop) s->res->garbage_must_drop += copies;
    }
    free(bytes);
    sim_push(s, s->now + SIM_GARBAGE_PERIOD_MS, SIM_EV_GARBAGE, ev->to, ev->to, 0, NULL);
}

/* ---- phases ------------------------------------------------------------------------------- */

static void heal(sim *s, uint64_t at_ms)
{
    s->healed = 1;
    s->res->heal_ms = at_ms;
    sim_network_heal(&s->net);
    s->liveness_deadline = at_ms + sim_liveness_ms_max(s->cfg);
    if (s->cfg->progress)
        fprintf(s->cfg->progress, "sim: seed %" PRIu64 ": healed at virtual %" PRIu64 " ms\n",
                s->cfg->seed, at_ms);
}

static int done(sim *s)
{
    if (!s->healed || !s->progress_dirty || s->honest_reached < s->honest_count) return 0;
    s->progress_dirty = 0;
    return sim_checker_complete(&s->checker, s->honest_mask, NULL, 0);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the run ------------------------------------------------------------------------------ */

static void print_members(sim *s, FILE *out)
{
    for (uint32_t i = 0; i < s->n; i++) {
        sim_member *mb = &s->members[i];
        for (uint32_t w = 0; w < mb->instances; w++) {
            aleph_member_stats st;
            aleph_member_stats_get(mb->inst[w].m, &st);
            fprintf(out,
                    "sim:   member %u%s %-7s%s created r%d ordered r%d heads %u | dag %" PRIu64
                    " shed %" PRIu64 " pending %" PRIu64 " evicted %" PRIu64 " in %" PRIu64 " dropped %" PRIu64
                    " requests %" PRIu64 " forks %" PRIu64 " pool %" PRIu64 " wake %" PRId64
                    " | coin shares made %" PRIu64 " checked %" PRIu64 " invalid %" PRIu64
                    " values %" PRIu64 "\n",
                    i, mb->instances > 1 ? (w ? "b" : "a") : " ", sim_behaviour_name(mb->behaviour),
                    mb->crashed ? " (crashed)" : "", (int)st.round_created, (int)st.round_ordered,
                    mb->heads, st.dag_units, st.units_shed, st.units_pending, st.pending_evicted,
                    st.messages_in, st.messages_dropped, st.requests_sent, st.forks_detected, st.pool_txs,
                    mb->inst[w].wake_ms == UINT64_MAX ? (int64_t)-1 : (int64_t)mb->inst[w].wake_ms,
                    st.coin_shares_created, st.coin_shares_verified, st.coin_shares_invalid,
                    st.coin_values);
        }
    }
}

static void finish(sim *s)
{
    sim_result *r = s->res;
    r->end_ms = s->now;
    r->batches = s->checker.heads_len;
    r->units_ordered = s->checker.len;
    int64_t head_min = INT64_MAX;
    for (uint32_t i = 0; i < s->n; i++) {
        sim_member *mb = &s->members[i];
        if (!mb->honest) continue;
        int64_t last = (int64_t)mb->heads - 1;
        if (last < head_min) head_min = last;
        aleph_member_stats st;
        aleph_member_stats_get(mb->inst[0].m, &st);
        r->messages_dropped += st.messages_dropped;
        r->forks_detected += st.forks_detected;
        r->alerts_sent += st.alerts_sent;
        r->alert_certificates_completed += st.alert_certificates_completed;
        r->alerts_invalid += st.alerts_invalid;
        r->forker_units_admitted += st.forker_units_admitted;
        r->forker_units_refused += st.forker_units_refused;
        r->resumes += st.resumes;
        if (st.dag_units > r->dag_units_max) r->dag_units_max = st.dag_units;
        if (st.txs_ordered > r->txs_ordered) r->txs_ordered = st.txs_ordered;
        if (i == 0 || st.epoch < r->epoch_min) r->epoch_min = st.epoch;
        if (st.epoch > r->epoch_max) r->epoch_max = st.epoch;
        r->epoch_stale_dropped += st.epoch_stale_dropped;
        r->epoch_ahead_dropped += st.epoch_ahead_dropped;
        r->epoch_far_dropped += st.epoch_far_dropped;
        r->epoch_answers += st.epoch_answers;
        r->archive_answers += st.archive_answers;
        if (st.epochs_kept_now > r->epochs_kept_max) r->epochs_kept_max = st.epochs_kept_now;
    }
    r->head_round_min = head_min < 0 || head_min == INT64_MAX ? UINT32_MAX : (uint32_t)head_min;
    for (uint32_t k = 0; k < s->drops_len && k < 32; k++) {
        r->drop_reasons[k].reason = s->drops[k].reason;
        r->drop_reasons[k].count = s->drops[k].count;
        r->drop_reasons_len = k + 1;
    }
    r->messages_lost = s->net.lost;
    r->messages_cut = s->net.cut_by_partition;
    r->messages_duplicated = s->net.duplicated;
    r->sig_checks = s->sigs.checks;
    r->sig_cache_hits = s->sigs.hits;
    r->queue_len_max = s->queue.len_max;
    r->txs_confirmed = s->checker.txs_confirmed;
    r->signed_units = s->checker.signed_total;
    r->txs_set_apart = s->checker.txs_set_apart;
    r->units_set_apart = s->checker.units_set_apart;
    r->txs_required = s->checker.txs_required;
    for (uint32_t i = 0; i < s->n; i++) {
        const sim_disk *d = s->members[i].disk;
        if (!d) continue;
        r->syncs += d->syncs;
        r->messages_held += d->held_total;
    }
    r->latency_ms = sim_samples_summary(&s->e2e);
    r->consensus_latency_ms = sim_samples_summary(&s->consensus);

    if (s->failed) return;
    if (s->honest_reached < s->honest_count) {
        for (uint32_t i = 0; i < s->n; i++) {
            sim_member *mb = &s->members[i];
            if (!mb->honest || mb->reached_target) continue;
            char upto[32];
            if (mb->heads) snprintf(upto, sizeof upto, "round %u", mb->heads - 1);
            else snprintf(upto, sizeof upto, "no round");
            sim_fail(s, &r->liveness,
                 "liveness violated: member %u ordered heads up to %s, target %u, by virtual "
                 "ms %" PRIu64 " (healed at %" PRIu64 " ms%s)",
                 i, upto, s->target, s->now, r->heal_ms,
                 s->healed ? "" : ", never: the faulty phase did not end");
            return;
        }
    }
    char msg[sizeof r->failure];
    if (!sim_checker_complete(&s->checker, s->honest_mask, msg, sizeof msg))
        sim_fail(s, &r->complete, "%s (virtual ms %" PRIu64 ")", msg, s->now);
    else if (!sim_checker_txs_complete(&s->checker, msg, sizeof msg))
        sim_fail(s, &r->exactly_once, "%s", msg);
}

int sim_run(const sim_config *cfg, sim_result *res)
{
    memset(res, 0, sizeof *res);
    res->agreement = res->liveness = res->complete = 1;
    res->signed_once = res->exactly_once = 1;
    res->members = cfg->members;
    res->faulty = cfg->byzantine + cfg->crashed;
    res->rounds = cfg->rounds;
    res->seed = cfg->seed;
    res->target_round = sim_target_round(cfg);
    res->rounds_max = sim_rounds_max(cfg);
    res->adversary_round = cfg->adversary_round;
    res->adversary_head_delay = UINT32_MAX;
    char err[512];
    if (sim_config_check(cfg, err, sizeof err)) {
        res->setup_failed = 1;
        snprintf(res->failure, sizeof res->failure, "%s", err);
        return 2;
    }
    double wall_start = wall_now();
    sim *s = calloc(1, sizeof *s);
    if (!s) {
        res->setup_failed = 1;
        snprintf(res->failure, sizeof res->failure, "out of memory");
        return 2;
    }
    s->cfg = cfg;
    s->res = res;
    if (sim_setup(s, err, sizeof err) != 0) {
        res->setup_failed = 1;
        snprintf(res->failure, sizeof res->failure, "%s", err);
        if (s->dumping) sim_dump_close(&s->dump);
        sim_teardown(s);
        free(s);
        return 2;
    }

    /* Time 0: transactions first (so the first units carry some), then every member starts. */
    sim_push(s, 0, SIM_EV_LOAD, 0, 0, 0, NULL);
    sim_pause_setup(s);
    for (uint32_t i = 0; i < s->n; i++) {
        for (uint32_t w = 0; w < s->members[i].instances; w++) sim_schedule_wake(s, i, w, 0);
        if (s->members[i].behaviour == SIM_GARBAGE)
            sim_push(s, SIM_GARBAGE_PERIOD_MS / 2 + sim_rng_below(&s->fault_rng, SIM_GARBAGE_PERIOD_MS),
                 SIM_EV_GARBAGE, i, i, 0, NULL);
    }

    sim_event ev;
    while (!s->failed && sim_queue_pop(&s->queue, &ev)) {
        if (!s->healed && ev.at_ms >= s->faulty_deadline) heal(s, s->faulty_deadline);
        if (s->healed && ev.at_ms > s->liveness_deadline) {
            if (ev.msg) sim_msg_release(ev.msg);
            s->now = s->liveness_deadline;
            break;
        }
        s->now = ev.at_ms;
        if (sim_pause_defer(s, &ev)) continue;
        switch (ev.kind) {
        case SIM_EV_TICK: on_tick(s, &ev); break;
        case SIM_EV_DELIVER: on_deliver(s, &ev); break;
        case SIM_EV_LOAD: on_load(s); break;
        case SIM_EV_GARBAGE: on_garbage(s, &ev); break;
        case SIM_EV_SYNC: sim_persist_on_sync(s, &ev); break;
        case SIM_EV_CRASH: sim_restart_on_crash(s, &ev); break;
        case SIM_EV_RESTART: sim_restart_on_restart(s, &ev); break;
        case SIM_EV_PAUSE: sim_pause_on_pause(s, &ev); break;
        case SIM_EV_CONTINUE: sim_pause_on_continue(s, &ev); break;
        default: break;
        }
        if (!s->healed && s->honest_at_heal_round == s->honest_count) heal(s, s->now);
        if (done(s)) break;
    }
    finish(s);
    for (uint32_t i = 0; s->dumping && i < s->n; i++)
        sim_dump_coins(&s->dump, i, s->members[i].inst[0].m, s->rounds_max + SIM_ROUNDS_SLACK);
    if (s->dumping && sim_dump_close(&s->dump) != 0 && !s->failed)
        sim_fail(s, NULL, "--dump: writing %s failed", cfg->dump_dir);
    res->ok = !s->failed;
    if (cfg->progress) print_members(s, cfg->progress);
    sim_teardown(s);
    free(s);
    res->wall_s = wall_now() - wall_start;
    if (cfg->progress)
        fprintf(cfg->progress, "sim: seed %" PRIu64 ": %s\n", cfg->seed, res->ok ? "ok" : res->failure);
    return res->ok ? 0 : 1;
}

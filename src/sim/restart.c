#include "restart.h"

#include "engine.h"
#include "persist.h"

#include <assert.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int fault_order(const void *a, const void *b)
{
    const sim_fault *x = a, *y = b;
    if (x->member != y->member) return x->member < y->member ? -1 : 1;
    return x->round < y->round ? -1 : x->round > y->round;
}

/* With epochs, two faults in three fall at a boundary b (1 .. the last before round_max):
 * one third once the member's own round is in bE-2 .. bE+5 (before the switch: its last
 * rounds of epoch b-1 and the rounds above E-1 it makes until it orders head E-1; after it:
 * its first rounds of epoch b), one third at the switch itself, in the step that moves it to
 * epoch b, then 0 .. 2 fsync_ms + 1 later (before, while and after the new file's marker is
 * synced). */
static void near_boundary(sim *s, sim_fault *f, uint32_t round_max)
{
    uint32_t e_rounds = s->cfg->epoch_rounds;
    uint32_t kind = (uint32_t)sim_rng_below(&s->restart_rng, 3);
    uint32_t last = round_max / e_rounds ? round_max / e_rounds : 1;
    uint32_t b = (uint32_t)sim_rng_range(&s->restart_rng, 1, last);
    uint32_t offset = (uint32_t)sim_rng_range(&s->restart_rng, 0, 7);
    if (kind == 1) f->round = b * e_rounds + offset - 2;
    if (kind == 2) {
        f->epoch = b;
        f->round = b * e_rounds; /* the plan's order */
    }
}

int sim_restart_setup(sim *s, char *err, size_t err_len)
{
    const sim_config *cfg = s->cfg;
    sim_rng_seed(&s->restart_rng, cfg->seed, RESTART_STREAM);
    int disks = cfg->restarts > 0 || cfg->fsync_ms >= 0;
    s->fsync_ms = cfg->fsync_ms >= 0 ? (uint64_t)cfg->fsync_ms : SIM_FSYNC_MS_DEFAULT;
    for (uint32_t i = 0; disks && i < s->n; i++) {
        sim_member *mb = &s->members[i];
        if (!mb->honest) continue;
        if (!(mb->disk = malloc(sizeof *mb->disk))) goto oom;
        sim_disk_init(mb->disk);
        uint32_t kept = aleph_config_epochs_kept(&s->acfg);
        mb->disk->finished_kept = kept ? kept + cfg->epochs_archived : 0;
    }
    if (!cfg->restarts || !s->honest_count) return 0;
    uint32_t *honest = malloc(s->honest_count * sizeof *honest), h = 0;
    s->faults = calloc(cfg->restarts, sizeof *s->faults);
    if (!honest || !s->faults) {
        free(honest);
        goto oom;
    }
    for (uint32_t i = 0; i < s->n; i++)
        if (s->members[i].honest) honest[h++] = i;
    uint32_t round_max = s->heal_round > 2 ? s->heal_round - 1 : 1;
    uint64_t down_min = cfg->down_ms_min, down_max = cfg->down_ms_max;
    for (uint32_t k = 0; k < cfg->restarts; k++) {
        sim_fault *f = &s->faults[k];
        f->member = honest[sim_rng_below(&s->restart_rng, h)];
        f->round = (uint32_t)sim_rng_range(&s->restart_rng, 1, round_max);
        f->delay_ms = (uint32_t)sim_rng_range(&s->restart_rng, 0, 2 * s->fsync_ms + 1);
        f->down_ms = sim_rng_range(&s->restart_rng, down_min, down_max);
        f->lost = sim_rng_chance(&s->restart_rng, cfg->backup_lost);
        if (cfg->epoch_rounds) near_boundary(s, f, round_max);
    }
    free(honest);
    s->faults_len = cfg->restarts;
    qsort(s->faults, s->faults_len, sizeof *s->faults, fault_order);
    for (uint32_t k = 0; k < s->faults_len; k++) {
        sim_member *mb = &s->members[s->faults[k].member];
        if (mb->fault_end == 0) mb->fault_next = k;
        mb->fault_end = k + 1;
    }
    return 0;
oom:
    snprintf(err, err_len, "out of memory (crash-restart faults)");
    return -1;
}

void sim_restart_teardown(sim *s)
{
    for (uint32_t i = 0; s->members && i < s->n; i++) {
        if (!s->members[i].disk) continue;
        sim_disk_free(s->members[i].disk);
        free(s->members[i].disk);
    }
    free(s->faults);
}

void sim_restart_check(sim *s, uint32_t i)
{
    sim_member *mb = &s->members[i];
    if (mb->crash_pending || mb->down || mb->fault_next >= mb->fault_end) return;
    const sim_fault *f = &s->faults[mb->fault_next];
    if (f->epoch ? aleph_member_epoch(mb->inst[0].m) < f->epoch
                 : mb->inst[0].own_round < (int32_t)f->round)
        return;
    mb->crash_pending = 1;
    sim_push(s, s->now + f->delay_ms, SIM_EV_CRASH, i, i, mb->fault_next, NULL);
}

void sim_restart_on_crash(sim *s, const sim_event *ev)
{
    sim_member *mb = &s->members[ev->to];
    const sim_fault *f = &s->faults[ev->aux];
    mb->crash_pending = 0;
    if (mb->down) return; /* it had exited (refused); the fault comes again once it is back */
    mb->down = mb->crashed = 1;
    mb->life++; /* a sync in flight completes for nobody */
    mb->epoch_at_crash = aleph_member_epoch(mb->inst[0].m);
    if (f->epoch) s->res->crashes_at_switch++;
    uint64_t lost = mb->disk->lost_records, held = mb->disk->lost_held;
    sim_disk_crash(mb->disk, &s->restart_rng);
    sim_checker_rewind_floor(&s->checker, ev->to, mb->disk->epoch_durable);
    s->res->records_lost += mb->disk->lost_records - lost;
    s->res->messages_held_lost += mb->disk->lost_held - held;
    if (s->cfg->progress)
        fprintf(s->cfg->progress,
                "sim: seed %" PRIu64 ": member %u crashed at virtual %" PRIu64
                " ms (own round %d, epoch %u), back in %" PRIu64 " ms%s\n",
                s->cfg->seed, ev->to, s->now, (int)mb->inst[0].own_round,
                aleph_member_epoch(mb->inst[0].m), f->down_ms,
                f->lost ? " with its backup deleted" : "");
    sim_push(s, s->now + f->down_ms, SIM_EV_RESTART, ev->to, ev->to, ev->aux, NULL);
}

static void restore_refused(sim *s, uint32_t i, size_t k, const char *why)
{
    sim_fail(s, NULL, "member %u: restart refused backup record %zu of %zu at virtual ms %" PRIu64
             ": %s", i, k, s->members[i].disk->len, s->now, why);
}

/* Record k of member i's disk, restored (and seen in the dump): 0, -1 when refused. */
static int restore_one(sim *s, uint32_t i, aleph_member *m, size_t k)
{
    const sim_disk_record *r = &s->members[i].disk->records[k];
    const char *why = r->kind == SIM_DISK_EPOCH /* a finished epoch's file (not the newest's) */
                          ? aleph_member_restore_finished(m, le32_get(r->data), le64_get(r->data + 4))
                          : aleph_member_restore_record(m, r->kind, r->data, r->len);
    if (why) {
        restore_refused(s, i, k, why);
        return -1;
    }
    aleph_unit_info u;
    uint32_t unit_epoch;
    if (s->dumping && r->kind == ALEPH_PERSIST_UNIT &&
        !sim_inspect_own(s, r->data, r->len, &u, &unit_epoch))
        sim_dump_unit_added(&s->dump, i, 0, u.creator, u.round, u.hash);
    return 0;
}

/* Feeds the backup files on the disk to the new member, as the node reads its
 * backup-EPOCH.bin files: the finished epochs' (kept to answer members still in them) oldest
 * first, then the newest from its marker (epoch, session, carry) on, as the current epoch.
 * Returns the epoch restored into, -1 (failed) when a record is refused. */
static int64_t restore(sim *s, uint32_t i, aleph_member *m)
{
    const sim_disk *d = s->members[i].disk;
    uint32_t epoch = 0;
    uint64_t session;
    const uint8_t *carry;
    size_t carry_len, from = 0;
    size_t marker = sim_disk_epoch_start(d, &epoch, &session, &carry, &carry_len);
    if (marker != SIZE_MAX) {
        /* the files of the kept finished epochs from `start` on; older ones are the
         * archive's (epochs_archived): on the disk, not restored */
        uint32_t kept = aleph_config_epochs_kept(&s->acfg), first = epoch > kept ? epoch - kept : 0;
        size_t start = 0;
        for (uint32_t file_epoch = 0; start < marker; start++) {
            if (d->records[start].kind == SIM_DISK_EPOCH) file_epoch = le32_get(d->records[start].data);
            if (file_epoch >= first) break;
        }
        /* epoch 0's file has no marker */
        const char *why = marker > 0 && start == 0 && d->records[0].kind != SIM_DISK_EPOCH &&
                                  s->cfg->restart_bug != SIM_BUG_NO_KEPT
                              ? aleph_member_restore_finished(m, 0, s->acfg.session)
                              : NULL;
        if (why) {
            restore_refused(s, i, 0, why);
            return -1;
        }
        if (s->cfg->restart_bug != SIM_BUG_NO_KEPT)
            for (size_t k = start; k < marker; k++)
                if (restore_one(s, i, m, k) != 0) return -1;
        if (s->cfg->restart_bug == SIM_BUG_NO_CARRY) carry_len = 0;
        why = aleph_member_restore_epoch(m, epoch, session, carry, carry_len);
        if (why) {
            restore_refused(s, i, marker, why);
            return -1;
        }
        from = marker + 1;
    }
    for (size_t k = from; k < d->len; k++)
        if (restore_one(s, i, m, k) != 0) return -1;
    if (aleph_member_epoch(m) != epoch) {
        sim_fail(s, NULL, "member %u restored into epoch %u from a backup of epoch %u", i,
                 aleph_member_epoch(m), epoch);
        return -1;
    }
    return epoch;
}

void sim_restart_on_restart(sim *s, const sim_event *ev)
{
    uint32_t i = ev->to;
    sim_member *mb = &s->members[i];
    sim_instance *in = &mb->inst[0];
    int refused = ev->aux == SIM_FAULT_REFUSED;
    const sim_fault *f = refused ? NULL : &s->faults[ev->aux];
    if (refused) {
        /* the operator's restart with recover after a refusal: the backup stays */
    } else if (f->lost) {
        mb->wiped = 1;
        sim_disk_wipe(mb->disk);
        sim_checker_excuse(&s->checker, i, i);
        s->res->restarts_backup_lost++;
    }
    aleph_config c = s->acfg;
    c.own_check = s->cfg->restart_bug != SIM_BUG_NO_OWN_CHECK;
    c.recover = refused || f->lost;
    aleph_member_free(in->m);
    const char *why = NULL;
    in->m = aleph_member_new(&c, &s->secrets[i], &why);
    if (!in->m) {
        sim_fail(s, NULL, "member %u: cannot restart: %s", i, why ? why : "?");
        return;
    }
    if (s->dumping) sim_dump_restart(&s->dump, i);
    int64_t epoch = restore(s, i, in->m);
    if (epoch < 0) return;
    sim_persist_restored(s, i);
    aleph_member_stats st;
    aleph_member_stats_get(in->m, &st);
    s->res->units_restored += st.units_restored;
    if (!refused) s->res->restarts++;
    if (epoch > 0) s->res->restarts_epoch_later++;
    if ((uint32_t)epoch < mb->epoch_at_crash) s->res->restarts_cut_switch++;
    /* global, as handle_notices counts: below the epoch's first round when none is restored */
    uint32_t e0 = sim_global_round(s, (uint32_t)epoch, 0);
    in->own_round = st.round_created == UINT32_MAX ? (int32_t)e0 - 1
                                                   : (int32_t)sim_global_round(s, (uint32_t)epoch,
                                                                               st.round_created);
    in->wake_ms = in->spin_ms = UINT64_MAX;
    in->spin_count = 0;
    mb->down = mb->crashed = 0;
    if (!refused) mb->fault_next++;
    sim_checker_restart(&s->checker, i, (uint32_t)epoch);
    sim_schedule_wake(s, i, 0, s->now);
}

void sim_restart_refused(sim *s, uint32_t i)
{
    sim_member *mb = &s->members[i];
    if (mb->down) return;
    /* It exits: nothing is lost that the OS had, but what waited for the disk never left. */
    mb->down = mb->crashed = 1;
    mb->life++;
    sim_disk_exit(mb->disk);
    s->res->restarts_refused++;
    sim_push(s, s->now + 1, SIM_EV_RESTART, i, i, SIM_FAULT_REFUSED, NULL);
}

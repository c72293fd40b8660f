#include "restart.h"

#include "engine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int fault_order(const void *a, const void *b)
{
    const sim_fault *x = a, *y = b;
    if (x->member != y->member) return x->member < y->member ? -1 : 1;
    return x->round < y->round ? -1 : x->round > y->round;
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
    if (mb->inst[0].own_round < (int32_t)f->round) return;
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
    uint64_t lost = mb->disk->lost_records, held = mb->disk->lost_held;
    sim_disk_crash(mb->disk, &s->restart_rng);
    s->res->records_lost += mb->disk->lost_records - lost;
    s->res->messages_held_lost += mb->disk->lost_held - held;
    if (s->cfg->progress)
        fprintf(s->cfg->progress,
                "sim: seed %" PRIu64 ": member %u crashed at virtual %" PRIu64
                " ms (own round %d), back in %" PRIu64 " ms%s\n",
                s->cfg->seed, ev->to, s->now, (int)mb->inst[0].own_round, f->down_ms,
                f->lost ? " with its backup deleted" : "");
    sim_push(s, s->now + f->down_ms, SIM_EV_RESTART, ev->to, ev->to, ev->aux, NULL);
}

/* Feeds the records on the disk to the new member; -1 (failed) when one is refused. */
static int restore(sim *s, uint32_t i, aleph_member *m)
{
    const sim_disk *d = s->members[i].disk;
    for (size_t k = 0; k < d->len; k++) {
        const sim_disk_record *r = &d->records[k];
        const char *why = aleph_member_restore_record(m, r->kind, r->data, r->len);
        if (why) {
            sim_fail(s, NULL,
                     "member %u: restart refused backup record %zu of %zu at virtual ms %" PRIu64
                     ": %s",
                     i, k, d->len, s->now, why);
            return -1;
        }
        aleph_unit_info u;
        if (s->dumping && r->kind == ALEPH_PERSIST_UNIT &&
            !aleph_unit_inspect(&s->acfg, r->data, r->len, &u))
            sim_dump_unit_added(&s->dump, i, 0, u.creator, u.round, u.hash);
    }
    return 0;
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
    if (restore(s, i, in->m) != 0) return;
    aleph_member_stats st;
    aleph_member_stats_get(in->m, &st);
    s->res->units_restored += st.units_restored;
    if (!refused) s->res->restarts++;
    in->own_round = st.round_created == UINT32_MAX ? -1 : (int32_t)st.round_created;
    in->wake_ms = in->spin_ms = UINT64_MAX;
    in->spin_count = 0;
    mb->down = mb->crashed = 0;
    if (!refused) mb->fault_next++;
    sim_checker_restart(&s->checker, i);
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

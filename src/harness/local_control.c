/* `aleph local`'s control loop: every 50 ms it reaps the members, reads the first
 * survivor's output, kills the faulty members at half time, moves from load to drain to stop,
 * and prints the progress line. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "local_run.h"

static double now_s(const local_run *r)
{
    return (double)(clock_mono_ns() - r->start_mono_ns) / 1e9;
}

/* ---- progress ------------------------------------------------------------------------------ */

static void progress(local_run *r, double t, int final)
{
    if (r->o.quiet) return;
    member_track *m = &r->an.m[r->first_survivor];
    static double last_t;
    double dt = t - last_t;
    if (dt <= 0) dt = 1;
    double txs = (double)m->interval_txs / dt;
    double p50 = samples_percentile(&m->interval_latency_us, 50) / 1000.0;
    last_t = t;
    m->interval_txs = 0;
    m->interval_latency_us.len = 0;
    const char *phase = r->phase == PH_LOAD ? "load" : r->phase == PH_DRAIN ? "drain" : "stop";
    char line[256];
    snprintf(line, sizeof line,
             "[%5.1fs %-5s] round %u | ordered %.0f tx/s | p50 latency %.0f ms | sent %" PRIu64
             " | members up %u/%u",
             t, phase, m->last_round, txs, p50, r->lg.sent_total, local_running_count(r), r->o.members);
    if (r->tty) {
        fprintf(stderr, "\r%-110s", line);
        if (final) fputc('\n', stderr);
        r->progress_printed = 1;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

/* ---- control loop ---------------------------------------------------------------------------- */

void local_poll_outputs(local_run *r)
{
    const char **paths = calloc(r->o.members, sizeof *paths);
    if (!paths) return;
    for (uint32_t i = 0; i < r->o.members; i++) paths[i] = r->p[i].output_path;
    analysis_poll_all(&r->an, paths);
    free(paths);
}

/* 1 when member i writes a hash chain, not its full output. */
static int chain_member(const local_run *r, uint32_t i)
{
    return i != 0 && !r->o.full_output;
}

/* During the run the first survivor's output is read (progress, drain) and the hash chains
 * of the others (small); full outputs of the others are read once the members have
 * stopped, so that the harness takes little CPU from them. */
static void poll_live(local_run *r)
{
    for (uint32_t i = 0; i < r->o.members; i++)
        if (chain_member(r, i)) analysis_poll(&r->an, i, r->p[i].output_path);
    analysis_poll(&r->an, r->first_survivor, r->p[r->first_survivor].output_path);
}

/* Drained: the first survivor has output every transaction a surviving member accepted, and
 * every other survivor's output is at least as long: as many batches for a hash chain;
 * for a full output as many bytes (full outputs are byte-identical but for the output
 * times, so equal length means the same batches). The final check verifies it. */
static int drain_complete(local_run *r)
{
    if (loadgen_unanswered(&r->lg)) return 0;
    member_track *m0 = &r->an.m[r->first_survivor];
    for (uint32_t o = 0; o < r->o.members; o++)
        if (local_survivor(r, o) && m0->seen[o] < r->lg.targets[o].ok) return 0;
    for (uint32_t m = 0; m < r->o.members; m++) {
        if (!local_survivor(r, m) || m == r->first_survivor) continue;
        const member_track *t = &r->an.m[m];
        if (chain_member(r, m)) {
            if (t->seq0 + t->batches < m0->seq0 + m0->batches) return 0;
            continue;
        }
        struct stat st;
        if (stat(r->p[m].output_path, &st) != 0 ||
            (uint64_t)st.st_size < m0->follow.t.consumed)
            return 0;
    }
    return 1;
}

void local_begin_stop(local_run *r)
{
    r->phase = PH_STOP;
    r->phase_mono_ns = clock_mono_ns();
    loadgen_close(&r->lg);
    for (uint32_t i = 0; i < r->o.members; i++)
        if (r->p[i].running) kill(r->p[i].pid, SIGTERM);
}

void local_on_control(uv_timer_t *t)
{
    local_run *r = t->data;
    double now = now_s(r);
    local_reap(r);
    poll_live(r);
    for (uint32_t i = 0; i < r->o.members; i++) {
        if (local_unexpected_exit(r, i) && !r->p[i].exit_reported) {
            r->p[i].exit_reported = 1;
            char line[512];
            local_first_stderr_line(&r->p[i], line, sizeof line);
            if (r->tty && r->progress_printed) fputc('\n', stderr);
            fprintf(stderr, "aleph local: member %u exited unexpectedly%s%s\n", i,
                    line[0] ? ": " : "", line);
            if (r->phase < PH_STOP) local_begin_stop(r);
        }
    }
    switch (r->phase) {
    case PH_LOAD:
        if (r->o.faulty && !r->faulty_killed && now >= r->o.duration_s / 2) {
            r->faulty_killed = 1;
            /* rounds restart in every epoch: count batches (one per round) */
            r->batches_at_kill = r->an.m[r->first_survivor].batches;
            for (uint32_t i = r->o.members - r->o.faulty; i < r->o.members; i++) {
                r->p[i].killed_by_us = 1;
                kill(r->p[i].pid, SIGKILL);
            }
            if (!r->o.quiet) {
                if (r->tty && r->progress_printed) fputc('\n', stderr);
                fprintf(stderr, "aleph local: killed the last %u member(s) at %.1f s\n",
                        r->o.faulty, now);
            }
        }
        if (now >= r->o.duration_s) {
            loadgen_stop(&r->lg);
            r->phase = PH_DRAIN;
            r->phase_mono_ns = clock_mono_ns();
        }
        break;
    case PH_DRAIN: {
        double in_phase = (double)(clock_mono_ns() - r->phase_mono_ns) / 1e9;
        if (drain_complete(r)) {
            r->drained = 1;
            r->drain_s = in_phase;
            local_begin_stop(r);
        } else if (in_phase > r->o.drain_timeout_s) {
            r->drain_s = in_phase;
            local_begin_stop(r);
        }
        break;
    }
    case PH_STOP: {
        double in_phase = (double)(clock_mono_ns() - r->phase_mono_ns) / 1e9;
        if (local_running_count(r) == 0) {
            r->phase = PH_DONE;
            uv_timer_stop(&r->control);
            uv_close((uv_handle_t *)&r->control, NULL);
            uv_close((uv_handle_t *)&r->sigint, NULL);
            uv_close((uv_handle_t *)&r->sigterm, NULL);
        } else if (in_phase > 10) {
            r->failed_to_stop = 1;
            for (uint32_t i = 0; i < r->o.members; i++)
                if (r->p[i].running) kill(r->p[i].pid, SIGKILL);
        }
        break;
    }
    case PH_DONE:
        break;
    }
    if (r->phase != PH_DONE && now >= r->next_progress_s) {
        progress(r, now, 0);
        r->next_progress_s = now + (r->tty ? 0.5 : 2.0);
    }
}

void local_on_local_signal(uv_signal_t *s, int signum)
{
    local_run *r = s->data;
    r->interrupted = 1;
    if (r->phase == PH_LOAD) {
        /* The load stops here, not at --duration: figures over the window it really ran
         * (a rate over the planned window would count seconds in which nothing was sent). */
        uint64_t now_ns = clock_real_ns();
        r->load_end_real_ns = now_ns;
        run_window(r->start_real_ns, now_ns, &r->an.window_start_ns, &r->an.window_end_ns);
    }
    if (r->phase < PH_STOP) {
        if (!r->o.quiet) fprintf(stderr, "\naleph local: interrupted; stopping the members\n");
        local_begin_stop(r);
    }
}

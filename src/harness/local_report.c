/* `aleph local`'s checks and figures: exactly-once delivery from the client's answers, the
 * "harness" object of run.json, the run's configuration. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local_run.h"
#include "base/keys.h"
#include "measure/logscan.h"

/* Accepted transactions of surviving members that member m's output lacks (counted). */
static uint64_t missing_at(local_run *r, const member_track *t, harness_check *hc)
{
    uint64_t missing = 0;
    for (uint32_t o = 0; o < r->o.members; o++) {
        lg_target *tg = &r->lg.targets[o];
        for (uint64_t s = 0; s < tg->sent; s++) {
            uint8_t c = s < t->counts_cap[o] ? t->counts[o][s] : 0;
            uint8_t st = tg->status[s];
            if (st == LG_OK && c == 0 && local_survivor(r, o)) missing++;
            if (hc && (st == LG_POOL_FULL || st == LG_TOO_LARGE) && c) hc->refused_but_output++;
        }
    }
    return missing;
}

void local_check_exactly_once(local_run *r, harness_check *hc)
{
    memset(hc, 0, sizeof *hc);
    uint32_t n = r->o.members;
    /* A member in chain mode output what the reference (member 0, full, never killed)
     * output up to the same batch, its chain agreeing (checked apart): it lacks what the
     * reference lacks and the load transactions of the reference's batches it has not
     * reached. */
    const member_track *ref = &r->an.m[0];
    uint64_t ref_missing = missing_at(r, ref, NULL);
    for (uint32_t m = 0; m < n; m++) {
        member_track *t = &r->an.m[m];
        hc->duplicates += t->duplicates;
        if (!local_survivor(r, m)) continue;
        if (t->chain_only && !ref->chain_only)
            hc->missing += ref_missing + analysis_load_txs_from(&r->an, 0, t->seq0 + t->batches);
        else
            hc->missing += missing_at(r, t, hc);
    }
    if (r->interrupted) {
        /* Not drained: transactions still in flight are not missing. */
        hc->exactly_once = hc->duplicates == 0 && hc->refused_but_output == 0;
        snprintf(hc->why, sizeof hc->why,
                 "interrupted before the drain: %" PRIu64 " accepted tx not output yet, %" PRIu64
                 " output twice, %" PRIu64 " refused but output",
                 hc->missing, hc->duplicates, hc->refused_but_output);
        return;
    }
    hc->exactly_once = hc->missing == 0 && hc->duplicates == 0 && hc->refused_but_output == 0;
    if (hc->exactly_once)
        snprintf(hc->why, sizeof hc->why,
                 "every accepted tx output exactly once at every surviving member");
    else
        snprintf(hc->why, sizeof hc->why,
                 "%" PRIu64 " accepted tx missing, %" PRIu64 " output twice, %" PRIu64
                 " refused but output",
                 hc->missing, hc->duplicates, hc->refused_but_output);
}

json_t *local_harness_json(local_run *r, const harness_check *hc)
{
    uint64_t sent = 0, accepted = 0, pool_full = 0, too_large = 0, unanswered = 0;
    for (uint32_t i = 0; i < r->o.members; i++) {
        lg_target *t = &r->lg.targets[i];
        sent += t->sent;
        accepted += t->ok;
        pool_full += t->pool_full;
        too_large += t->too_large;
        unanswered += t->sent - t->acked;
    }
    double members_cpu = 0;
    for (uint32_t i = 0; i < r->o.members; i++) members_cpu += local_rusage_cpu_s(&r->p[i].ru);
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    double harness_cpu = local_rusage_cpu_s(&self);
    double other = r->busy_at_end_s - r->busy_at_spawn_s - members_cpu - harness_cpu;
    json_t *h = json_object();
    json_object_set_new(h, "exactly_once", json_boolean(hc->exactly_once));
    json_object_set_new(h, "exactly_once_why", json_string(hc->why));
    json_object_set_new(h, "txs_sent", json_integer((json_int_t)sent));
    json_object_set_new(h, "txs_accepted", json_integer((json_int_t)accepted));
    json_object_set_new(h, "txs_refused_pool_full", json_integer((json_int_t)pool_full));
    json_object_set_new(h, "txs_refused_too_large", json_integer((json_int_t)too_large));
    json_object_set_new(h, "txs_unanswered", json_integer((json_int_t)unanswered));
    json_object_set_new(h, "txs_missing", json_integer((json_int_t)hc->missing));
    json_object_set_new(h, "txs_duplicated", json_integer((json_int_t)hc->duplicates));
    json_object_set_new(h, "client_kept_rate", json_boolean(loadgen_kept_rate(&r->lg)));
    /* What the run left on disk (backups, outputs, logs) before the summary files. */
    json_object_set_new(h, "disk_bytes", json_integer((json_int_t)dir_disk_bytes(r->dir)));
    json_object_set_new(h, "drained", json_boolean(r->drained));
    json_object_set_new(h, "drain_s", json_real(round(r->drain_s * 100) / 100));
    json_object_set_new(h, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(h, "unexpected_exits", json_integer(local_unexpected_exits(r)));
    json_object_set_new(h, "harness_cpu_s", json_real(round(harness_cpu * 100) / 100));
    json_object_set_new(h, "other_cpu_s", json_real(round((other > 0 ? other : 0) * 100) / 100));
    json_object_set_new(h, "cores", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    if (r->faulty_killed) json_object_set_new(h, "batches_at_kill", json_integer((json_int_t)r->batches_at_kill));
    return h;
}

void local_config(const local_run *r, run_config *c)
{
    const local_options *o = &r->o;
    run_config_defaults(c);
    c->members = o->members;
    c->faulty = o->faulty;
    c->tx_size = o->tx_size;
    c->offered_tx_s = o->rate;
    c->duration_s = o->duration_s;
    c->round_delay_ms = o->round_delay_ms >= 0 ? o->round_delay_ms : 2;
    c->unit_bytes_max = o->unit_bytes_max;
    snprintf(c->coin, sizeof c->coin, "%s", o->coin == ALEPH_COIN_OFF ? "off" : "threshold");
    c->client_id_base = LOCAL_CLIENT_ID_BASE;
    snprintf(c->network, sizeof c->network, "%s",
             o->wan && o->hosts ? "emulated-wan+netns" : o->wan ? "emulated-wan"
                                                 : o->hosts   ? "netns"
                                                              : "loopback");
    if (o->wan) {
        const char *base = strrchr(o->wan, '/');
        snprintf(c->wan_matrix, sizeof c->wan_matrix, "%s", base ? base + 1 : o->wan);
    }
    c->jitter_ms = o->jitter_ms;
    c->loss = o->loss;
    c->bandwidth_mbit = o->bandwidth_mbit;
    c->load_start_ns = r->start_real_ns;
    c->window_start_ns = r->an.window_start_ns;
    c->window_end_ns = r->an.window_end_ns;
    snprintf(c->command, sizeof c->command, "%s", r->command);
}

static void write_load_json(local_run *r, json_t *harness)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/load.json", r->dir);
    json_t *lj = json_object();
    json_object_set(lj, "sent", json_object_get(harness, "txs_sent"));
    json_object_set(lj, "accepted", json_object_get(harness, "txs_accepted"));
    json_object_set(lj, "refused_pool_full", json_object_get(harness, "txs_refused_pool_full"));
    json_object_set(lj, "kept_rate", json_object_get(harness, "client_kept_rate"));
    json_t *ps = json_array();
    for (size_t s = 0; s < r->lg.per_second_len; s++)
        json_array_append_new(ps, json_integer((json_int_t)r->lg.per_second[s]));
    json_object_set_new(lj, "per_second", ps);
    json_dump_file(lj, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(lj);
}

/* Writes summary.json, summary.txt and the CSV files, and prints the summary. */
static void write_summary(local_run *r, run_summary *sum, const summary_inputs *in)
{
    char err[KEYS_ERR_MAX];
    if (summary_write_files(sum, in, r->dir, r->dir, err, sizeof err) != 0)
        fprintf(stderr, "aleph local: %s\n", err);
    summary_print(sum, r->dir, r->o.json);
}

/* The run's verdict from the summary and the checks: 0 passed, 1 failed. */
static int verdict(const local_run *r, const run_summary *sum, const harness_check *hc)
{
    int status = 0;
    if (sum->agreement == 0) {
        fprintf(stderr, "aleph local: FAILED: the members' outputs disagree: %s\n",
                sum->agreement_why);
        status = 1;
    }
    if (!hc->exactly_once) {
        fprintf(stderr, "aleph local: FAILED: %s\n", hc->why);
        status = 1;
    }
    if (local_unexpected_exits(r)) {
        fprintf(stderr, "aleph local: FAILED: %d member(s) exited unexpectedly\n",
                local_unexpected_exits(r));
        status = 1;
    }
    if (r->o.faulty == 0 && sum->warn_lines) {
        fprintf(stderr, "aleph local: FAILED: warning in a run without faulty members: %s\n",
                sum->first_warn);
        status = 1;
    }
    return status;
}

/* How the members ended: 1 when one did not stop or exited with an error. */
static int exits_failed(const local_run *r)
{
    int status = 0;
    if (r->failed_to_stop) {
        fprintf(stderr, "aleph local: FAILED: a member did not stop within 10 s of SIGTERM\n");
        status = 1;
    }
    for (uint32_t i = 0; i < r->o.members; i++) {
        const member_proc *mp = &r->p[i];
        if (mp->killed_by_us) continue;
        if (WIFEXITED(mp->exited_status) && WEXITSTATUS(mp->exited_status) != 0) {
            fprintf(stderr, "aleph local: FAILED: member %u exited with status %d (see %s/stderr.log)\n",
                    i, WEXITSTATUS(mp->exited_status), mp->data_dir);
            status = 1;
        } else if (WIFSIGNALED(mp->exited_status)) {
            fprintf(stderr, "aleph local: FAILED: member %u died of signal %d (see %s/stderr.log)\n",
                    i, WTERMSIG(mp->exited_status), mp->data_dir);
            status = 1;
        }
    }
    return status;
}

int local_report(local_run *r, const run_config *cfg, const char *manifest)
{
    uint32_t members = r->o.members;
    run_config actual = *cfg;
    if (r->load_end_real_ns) {
        /* interrupted during the load: it ran this long, and the window is within it */
        actual.duration_s = (double)(r->load_end_real_ns - r->start_real_ns) / 1e9;
        actual.window_start_ns = r->an.window_start_ns;
        actual.window_end_ns = r->an.window_end_ns;
        cfg = &actual;
        /* the outputs were read against the planned window so far: read them again */
        uint64_t w0 = r->an.window_start_ns, w1 = r->an.window_end_ns;
        uint64_t origin = r->an.series_origin_ns;
        int series = r->an.series_on;
        analysis_free(&r->an);
        analysis_init(&r->an, members, LOCAL_CLIENT_ID_BASE);
        r->an.window_start_ns = w0;
        r->an.window_end_ns = w1;
        r->an.series_on = series;
        r->an.series_origin_ns = origin;
    }
    local_poll_outputs(r);
    harness_check hc;
    local_check_exactly_once(r, &hc);
    json_t *harness = local_harness_json(r, &hc);
    run_manifest_write(manifest, cfg, harness);
    write_load_json(r, harness);

    /* The summary: the same computation as `aleph analyze RUN_DIR`, on the outputs already
     * read and the logs; CPU and memory from the members' rusage. */
    char path[4300], err[KEYS_ERR_MAX];
    member_log *logs = calloc(members, sizeof *logs);
    int *has_log = calloc(members, sizeof *has_log);
    double *cpu = calloc(members, sizeof *cpu), *rss = calloc(members, sizeof *rss);
    for (uint32_t i = 0; i < members; i++) {
        snprintf(path, sizeof path, "%s/node.log", r->p[i].data_dir);
        has_log[i] = member_log_read(&logs[i], path, err, sizeof err) == 0;
        cpu[i] = local_rusage_cpu_s(&r->p[i].ru);
        rss[i] = (double)r->p[i].ru.ru_maxrss / 1024.0;
    }
    load_record load;
    snprintf(path, sizeof path, "%s/load.json", r->dir);
    load_record_read(path, &load);
    summary_inputs in = {.cfg = cfg, .an = &r->an, .logs = logs, .has_log = has_log,
                         .members = members, .load = &load, .harness = harness,
                         .cpu_s_override = cpu, .peak_rss_override = rss};
    run_summary sum;
    summary_compute(&sum, &in);
    sum.title = "aleph local";
    snprintf(sum.source, sizeof sum.source, "run dir %s", r->dir);
    write_summary(r, &sum, &in);
    int status = verdict(r, &sum, &hc);
    summary_free(&sum);
    load_record_free(&load);
    for (uint32_t i = 0; i < members; i++)
        if (has_log[i]) member_log_free(&logs[i]);
    free(logs);
    free(has_log);
    free(cpu);
    free(rss);
    json_decref(harness);
    return exits_failed(r) | status;
}

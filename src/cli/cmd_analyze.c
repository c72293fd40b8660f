/* `aleph analyze`: the summary of a finished run from its files (summary.h), with CSV files
 * and PNG plots. Works on the run directory `aleph local` writes, on a single member's
 * directory, or on one node.log (figures at that member only). */
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure/analysis.h"
#include "commands.h"
#include "harness/loadgen.h"
#include "measure/logscan.h"
#include "measure/plots.h"
#include "measure/summary.h"
#include "base/options.h"
#include "base/util.h"

static void analyze_usage(FILE *to)
{
    fprintf(to,
            "usage: aleph analyze RUN_DIR|MEMBER_DIR|NODE_LOG [--json] [--out DIR] [--no-plots]\n\n"
            "Computes the summary of a finished run from its files: the run directory of\n"
            "`aleph local` (run.json, load.json, member-<i>/node.log and output.bin), one\n"
            "member's directory, or one node.log (then the figures are that member's).\n"
            "A run of `aleph node` processes loaded by `aleph load --records FILE` can be\n"
            "analysed too: put FILE as load.json next to the member-<i> directories (its client\n"
            "id, rate and transaction size are taken from it).\n"
            "Prints the summary block (docs/BENCHMARKS.md, \"Tools\") and writes into the\n"
            "run directory, or DIR:\n"
            "  summary.json, summary.txt  the summary (--json prints the JSON on stdout)\n"
            "  series.csv                 per second: offered and ordered tx/s, MB/s, end-to-end\n"
            "                             latency mean/p50/p95/p99, rounds\n"
            "  members.csv, traffic.csv   per member: bytes sent and received per second,\n"
            "                             memory, CPU, dropped messages; traffic per second\n"
            "  links.csv                  per link: unit receive delay (created at the creator\n"
            "                             to added at the peer), and the emulated delay if any\n"
            "  latency_cdf.csv            distribution of the window's end-to-end latencies\n"
            "  *.png, plots.gp            throughput, latency over time, latency CDF, traffic\n"
            "                             (gnuplot; --no-plots skips them)\n\n"
            "Figures: throughput at one member over the steady window (run.json's, else the\n"
            "load's span from the transactions' send times less a tenth at each end, at most\n"
            "5 s); end-to-end latency = output time at the member a transaction was sent to\n"
            "minus its send time; consensus latency = unit ordered at its creator minus its\n"
            "creation; decision depth d of each head (2, 3, 4+). Broken or truncated log lines\n"
            "are counted, reported and skipped.\n"
            "Exit status: 0, 1 when the outputs disagree or a transaction was lost or\n"
            "duplicated, 2 on a usage error or when nothing could be read.\n");
}

typedef struct span_ctx {
    uint32_t base, members;
    uint64_t t0, t1;
} span_ctx;

static void span_batch(void *ctx, const output_batch_view *b, const output_unit_view *units)
{
    span_ctx *sc = ctx;
    for (uint32_t i = 0; b->has_units && i < b->units; i++) {
        size_t off = 0;
        const uint8_t *tx;
        size_t len;
        while (aleph_payload_next(units[i].payload, units[i].payload_len, &off, &tx, &len) == 1) {
            uint64_t send_ns, seq;
            uint32_t client;
            if (!probe_tx_parse(tx, len, &send_ns, &seq, &client) || client < sc->base ||
                client - sc->base >= sc->members)
                continue;
            if (!sc->t0 || send_ns < sc->t0) sc->t0 = send_ns;
            if (send_ns > sc->t1) sc->t1 = send_ns;
        }
    }
}

/* The span of the load's send times in one output file: a run without run.json. */
static int load_span(const char *output_path, uint32_t base, uint32_t members, uint64_t *t0,
                     uint64_t *t1)
{
    output_follow f;
    output_follow_init(&f, output_path, OUTPUT_FROM_OLDEST);
    span_ctx sc = {.base = base, .members = members};
    output_follow_poll(&f, span_batch, &sc, 0, NULL);
    output_follow_close(&f);
    *t0 = sc.t0;
    *t1 = sc.t1;
    return sc.t0 ? 0 : -1;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

typedef struct analyze_job {
    char run_dir[2048];           /* where run.json and load.json are looked for */
    char out_dir[2048];
    uint32_t members;
    uint32_t only;                /* UINT32_MAX: every member; else one log */
    char only_log[2048];
    char (*log_paths)[4096];
    char (*output_paths)[4096];
    member_log single;            /* the one log (only != UINT32_MAX), until moved to logs */
    int single_read;
    run_config cfg;
    json_t *harness;              /* run.json's harness part, if any */
    int have_manifest;
    member_log *logs;
    int *has_log;
    char err[4400];
} analyze_job;

static uint32_t count_member_dirs(const char *dir)
{
    uint32_t n = 0;
    char p[4096];
    for (;;) {
        snprintf(p, sizeof p, "%s/member-%u", dir, n);
        if (!is_dir(p) || n >= ALEPH_MEMBERS_MAX) return n;
        n++;
    }
}

typedef struct analyze_cli {
    const char *out;
    int json, no_plots;
} analyze_cli;

#define F(field) offsetof(analyze_cli, field)
static const opt_spec analyze_table[] = {
    {"json", OPT_FLAG, F(json), 0, 0, NULL, NULL},
    {"no-plots", OPT_FLAG, F(no_plots), 0, 0, NULL, NULL},
    {"out", OPT_STRING, F(out), 0, 0, NULL, NULL},
    OPT_END,
};
#undef F

/* What the target names: a run directory (every member-I/), a member's directory or its
 * node.log (one member: its log says who it is and the committee size; run.json, if any, is
 * in the directory above the member's). 0, or 2 after a message. */
static int resolve_target(analyze_job *job, const char *target, const char *out)
{
    if (is_dir(target)) {
        char p[2048];
        snprintf(p, sizeof p, "%.1900s/node.log", target);
        if (count_member_dirs(target) == 0 && is_file(p))
            snprintf(job->only_log, sizeof job->only_log, "%s", p);
        else
            snprintf(job->run_dir, sizeof job->run_dir, "%s", target);
    } else if (is_file(target)) {
        snprintf(job->only_log, sizeof job->only_log, "%s", target);
    } else {
        fprintf(stderr, "aleph analyze: %s: %s\n", target, strerror(errno));
        return 2;
    }
    if (!job->only_log[0]) {
        snprintf(job->out_dir, sizeof job->out_dir, "%s", out ? out : job->run_dir);
        return 0;
    }
    if (member_log_read(&job->single, job->only_log, job->err, sizeof job->err) != 0) {
        fprintf(stderr, "aleph analyze: %s\n", job->err);
        return 2;
    }
    job->single_read = 1;
    if (job->single.member == UINT32_MAX) {
        fprintf(stderr, "aleph analyze: %s: no readable log line (%" PRIu64 " broken)\n",
                job->only_log, job->single.broken);
        return 2;
    }
    job->only = job->single.member;
    char tmp[2048], tmp2[2048];
    snprintf(tmp, sizeof tmp, "%s", job->only_log);
    char *member_dir = dirname(tmp);
    snprintf(tmp2, sizeof tmp2, "%s", member_dir);
    snprintf(job->run_dir, sizeof job->run_dir, "%s", dirname(tmp2));
    if (!out) out = member_dir[0] ? member_dir : ".";
    snprintf(job->out_dir, sizeof job->out_dir, "%s", out);
    return 0;
}

/* The run's configuration: run.json if it is there and of this committee, else defaults;
 * the committee size from the manifest, the one log, or the member directories. */
static int read_run_config(analyze_job *job)
{
    run_config *cfg = &job->cfg;
    char path[4400];
    snprintf(path, sizeof path, "%s/run.json", job->run_dir);
    job->have_manifest = is_file(path) &&
                         run_manifest_read(path, cfg, &job->harness, job->err, sizeof job->err) == 0;
    if (!job->have_manifest) {
        if (is_file(path)) fprintf(stderr, "aleph analyze: ignoring %s\n", job->err);
        run_config_defaults(cfg);
        snprintf(cfg->network, sizeof cfg->network, "unknown");
    }
    if (job->only != UINT32_MAX) {
        uint32_t n = job->single.members ? job->single.members : job->only + 1;
        if (job->have_manifest && cfg->members != n) { /* a manifest of another committee */
            job->have_manifest = 0;
            run_config_defaults(cfg);
        }
        cfg->members = job->members = n;
    } else if (job->have_manifest) {
        job->members = cfg->members;
    } else {
        job->members = cfg->members = count_member_dirs(job->run_dir);
    }
    if (job->members == 0 || job->members > ALEPH_MEMBERS_MAX ||
        (job->only != UINT32_MAX && job->only >= job->members)) {
        fprintf(stderr, "aleph analyze: %s: no member directories (member-0, member-1, ...) "
                        "and no run.json\n",
                job->run_dir);
        return 2;
    }
    return 0;
}

/* Every member's log and output path (only the one member's with a single log). */
static int member_paths(analyze_job *job)
{
    uint32_t n = job->members;
    job->log_paths = calloc(n, sizeof *job->log_paths);
    job->output_paths = calloc(n, sizeof *job->output_paths);
    job->logs = calloc(n, sizeof *job->logs);
    job->has_log = calloc(n, sizeof *job->has_log);
    if (!job->log_paths || !job->output_paths || !job->logs || !job->has_log) {
        fprintf(stderr, "aleph analyze: out of memory\n");
        return 2;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (job->only != UINT32_MAX && i != job->only) continue;
        if (job->only != UINT32_MAX) {
            char tmp[2048];
            snprintf(job->log_paths[i], sizeof job->log_paths[i], "%s", job->only_log);
            snprintf(tmp, sizeof tmp, "%s", job->only_log);
            snprintf(job->output_paths[i], sizeof job->output_paths[i], "%s/output.bin",
                     dirname(tmp));
        } else {
            snprintf(job->log_paths[i], sizeof job->log_paths[i], "%s/member-%u/node.log",
                     job->run_dir, i);
            snprintf(job->output_paths[i], sizeof job->output_paths[i], "%s/member-%u/output.bin",
                     job->run_dir, i);
        }
    }
    return 0;
}

/* Without a manifest, what a member's log tells about the configuration. The network:
 * emulated links are logged; namespace addresses are 10.77.S.i; any other address than
 * loopback's is a committee over hosts. */
static void config_from_log(run_config *cfg, const member_log *l)
{
    if (l->round_delay_ms || l->started) cfg->round_delay_ms = (int)l->round_delay_ms;
    if (l->unit_bytes_max) cfg->unit_bytes_max = l->unit_bytes_max;
    if (l->coin[0]) snprintf(cfg->coin, sizeof cfg->coin, "%s", l->coin);
    const char *addr = l->address;
    int ns = strncmp(addr, "10.77.", 6) == 0;
    int local = !addr[0] || strncmp(addr, "127.", 4) == 0 || strncmp(addr, "[::1]", 5) == 0 ||
                strncmp(addr, "localhost:", 10) == 0;
    if (strcmp(cfg->network, "unknown") == 0 || strcmp(cfg->network, "loopback") == 0)
        snprintf(cfg->network, sizeof cfg->network, "%s",
                 l->has_links ? (ns ? "emulated-wan+netns" : "emulated-wan")
                 : ns         ? "netns"
                 : local      ? "loopback"
                              : "hosts");
}

static void read_logs(analyze_job *job)
{
    for (uint32_t i = 0; i < job->members; i++) {
        if (!job->log_paths[i][0]) continue;
        if (job->only == i) {
            job->logs[i] = job->single; /* moved: freed with the logs */
            job->has_log[i] = 1;
            job->single_read = 0;
        } else if (is_file(job->log_paths[i])) {
            job->has_log[i] =
                member_log_read(&job->logs[i], job->log_paths[i], job->err, sizeof job->err) == 0;
            if (!job->has_log[i]) fprintf(stderr, "aleph analyze: %s\n", job->err);
        }
        if (job->has_log[i] && !job->have_manifest) config_from_log(&job->cfg, &job->logs[i]);
    }
}

/* The load client's records: without a manifest, what they say about the load. */
static void read_load(analyze_job *job, load_record *load)
{
    char path[4400];
    run_config *cfg = &job->cfg;
    snprintf(path, sizeof path, "%s/load.json", job->run_dir);
    load_record_read(path, load);
    if (job->have_manifest || !load->present) return;
    if (load->client_id) cfg->client_id_base = load->client_id; /* aleph load --records */
    if (load->tx_size) cfg->tx_size = load->tx_size;
    if (load->duration_s > 0) cfg->duration_s = load->duration_s;
    if (load->offered_tx_s > 0) cfg->offered_tx_s = load->offered_tx_s;
    else if (load->per_second_len)
        cfg->offered_tx_s = (double)load->sent / (double)load->per_second_len;
}

/* The outputs: the window first (the manifest's, else the load's span), then everything.
 * Returns how many output files there are. */
static int read_outputs(analyze_job *job, run_analysis *an)
{
    uint32_t n = job->members;
    run_config *cfg = &job->cfg;
    int outputs = 0;
    for (uint32_t i = 0; i < n; i++) outputs += job->output_paths[i][0] && is_file(job->output_paths[i]);
    for (uint32_t i = 0; outputs && !cfg->window_end_ns && i < n; i++) {
        uint64_t t0, t1;
        if (job->output_paths[i][0] && is_file(job->output_paths[i]) &&
            load_span(job->output_paths[i], cfg->client_id_base, n, &t0, &t1) == 0) {
            cfg->load_start_ns = t0;
            if (!cfg->duration_s) cfg->duration_s = (double)(t1 - t0) / 1e9;
            run_window(t0, t1, &cfg->window_start_ns, &cfg->window_end_ns);
            break; /* the first output with the load is the reference */
        }
    }
    an->window_start_ns = cfg->window_start_ns;
    an->window_end_ns = cfg->window_end_ns;
    an->series_on = 1;
    an->series_origin_ns = cfg->load_start_ns;
    for (uint32_t i = 0; i < n && !an->series_origin_ns; i++)
        if (job->has_log[i]) an->series_origin_ns = (uint64_t)job->logs[i].first_ts_ms * 1000000ull;
    const char **paths = calloc(n, sizeof *paths);
    for (uint32_t i = 0; paths && i < n; i++)
        paths[i] = job->output_paths[i][0] && is_file(job->output_paths[i]) ? job->output_paths[i] : "";
    if (paths) analysis_poll_all(an, paths);
    free(paths);
    return outputs;
}

/* summary.json, summary.txt, the CSV files and the plots in out_dir; the summary on stdout
 * (text, or JSON with --json). 0, or 2 when out_dir cannot be made. */
static int write_results(analyze_job *job, const run_summary *s, const summary_inputs *in,
                         int json, int plots)
{
    if (make_dirs(job->out_dir, 0755, job->err, sizeof job->err) != 0) {
        fprintf(stderr, "aleph analyze: %s\n", job->err);
        return 2;
    }
    const char *run_dir = job->only == UINT32_MAX ? job->run_dir : NULL;
    if (summary_write_files(s, in, job->out_dir, run_dir, job->err, sizeof job->err) != 0)
        fprintf(stderr, "aleph analyze: %s\n", job->err);
    else if (plots && plots_draw(s, job->out_dir, job->err, sizeof job->err) < 0)
        fprintf(stderr, "aleph analyze: plots: %s\n", job->err);
    summary_print(s, run_dir, json);
    return 0;
}

static void job_free(analyze_job *job)
{
    for (uint32_t i = 0; job->has_log && i < job->members; i++)
        if (job->has_log[i]) member_log_free(&job->logs[i]);
    if (job->single_read) member_log_free(&job->single);
    free(job->logs);
    free(job->has_log);
    free(job->log_paths);
    free(job->output_paths);
    json_decref(job->harness);
}

/* Summarises what the analysis and the logs say: 0, 1 when agreement or exactly-once
 * failed, 2 when nothing could be read. */
static int analyze_and_report(analyze_job *job, const char *target, int json, int plots)
{
    load_record load;
    read_load(job, &load);
    run_analysis an;
    analysis_init(&an, job->members, job->cfg.client_id_base);
    int outputs = read_outputs(job, &an);
    summary_inputs in = {.cfg = &job->cfg, .an = outputs ? &an : NULL, .logs = job->logs,
                         .has_log = job->has_log, .members = job->members,
                         .load = load.present ? &load : NULL, .harness = job->harness};
    run_summary s;
    summary_compute(&s, &in);
    s.title = "aleph analyze";
    snprintf(s.source, sizeof s.source, "%s%s", job->only != UINT32_MAX ? "log " : "run dir ",
             job->only != UINT32_MAX ? job->only_log : job->run_dir);
    int status = 0;
    if (s.members_seen == 0) {
        fprintf(stderr, "aleph analyze: %s: no member log or output file found\n", target);
        status = 2;
    } else {
        status = write_results(job, &s, &in, json, plots);
        if (s.log_broken)
            fprintf(stderr, "aleph analyze: %" PRIu64 " broken or truncated log line(s) skipped "
                            "(first: %s)\n",
                    s.log_broken, s.first_broken);
        if (status == 0 && (s.agreement == 0 || s.exactly_once == 0)) status = 1;
    }
    summary_free(&s);
    load_record_free(&load);
    analysis_free(&an);
    return status;
}

int command_analyze(int argc, char **argv)
{
    analyze_cli o = {0};
    opts_extra x = {.no_config = 1, .positional_ok = 1};
    if (opts_parse(analyze_table, &o, "analyze", argc, argv, 1, &x) != 0) return 2;
    if (x.help) {
        analyze_usage(stdout);
        return 0;
    }
    if (x.positional_len > 1) {
        fprintf(stderr, "aleph analyze: unexpected argument '%s' (see aleph analyze --help)\n",
                x.positional[1]);
        return 2;
    }
    const char *target = x.positional_len ? x.positional[0] : NULL;
    if (!target) {
        fprintf(stderr, "aleph analyze: give a run directory or a node.log (see --help)\n");
        return 2;
    }
    if (strlen(target) > 1900 || (o.out && strlen(o.out) > 1900)) {
        fprintf(stderr, "aleph analyze: path too long\n");
        return 2;
    }
    analyze_job *job = calloc(1, sizeof *job);
    if (!job) {
        fprintf(stderr, "aleph analyze: out of memory\n");
        return 2;
    }
    job->only = UINT32_MAX;
    int status = resolve_target(job, target, o.out);
    if (status == 0) status = read_run_config(job);
    if (status == 0) status = member_paths(job);
    if (status == 0) {
        read_logs(job);
        status = analyze_and_report(job, target, o.json, !o.no_plots);
    }
    job_free(job);
    free(job);
    return status;
}

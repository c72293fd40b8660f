/* `aleph local`: a committee of N node processes on this machine with an open-loop load, a
 * live progress line, and a summary at the end (docs: BENCHMARKING.md's summary block).
 *
 * Phases: keygen into a run directory, start the nodes (fork/exec of this binary), wait for
 * their client ports, send load for --duration seconds (killing the last --faulty members
 * at half time), stop the load, wait until every surviving member has output every
 * transaction a surviving member accepted (the drain), stop the nodes with SIGTERM, then
 * check agreement and exactly-once delivery on the output files and compute the figures. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "measure/analysis.h"
#include "commands.h"
#include "base/keys.h"
#include "harness/loadgen.h"
#include "measure/logscan.h"
#include "harness/netns.h"
#include "measure/summary.h"
#include "base/util.h"

#define NODE_ARGS_MAX 32
#define CLIENT_ID_BASE LOCAL_CLIENT_ID_BASE

typedef struct local_options {
    uint32_t members, faulty;
    double duration_s;
    double rate;
    uint32_t tx_size;
    const char *out_dir;
    aleph_coin_mode coin;
    int json;
    int round_delay_ms;
    uint32_t max_unit_bytes;
    double drain_timeout_s;
    const char *node_args[NODE_ARGS_MAX];
    int node_args_len;
    int quiet;
    const char *wan;               /* --wan: link spec for every node (link_delay.h) */
    double jitter_ms, loss, bandwidth_mbit;
    int hosts;                     /* --hosts: a network namespace per member (netns.h) */
} local_options;

typedef struct member_proc {
    pid_t pid;
    int running;
    int killed_by_us;       /* SIGKILL as a faulty member */
    int exited_status;      /* from wait4 */
    int exit_reported;
    char host[64];          /* its address: 127.0.0.1, or its namespace's with --hosts */
    struct rusage ru;
    char data_dir[4200];
    char output_path[4300];
} member_proc;

enum phase { PH_LOAD, PH_DRAIN, PH_STOP, PH_DONE };

typedef struct local_run {
    local_options o;
    uv_loop_t loop;
    uv_timer_t control;
    uv_signal_t sigint, sigterm;
    char dir[4096];
    member_proc *p;
    loadgen lg;
    run_analysis an;
    enum phase phase;
    uint64_t start_mono_ns, phase_mono_ns;
    uint64_t start_real_ns;
    int faulty_killed;
    uint32_t round_at_kill;
    int interrupted;
    int tty;
    double next_progress_s;
    int progress_printed;
    uint32_t first_survivor;
    int drained;
    double drain_s;
    int failed_to_stop;
    double busy_at_spawn_s, busy_at_end_s;
    char command[2048];            /* for run.json */
} local_run;

/* Namespaces of --hosts: removed at exit whatever path the run takes. */
static netns_set g_hosts;

static void hosts_cleanup(void)
{
    netns_destroy(&g_hosts);
}

static local_run *g_run; /* for the child-exit bookkeeping in tests of liveness */

static void local_usage(FILE *to)
{
    fprintf(to,
            "usage: aleph local [--members N] [--duration S] [--rate R] [--tx-size B]\n"
            "                   [--faulty F] [--out DIR] [--coin on|off] [--json]\n\n"
            "Runs a committee of N `aleph node` processes on this machine over loopback, sends\n"
            "them an open-loop load, and prints a summary: agreement, throughput, end-to-end and\n"
            "consensus latency, rounds per second, traffic, memory and CPU per member.\n"
            "Exit status 1 when the members disagree, a transaction is lost or duplicated, a\n"
            "member dies unexpectedly, or a run without faulty members logs a warning.\n\n"
            "  --members N         committee size (default 4)\n"
            "  --duration S        seconds of load (default 20)\n"
            "  --rate R            offered transactions per second over all members (default\n"
            "                      10000)\n"
            "  --tx-size B         bytes per transaction, at least %u (default 512)\n"
            "  --faulty F          kill the last F members with SIGKILL at half time (default 0;\n"
            "                      at most (N-1)/3)\n"
            "  --out DIR           run directory (default ./aleph-run-YYYYmmdd-HHMMSS): keys,\n"
            "                      per member backup.bin, output.bin, node.log, stderr.log;\n"
            "                      run.json (configuration and what the harness saw),\n"
            "                      load.json, summary.txt and summary.json, and the CSV files\n"
            "                      of `aleph analyze` (which also draws plots from them)\n"
            "  --coin on|off       threshold coin (default on) or the deterministic schedule\n"
            "  --json              print the summary as one JSON object on stdout\n"
            "  --round-delay-ms N  minimum time between a member's units (default: node's, 10)\n"
            "  --max-unit-bytes B  payload bytes per unit (default 1048576)\n"
            "  --drain-timeout S   how long to wait after the load for the last transactions\n"
            "                      to be ordered (default 30)\n"
            "  --node-arg ARG      pass ARG to every node (repeatable), e.g. --node-arg\n"
            "                      --log-units=off\n"
            "  --wan FILE|MS       emulated wide-area links: FILE is a round-trip-time matrix\n"
            "                      (e.g. shared/data/aws-8-regions-rtt-ms.tsv); members are\n"
            "                      assigned to its regions in turn (member i in region i mod K)\n"
            "                      and each link gets the one-way delay RTT/2 (at least 1 ms);\n"
            "                      MS: that one-way delay on every link. Done in user space in\n"
            "                      each node's transport (aleph node --link-delays): outgoing\n"
            "                      messages wait in a FIFO per link until due, so a link never\n"
            "                      reorders (TCP semantics); no root or netem needed\n"
            "  --jitter MS         with --wan: each message +-MS (uniform), FIFO order kept\n"
            "  --loss P            with --wan: drop whole member messages with probability P\n"
            "                      (over TCP nothing else can be lost; the protocol heals lost\n"
            "                      messages by requests and anti-entropy)\n"
            "  --bandwidth MBIT    uplink cap per member in Mbit/s: with --hosts by tbf on the\n"
            "                      member's veth (kernel), else in the user-space link stage\n"
            "  --hosts             root only: every member in its own network namespace with\n"
            "                      its own address (10.77.S.i/24, a private test subnet) on a\n"
            "                      veth pair to a bridge, so members are separate hosts to the\n"
            "                      kernel; removed at exit (leftovers of a killed run are\n"
            "                      removed by the next --hosts run)\n"
            "  --quiet             no progress lines\n\n"
            "End-to-end latency: output time at the member a transaction was submitted to minus\n"
            "its send time (both CLOCK_REALTIME on this host). Throughput and latency count the\n"
            "steady window (the first and last tenth of the load are left out, at most 5 s each).\n"
            "The summary is computed by the same code as `aleph analyze RUN_DIR`.\n",
            LOADGEN_TX_MIN);
}

/* CPU seconds the whole machine spent busy so far (all cores), from /proc/stat. */
static double machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    unsigned long long v[10] = {0};
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                     &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
    fclose(f);
    if (got < 8) return 0;
    /* user nice system idle iowait irq softirq steal: busy = all but idle and iowait */
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static double now_s(const local_run *r)
{
    return (double)(clock_mono_ns() - r->start_mono_ns) / 1e9;
}

/* ---- ports and processes ------------------------------------------------------------------ */

static int choose_ports(uint32_t n, uint32_t *base)
{
    for (uint32_t b = 61000; b + 2 * n <= 65535; b += 2 * n) {
        if (loopback_ports_free(b, 2 * n)) {
            *base = b;
            return 0;
        }
    }
    return -1;
}

static pid_t spawn_node(local_run *r, uint32_t i)
{
    member_proc *mp = &r->p[i];
    char committee_path[4200], key[4200], errlog[4300];
    snprintf(committee_path, sizeof committee_path, "%s/committee.json", r->dir);
    snprintf(key, sizeof key, "%s/member-%u.key", r->dir, i);
    snprintf(errlog, sizeof errlog, "%s/stderr.log", mp->data_dir);
    char delay[32], jitter[32], loss[32], bw[32];
    const char *argv[32 + NODE_ARGS_MAX];
    int k = 0;
    argv[k++] = "aleph";
    argv[k++] = "node";
    argv[k++] = "--committee";
    argv[k++] = committee_path;
    argv[k++] = "--key";
    argv[k++] = key;
    argv[k++] = "--data-dir";
    argv[k++] = mp->data_dir;
    if (r->o.round_delay_ms >= 0) {
        snprintf(delay, sizeof delay, "%d", r->o.round_delay_ms);
        argv[k++] = "--round-delay-ms";
        argv[k++] = delay;
    }
    if (r->o.wan) {
        argv[k++] = "--link-delays";
        argv[k++] = r->o.wan;
        snprintf(jitter, sizeof jitter, "%g", r->o.jitter_ms);
        argv[k++] = "--link-jitter-ms";
        argv[k++] = jitter;
        snprintf(loss, sizeof loss, "%g", r->o.loss);
        argv[k++] = "--link-loss";
        argv[k++] = loss;
        if (!r->o.hosts) {
            snprintf(bw, sizeof bw, "%g", r->o.bandwidth_mbit);
            argv[k++] = "--link-bandwidth-mbit";
            argv[k++] = bw;
        }
    }
    if (r->o.hosts) {
        argv[k++] = "--client-host";
        argv[k++] = mp->host;
    }
    for (int j = 0; j < r->o.node_args_len; j++) argv[k++] = r->o.node_args[j];
    argv[k] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    /* child */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    setpgid(0, 0); /* Ctrl-C goes to `aleph local`, which stops the nodes itself */
    if (r->o.hosts && netns_enter(&g_hosts, i) != 0) {
        fprintf(stderr, "aleph local: cannot enter member %u's network namespace\n", i);
        _exit(1);
    }
    int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv("/proc/self/exe", (char *const *)argv);
    fprintf(stderr, "aleph local: cannot exec /proc/self/exe: %s\n", strerror(errno));
    _exit(127);
}

static void reap(local_run *r)
{
    for (uint32_t i = 0; i < r->o.members; i++) {
        member_proc *mp = &r->p[i];
        if (!mp->running) continue;
        int status;
        pid_t got = wait4(mp->pid, &status, WNOHANG, &mp->ru);
        if (got == mp->pid) {
            mp->running = 0;
            mp->exited_status = status;
        }
    }
}

static uint32_t running_count(const local_run *r)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->o.members; i++) k += r->p[i].running;
    return k;
}

static int survivor(const local_run *r, uint32_t i)
{
    return i < r->o.members - r->o.faulty;
}

static void first_stderr_line(const member_proc *mp, char *out, size_t cap)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/stderr.log", mp->data_dir);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(out, (int)cap, f)) {
        size_t n = strlen(out);
        if (n && out[n - 1] == '\n') out[n - 1] = '\0';
    }
    fclose(f);
}

static int unexpected_exit(local_run *r, uint32_t i)
{
    member_proc *mp = &r->p[i];
    return !mp->running && !mp->killed_by_us && r->phase < PH_STOP;
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
             t, phase, m->last_round, txs, p50, r->lg.sent_total, running_count(r), r->o.members);
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

static void poll_outputs(local_run *r)
{
    for (uint32_t i = 0; i < r->o.members; i++) analysis_poll(&r->an, i, r->p[i].output_path);
}

/* During the run only the first survivor's output is read (progress, drain); the others are
 * read once the members have stopped, so that the harness takes little CPU from them. */
static void poll_live(local_run *r)
{
    analysis_poll(&r->an, r->first_survivor, r->p[r->first_survivor].output_path);
}

/* Drained: the first survivor has output every transaction a surviving member accepted, and
 * every other survivor's output is at least as long. Outputs are byte-identical but for the
 * output times, so equal length means the same batches (the final check verifies it). */
static int drain_complete(local_run *r)
{
    if (loadgen_unanswered(&r->lg)) return 0;
    member_track *m0 = &r->an.m[r->first_survivor];
    for (uint32_t o = 0; o < r->o.members; o++)
        if (survivor(r, o) && m0->seen[o] < r->lg.targets[o].ok) return 0;
    for (uint32_t m = 0; m < r->o.members; m++) {
        if (!survivor(r, m) || m == r->first_survivor) continue;
        struct stat st;
        if (stat(r->p[m].output_path, &st) != 0 || (uint64_t)st.st_size < m0->tail.consumed)
            return 0;
    }
    return 1;
}

static void begin_stop(local_run *r)
{
    r->phase = PH_STOP;
    r->phase_mono_ns = clock_mono_ns();
    loadgen_close(&r->lg);
    for (uint32_t i = 0; i < r->o.members; i++)
        if (r->p[i].running) kill(r->p[i].pid, SIGTERM);
}

static void on_control(uv_timer_t *t)
{
    local_run *r = t->data;
    double now = now_s(r);
    reap(r);
    poll_live(r);
    for (uint32_t i = 0; i < r->o.members; i++) {
        if (unexpected_exit(r, i) && !r->p[i].exit_reported) {
            r->p[i].exit_reported = 1;
            char line[512];
            first_stderr_line(&r->p[i], line, sizeof line);
            if (r->tty && r->progress_printed) fputc('\n', stderr);
            fprintf(stderr, "aleph local: member %u exited unexpectedly%s%s\n", i,
                    line[0] ? ": " : "", line);
            if (r->phase < PH_STOP) begin_stop(r);
        }
    }
    switch (r->phase) {
    case PH_LOAD:
        if (r->o.faulty && !r->faulty_killed && now >= r->o.duration_s / 2) {
            r->faulty_killed = 1;
            r->round_at_kill = r->an.m[r->first_survivor].last_round;
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
            begin_stop(r);
        } else if (in_phase > r->o.drain_timeout_s) {
            r->drain_s = in_phase;
            begin_stop(r);
        }
        break;
    }
    case PH_STOP: {
        double in_phase = (double)(clock_mono_ns() - r->phase_mono_ns) / 1e9;
        if (running_count(r) == 0) {
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

static void on_local_signal(uv_signal_t *s, int signum)
{
    local_run *r = s->data;
    r->interrupted = 1;
    if (r->phase < PH_STOP) {
        if (!r->o.quiet) fprintf(stderr, "\naleph local: interrupted; stopping the members\n");
        begin_stop(r);
    }
}

/* ---- summary ------------------------------------------------------------------------------- */

/* What only this process saw: the client's answer for every transaction (exactly-once), the
 * drain, the kill, the machine's CPU. It goes into run.json's "harness" object; every other
 * figure is computed from the run's files by summary.c, the code `aleph analyze` runs too. */
typedef struct harness_check {
    uint64_t missing, duplicates, refused_but_output;
    int exactly_once;
    char why[256];
} harness_check;

static void check_exactly_once(local_run *r, harness_check *hc)
{
    memset(hc, 0, sizeof *hc);
    uint32_t n = r->o.members;
    for (uint32_t m = 0; m < n; m++) {
        member_track *t = &r->an.m[m];
        hc->duplicates += t->duplicates;
        if (!survivor(r, m)) continue;
        for (uint32_t o = 0; o < n; o++) {
            lg_target *tg = &r->lg.targets[o];
            for (uint64_t s = 0; s < tg->sent; s++) {
                uint8_t c = s < t->counts_cap[o] ? t->counts[o][s] : 0;
                uint8_t st = tg->status[s];
                if (st == LG_OK && c == 0 && survivor(r, o)) hc->missing++;
                if ((st == LG_POOL_FULL || st == LG_TOO_LARGE) && c) hc->refused_but_output++;
            }
        }
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

static double rusage_cpu_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static int unexpected_exits(const local_run *r)
{
    int k = 0;
    for (uint32_t i = 0; i < r->o.members; i++)
        if (!r->p[i].killed_by_us && r->p[i].exit_reported) k++;
    return k;
}

static json_t *harness_json(local_run *r, const harness_check *hc)
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
    for (uint32_t i = 0; i < r->o.members; i++) members_cpu += rusage_cpu_s(&r->p[i].ru);
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    double harness_cpu = rusage_cpu_s(&self);
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
    json_object_set_new(h, "drained", json_boolean(r->drained));
    json_object_set_new(h, "drain_s", json_real(round(r->drain_s * 100) / 100));
    json_object_set_new(h, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(h, "unexpected_exits", json_integer(unexpected_exits(r)));
    json_object_set_new(h, "harness_cpu_s", json_real(round(harness_cpu * 100) / 100));
    json_object_set_new(h, "other_cpu_s", json_real(round((other > 0 ? other : 0) * 100) / 100));
    json_object_set_new(h, "cores", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    if (r->faulty_killed) json_object_set_new(h, "round_at_kill", json_integer(r->round_at_kill));
    return h;
}

static void local_config(const local_run *r, run_config *c)
{
    const local_options *o = &r->o;
    run_config_defaults(c);
    c->members = o->members;
    c->faulty = o->faulty;
    c->tx_size = o->tx_size;
    c->offered_tx_s = o->rate;
    c->duration_s = o->duration_s;
    c->round_delay_ms = o->round_delay_ms >= 0 ? o->round_delay_ms : 10;
    c->max_unit_bytes = o->max_unit_bytes;
    snprintf(c->coin, sizeof c->coin, "%s", o->coin == ALEPH_COIN_OFF ? "off" : "threshold");
    c->client_id_base = CLIENT_ID_BASE;
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

/* ---- main ---------------------------------------------------------------------------------- */

static int parse_local_args(local_options *o, int argc, char **argv)
{
    args a;
    args_init(&a, "local", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            local_usage(stdout);
            return 0;
        } else if (args_opt(&a, "--members")) {
            o->members = args_u32(&a, 0, ALEPH_MEMBERS_MAX);
        } else if (args_opt(&a, "--faulty")) {
            o->faulty = args_u32(&a, 0, ALEPH_MEMBERS_MAX);
        } else if (args_opt(&a, "--duration")) {
            o->duration_s = args_double(&a, 0.5, 86400);
        } else if (args_opt(&a, "--rate")) {
            o->rate = args_double(&a, 0, 1e7);
        } else if (args_opt(&a, "--tx-size")) {
            o->tx_size = args_u32(&a, LOADGEN_TX_MIN, 1u << 20);
        } else if (args_opt(&a, "--out")) {
            o->out_dir = a.value;
        } else if (args_opt(&a, "--coin")) {
            if (strcmp(a.value, "on") == 0 || strcmp(a.value, "threshold") == 0)
                o->coin = ALEPH_COIN_THRESHOLD;
            else if (strcmp(a.value, "off") == 0) o->coin = ALEPH_COIN_OFF;
            else {
                fprintf(stderr, "aleph local: --coin must be on or off, got '%s'\n", a.value);
                return 2;
            }
        } else if (args_flag(&a, "--json")) {
            o->json = 1;
        } else if (args_flag(&a, "--quiet")) {
            o->quiet = 1;
        } else if (args_opt(&a, "--round-delay-ms")) {
            o->round_delay_ms = (int)args_u32(&a, 0, 600000);
        } else if (args_opt(&a, "--max-unit-bytes")) {
            o->max_unit_bytes = args_u32(&a, 1024, ALEPH_PAYLOAD_BYTES_MAX);
        } else if (args_opt(&a, "--drain-timeout")) {
            o->drain_timeout_s = args_double(&a, 0, 3600);
        } else if (args_opt(&a, "--wan")) {
            o->wan = a.value;
        } else if (args_opt(&a, "--jitter")) {
            o->jitter_ms = args_double(&a, 0, 60000);
        } else if (args_opt(&a, "--loss")) {
            o->loss = args_double(&a, 0, 1);
        } else if (args_opt(&a, "--bandwidth")) {
            o->bandwidth_mbit = args_double(&a, 0, 1e6);
        } else if (args_flag(&a, "--hosts")) {
            o->hosts = 1;
        } else if (args_opt(&a, "--node-arg")) {
            if (o->node_args_len == NODE_ARGS_MAX) {
                fprintf(stderr, "aleph local: at most %d --node-arg\n", NODE_ARGS_MAX);
                return 2;
            }
            o->node_args[o->node_args_len++] = a.value;
        } else {
            args_unknown(&a);
        }
    }
    if (a.error) return 2;
    if (o->members < 1) {
        fprintf(stderr, "aleph local: committee too small: --members must be at least 1\n");
        return 2;
    }
    uint32_t f = aleph_faulty_max(o->members);
    if (o->faulty > f) {
        fprintf(stderr,
                "aleph local: --faulty %u is more than a committee of %u tolerates (f = %u): "
                "the rest could not order anything\n",
                o->faulty, o->members, f);
        return 2;
    }
    if (o->rate <= 0) {
        fprintf(stderr, "aleph local: --rate must be positive\n");
        return 2;
    }
    if (!o->wan && (o->jitter_ms > 0 || o->loss > 0 || (o->bandwidth_mbit > 0 && !o->hosts))) {
        fprintf(stderr, "aleph local: --jitter, --loss and --bandwidth need --wan (or --hosts for "
                        "--bandwidth)\n");
        return 2;
    }
    if (o->hosts && o->members > NETNS_MEMBERS_MAX) {
        fprintf(stderr, "aleph local: --hosts supports at most %u members\n", NETNS_MEMBERS_MAX);
        return 2;
    }
    return -1;
}

int command_local(int argc, char **argv)
{
    local_run *r = calloc(1, sizeof *r);
    if (!r) return 1;
    g_run = r;
    local_options *o = &r->o;
    o->members = 4;
    o->duration_s = 20;
    o->rate = 10000;
    o->tx_size = 512;
    o->coin = ALEPH_COIN_THRESHOLD;
    o->round_delay_ms = -1;
    o->max_unit_bytes = 1u << 20;
    o->drain_timeout_s = 30;
    int rc = parse_local_args(o, argc, argv);
    if (rc >= 0) {
        free(r);
        return rc;
    }
    r->tty = isatty(STDERR_FILENO);
    signal(SIGPIPE, SIG_IGN);
    size_t cl = (size_t)snprintf(r->command, sizeof r->command, "aleph local");
    for (int k = 1; k < argc && cl < sizeof r->command; k++)
        cl += (size_t)snprintf(r->command + cl, sizeof r->command - cl, " %s", argv[k]);

    /* run directory */
    if (o->out_dir) {
        snprintf(r->dir, sizeof r->dir, "%s", o->out_dir);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(r->dir, sizeof r->dir, "aleph-run-%s", stamp);
        for (int k = 2; access(r->dir, F_OK) == 0 && k < 100; k++)
            snprintf(r->dir, sizeof r->dir, "aleph-run-%s-%d", stamp, k);
    }
    char err[KEYS_ERR_MAX];
    uint32_t base;
    if (choose_ports(o->members, &base) != 0) {
        fprintf(stderr, "aleph local: no %u free ports on 127.0.0.1 from 61000 up\n",
                2 * o->members);
        free(r);
        return 1;
    }
    keygen_params kp = {.members = o->members, .out_dir = r->dir, .host = "127.0.0.1",
                        .base_port = base, .coin_mode = o->coin,
                        .max_unit_bytes = o->max_unit_bytes};
    if (keygen_write(&kp, err, sizeof err) != 0) {
        print_error_lines("aleph local", err);
        free(r);
        return 1;
    }
    r->p = calloc(o->members, sizeof *r->p);
    analysis_init(&r->an, o->members, CLIENT_ID_BASE);
    if (o->hosts) {
        char why[512];
        if (!netns_available(why, sizeof why)) {
            fprintf(stderr, "aleph local: --hosts: network namespaces unavailable: %s\n", why);
            return 1;
        }
        atexit(hosts_cleanup);
        char cpath[4200];
        snprintf(cpath, sizeof cpath, "%s/committee.json", r->dir);
        if (netns_create(&g_hosts, o->members, o->bandwidth_mbit, err, sizeof err) != 0 ||
            netns_rewrite_committee(&g_hosts, cpath, err, sizeof err) != 0) {
            fprintf(stderr, "aleph local: --hosts: %s\n", err);
            return 1;
        }
    }
    for (uint32_t i = 0; i < o->members; i++) {
        member_proc *mp = &r->p[i];
        if (o->hosts) netns_address(&g_hosts, i, mp->host, sizeof mp->host);
        else snprintf(mp->host, sizeof mp->host, "127.0.0.1");
        snprintf(mp->data_dir, sizeof mp->data_dir, "%s/member-%u", r->dir, i);
        snprintf(mp->output_path, sizeof mp->output_path, "%s/output.bin", mp->data_dir);
        if (make_dirs(mp->data_dir, 0700, err, sizeof err) != 0) {
            print_error_lines("aleph local", err);
            return 1;
        }
    }
    if (!o->quiet)
        fprintf(stderr, "aleph local: %u members on %s:%u-%u%s%s, run dir %s\n", o->members,
                o->hosts ? "10.77.x.y (one network namespace each)" : "127.0.0.1", base,
                base + o->members - 1, o->wan ? ", emulated WAN links " : "",
                o->wan ? o->wan : "", r->dir);
    r->busy_at_spawn_s = machine_busy_s();
    for (uint32_t i = 0; i < o->members; i++) {
        r->p[i].pid = spawn_node(r, i);
        if (r->p[i].pid < 0) {
            fprintf(stderr, "aleph local: fork: %s\n", strerror(errno));
            return 1;
        }
        r->p[i].running = 1;
    }

    /* Wait for every client port (the node listens on it once it is up). */
    uv_loop_init(&r->loop);
    int ready = 0;
    char fail_line[600] = "";
    for (int attempt = 0; attempt < 200 && !ready; attempt++) {
        reap(r);
        ready = 1;
        for (uint32_t i = 0; i < o->members; i++) {
            if (!r->p[i].running) {
                char line[512];
                first_stderr_line(&r->p[i], line, sizeof line);
                snprintf(fail_line, sizeof fail_line, "member %u did not start: %s", i,
                         line[0] ? line : "exited");
                ready = -1;
                break;
            }
            struct sockaddr_in a = {.sin_family = AF_INET,
                                    .sin_port = htons((uint16_t)(base + o->members + i)),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            inet_pton(AF_INET, r->p[i].host, &a.sin_addr);
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
            if (fd >= 0) close(fd);
            if (!ok) {
                ready = 0;
                break;
            }
        }
        if (ready < 0) break;
        if (!ready) usleep(50000);
    }
    if (ready != 1) {
        fprintf(stderr, "aleph local: %s\n",
                fail_line[0] ? fail_line : "the members' client ports did not open within 10 s");
        for (uint32_t i = 0; i < o->members; i++)
            if (r->p[i].running) kill(r->p[i].pid, SIGKILL);
        for (uint32_t i = 0; i < o->members; i++)
            if (r->p[i].running) waitpid(r->p[i].pid, NULL, 0);
        uv_loop_close(&r->loop);
        analysis_free(&r->an);
        free(r->p);
        free(r);
        return 1;
    }

    loadgen_init(&r->lg, &r->loop, o->members, o->rate, o->tx_size, CLIENT_ID_BASE);
    for (uint32_t i = 0; i < o->members; i++)
        loadgen_target(&r->lg, i, r->p[i].host, (uint16_t)(base + o->members + i));
    loadgen_connect(&r->lg);
    while (loadgen_connected(&r->lg) + 0 < o->members && uv_run(&r->loop, UV_RUN_ONCE)) {
        uint32_t gone = 0;
        for (uint32_t i = 0; i < o->members; i++) gone += r->lg.targets[i].state == 2;
        if (gone) break;
    }
    r->first_survivor = 0;
    r->start_mono_ns = clock_mono_ns();
    r->start_real_ns = clock_real_ns();
    run_window(r->start_real_ns, r->start_real_ns + (uint64_t)(o->duration_s * 1e9),
               &r->an.window_start_ns, &r->an.window_end_ns);
    r->an.series_on = 1;
    r->an.series_origin_ns = r->start_real_ns;
    run_config cfg;
    local_config(r, &cfg);
    char manifest[4300];
    snprintf(manifest, sizeof manifest, "%s/run.json", r->dir);
    run_manifest_write(manifest, &cfg, NULL);
    loadgen_start(&r->lg);

    uv_timer_init(&r->loop, &r->control);
    r->control.data = r;
    uv_timer_start(&r->control, on_control, 50, 50);
    uv_signal_init(&r->loop, &r->sigint);
    r->sigint.data = r;
    uv_signal_start(&r->sigint, on_local_signal, SIGINT);
    uv_signal_init(&r->loop, &r->sigterm);
    r->sigterm.data = r;
    uv_signal_start(&r->sigterm, on_local_signal, SIGTERM);
    r->next_progress_s = 1;
    uv_run(&r->loop, UV_RUN_DEFAULT);
    r->busy_at_end_s = machine_busy_s();
    if (r->tty && r->progress_printed && !o->quiet) fputc('\n', stderr);
    uv_loop_close(&r->loop);

    poll_outputs(r);
    harness_check hc;
    check_exactly_once(r, &hc);
    json_t *harness = harness_json(r, &hc);
    run_manifest_write(manifest, &cfg, harness);

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

    /* The summary: the same computation as `aleph analyze RUN_DIR`, on the outputs already
     * read and the logs; CPU and memory from the members' rusage. */
    member_log *logs = calloc(o->members, sizeof *logs);
    int *has_log = calloc(o->members, sizeof *has_log);
    double *cpu = calloc(o->members, sizeof *cpu), *rss = calloc(o->members, sizeof *rss);
    for (uint32_t i = 0; i < o->members; i++) {
        snprintf(path, sizeof path, "%s/node.log", r->p[i].data_dir);
        has_log[i] = member_log_read(&logs[i], path, err, sizeof err) == 0;
        cpu[i] = rusage_cpu_s(&r->p[i].ru);
        rss[i] = (double)r->p[i].ru.ru_maxrss / 1024.0;
    }
    load_record load;
    snprintf(path, sizeof path, "%s/load.json", r->dir);
    load_record_read(path, &load);
    summary_inputs in = {.cfg = &cfg, .an = &r->an, .logs = logs, .has_log = has_log,
                         .members = o->members, .load = &load, .harness = harness,
                         .cpu_s_override = cpu, .peak_rss_override = rss};
    run_summary sum;
    summary_compute(&sum, &in);
    sum.title = "aleph local";
    snprintf(sum.source, sizeof sum.source, "run dir %s", r->dir);
    json_t *j = summary_json(&sum);
    json_object_set_new(j, "run_dir", json_string(r->dir));
    snprintf(path, sizeof path, "%s/summary.json", r->dir);
    json_dump_file(j, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    snprintf(path, sizeof path, "%s/summary.txt", r->dir);
    FILE *sf = fopen(path, "w");
    if (sf) {
        summary_text(sf, &sum);
        fclose(sf);
    }
    if (summary_write_csv(&sum, &in, r->dir, err, sizeof err) != 0)
        fprintf(stderr, "aleph local: %s\n", err);
    if (o->json) {
        char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
        printf("%s\n", text);
        free(text);
    } else {
        summary_text(stdout, &sum);
    }
    json_decref(j);

    int status = 0;
    if (sum.agreement == 0) {
        fprintf(stderr, "aleph local: FAILED: the members' outputs disagree: %s\n",
                sum.agreement_why);
        status = 1;
    }
    if (!hc.exactly_once) {
        fprintf(stderr, "aleph local: FAILED: %s\n", hc.why);
        status = 1;
    }
    if (unexpected_exits(r)) {
        fprintf(stderr, "aleph local: FAILED: %d member(s) exited unexpectedly\n",
                unexpected_exits(r));
        status = 1;
    }
    if (o->faulty == 0 && sum.warn_lines) {
        fprintf(stderr, "aleph local: FAILED: warning in a run without faulty members: %s\n",
                sum.first_warn);
        status = 1;
    }
    summary_free(&sum);
    load_record_free(&load);
    for (uint32_t i = 0; i < o->members; i++)
        if (has_log[i]) member_log_free(&logs[i]);
    free(logs);
    free(has_log);
    free(cpu);
    free(rss);
    json_decref(harness);
    if (r->failed_to_stop) {
        fprintf(stderr, "aleph local: FAILED: a member did not stop within 10 s of SIGTERM\n");
        status = 1;
    }
    for (uint32_t i = 0; i < o->members; i++) {
        member_proc *mp = &r->p[i];
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
    if (r->interrupted && !status) status = 130;
    hosts_cleanup();
    loadgen_free(&r->lg);
    analysis_free(&r->an);
    free(r->p);
    free(r);
    g_run = NULL;
    return status;
}

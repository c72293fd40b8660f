/* `aleph local`'s command line (the run's phases are src/harness/local.c).
 *
 * Phases: keygen into a run directory, start the nodes (fork/exec of this binary), wait for
 * their client ports, send load for --duration seconds (killing the last --faulty members
 * at half time), stop the load, wait until every surviving member has output every
 * transaction a surviving member accepted (the drain), stop the nodes with SIGTERM, then
 * check agreement and exactly-once delivery on the output files and compute the figures. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "harness/loadgen.h"
#include "harness/local.h"
#include "harness/netns.h"
#include "base/keys.h"
#include "base/options.h"
#include "base/default_creators.h"
#include "base/latency_matrix.h"
#include "net/link_delay.h"
#include "base/util.h"

static void local_usage(FILE *to)
{
    fprintf(to,
            "usage: aleph local [--members N] [--duration S] [--rate R] [--tx-size B]\n"
            "                   [--faulty F] [--out DIR] [--coin threshold|off] [--json]\n\n"
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
            "                      per member backup-E.bin, output.bin, node.log, stderr.log;\n"
            "                      run.json (configuration and what the harness saw),\n"
            "                      load.json, summary.txt and summary.json, and the CSV files\n"
            "                      of `aleph analyze` (which also draws plots from them)\n"
            "  --coin MODE         threshold (default): the threshold coin; off: the\n"
            "                      deterministic schedule (as aleph keygen and aleph sim)\n"
            "  --json              print the summary as one JSON object on stdout\n"
            "  --round-delay-ms N  minimum time between a member's units (default: node's, 2)\n"
            "  --max-unit-bytes B  payload bytes per unit (default 1048576)\n"
            "  --drain-timeout S   how long to wait after the load for the last transactions\n"
            "                      to be ordered (default 30)\n"
            "  --node-arg ARG      pass ARG to every node (repeatable), e.g. --node-arg\n"
            "                      --log-units=off\n"
            "  --default-creators L the committee's default creator of round r is L[r mod |L|]\n"
            "                      (docs/PROTOCOL.md, \"Default-creator schedule\"): a list of\n"
            "                      members; matrix:FILE; matrix (derived from the --wan\n"
            "                      matrix, as aleph keygen --default-creators); or rotation\n"
            "                      (r mod N) [matrix with a --wan matrix file, else rotation]\n"
            "  --wan FILE|MS       emulated wide-area links: FILE is a round-trip-time matrix\n"
            "                      (e.g. tests/data/aws-8-regions-rtt-ms.tsv, 8 regions); members are\n"
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
            "  --metrics           every member serves Prometheus metrics (aleph node --metrics)\n"
            "                      on a port of its own; the URLs are printed and written to\n"
            "                      DIR/prometheus_targets.json (Prometheus file_sd format)\n"
            "  --base-port P       member i listens on P+i, its client port is P+N+i (and its\n"
            "                      metrics port P+2N+i); default: a free range from 61000 up,\n"
            "                      held for the run so that runs started together never\n"
            "                      collide\n"
            "  --full-output       every member writes its whole output (transactions\n"
            "                      included); by default only member 0 does and the others\n"
            "                      write a hash chain per batch (aleph node --output-mode\n"
            "                      chain: ~120 bytes a batch), which the agreement check\n"
            "                      compares; their transactions are member 0's up to the same\n"
            "                      batch and their latencies pair their output times with\n"
            "                      member 0's batches\n"
            "  --epoch-rounds E    epochs of E rounds (aleph keygen --epoch-rounds; default\n"
            "                      1000; 0: one endless epoch): each member's backup is one\n"
            "                      file per epoch; a boundary deletes the file K + A + 1\n"
            "                      epochs back (aleph node --epochs-kept K, default 3, and\n"
            "                      --epochs-archived A, default 8: the members behind they\n"
            "                      serve), so a run keeps at most 12 files per member\n"
            "  --quiet             no progress lines\n\n"
            "End-to-end latency: output time at the member a transaction was submitted to minus\n"
            "its send time (both CLOCK_REALTIME on this host). Throughput and latency count the\n"
            "steady window (the first and last tenth of the load are left out, at most 5 s each).\n"
            "The summary is computed by the same code as `aleph analyze RUN_DIR`.\n",
            LOADGEN_TX_MIN);
}

/* ---- main ---------------------------------------------------------------------------------- */

/* --wan is read here, before anything starts (a bad file is a usage error), and a matrix with
 * more regions than members says which regions the run uses. */
static int check_wan(const local_options *o)
{
    link_params lp;
    char err[1024];
    if (link_params_parse(&lp, o->wan, 0, o->members, err, sizeof err) != 0) {
        fprintf(stderr, "aleph local: --wan %s\n", err);
        return -1;
    }
    uint32_t regions = lp.regions;
    link_params_free(&lp);
    if (regions <= o->members || o->quiet) return 0;
    sim_latency_matrix *m = malloc(sizeof *m);
    if (!m || sim_latency_matrix_load(o->wan, m, err, sizeof err) != 0) {
        free(m);
        return 0;
    }
    char names[1024];
    size_t k = 0;
    for (uint32_t i = 0; i < o->members && k < sizeof names; i++)
        k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "", m->names[i]);
    fprintf(stderr,
            "aleph local: --wan %s has %u regions; %u members use the first %u (member i in "
            "region i): %s\n",
            o->wan, regions, o->members, o->members, names);
    free(m);
    return 0;
}

/* The schedule is the committee's: with a --wan matrix file the one derived from it (every
 * head decided at d = 2 over the matrix, docs/PROTOCOL.md "Default-creator schedule"), unless
 * --default-creators says otherwise; "rotation" is the core's r mod N (no schedule at all). */
static void default_creators_choose(local_options *o)
{
    if (o->default_creators && strcmp(o->default_creators, "rotation") == 0) {
        o->default_creators = NULL;
        return;
    }
    if (o->default_creators || !o->wan) return;
    link_params lp;
    char err[256];
    if (link_params_parse(&lp, o->wan, 0, o->members, err, sizeof err) != 0) return;
    if (lp.regions > 0) o->default_creators = "matrix";
    link_params_free(&lp);
}

_Static_assert(sizeof(aleph_coin_mode) == sizeof(int), "--coin is stored as an int");
static const char *const coin_names[] = {"threshold", "off", NULL};
static const int coin_values[] = {ALEPH_COIN_THRESHOLD, ALEPH_COIN_OFF};

#define F(field) offsetof(local_options, field)
#define NUM(name, kind, field, lo, hi) {name, kind, F(field), lo, hi, NULL, NULL}
#define FLAG(name, field) {name, OPT_FLAG, F(field), 0, 0, NULL, NULL}
#define STR(name, field) {name, OPT_STRING, F(field), 0, 0, NULL, NULL}
static const opt_spec local_table[] = {
    NUM("members", OPT_U32, members, 0, ALEPH_MEMBERS_MAX),
    NUM("faulty", OPT_U32, faulty, 0, ALEPH_MEMBERS_MAX),
    NUM("duration", OPT_DOUBLE, duration_s, 0.5, 86400),
    NUM("rate", OPT_DOUBLE, rate, 0, 1e7),
    NUM("tx-size", OPT_U32, tx_size, LOADGEN_TX_MIN, 1u << 20),
    STR("out", out_dir),
    {"coin", OPT_CHOICE, F(coin), 0, 0, coin_names, coin_values},
    FLAG("json", json),
    FLAG("quiet", quiet),
    NUM("round-delay-ms", OPT_INT, round_delay_ms, 0, 600000),
    NUM("max-unit-bytes", OPT_U32, unit_bytes_max, 1024, ALEPH_PAYLOAD_BYTES_MAX),
    NUM("drain-timeout", OPT_DOUBLE, drain_timeout_s, 0, 3600),
    STR("wan", wan),
    STR("default-creators", default_creators),
    NUM("jitter", OPT_DOUBLE, jitter_ms, 0, 60000),
    NUM("loss", OPT_DOUBLE, loss, 0, 1),
    NUM("bandwidth", OPT_DOUBLE, bandwidth_mbit, 0, 1e6),
    FLAG("hosts", hosts),
    NUM("base-port", OPT_U32, base_port, 1024, 65535),
    FLAG("metrics", metrics),
    FLAG("full-output", full_output),
    NUM("epoch-rounds", OPT_U32, epoch_rounds, 0, ALEPH_ROUND_MAX),
    OPT_END,
};

/* --node-arg ARG (repeatable, ARG often itself an option) is taken out first; the rest goes
 * to getopt_long through the table. The parser gets a copy of argv (getopt_long permutes
 * it; the command line is recorded as typed). */
static int parse_local_args(local_options *o, int argc, char **argv)
{
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return 1;
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        if (i > 0 && strcmp(argv[i], "--node-arg") == 0) {
            if (i + 1 == argc) {
                fprintf(stderr, "aleph local: --node-arg needs a value (see aleph local --help)\n");
                free(rest);
                return 2;
            }
            value = argv[++i];
        } else if (i > 0 && strncmp(argv[i], "--node-arg=", 11) == 0) {
            value = argv[i] + 11;
        } else {
            rest[n++] = argv[i];
            continue;
        }
        if (o->node_args_len == LOCAL_NODE_ARGS_MAX) {
            fprintf(stderr, "aleph local: at most %d --node-arg\n", LOCAL_NODE_ARGS_MAX);
            free(rest);
            return 2;
        }
        o->node_args[o->node_args_len++] = value;
    }
    opts_extra x = {.no_config = 1};
    int rc = opts_parse(local_table, o, "local", n, rest, 1, &x);
    free(rest);
    if (rc != 0) return rc;
    if (x.help) {
        local_usage(stdout);
        return 0;
    }
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
    if (o->base_port && o->base_port + local_ports_needed(o) - 1 > 65535) {
        fprintf(stderr, "aleph local: --base-port %u: the run needs %u ports, past 65535\n",
                o->base_port, local_ports_needed(o));
        return 2;
    }
    if (o->wan && check_wan(o) != 0) return 2;
    default_creators_choose(o);
    if (o->default_creators) {
        uint32_t *sched = malloc(ALEPH_DEFAULT_CREATORS_MAX * sizeof *sched);
        char err[1024] = "out of memory";
        uint32_t len = sched ? default_creators_from_spec(o->default_creators, o->members, o->wan,
                                                          sched, err, sizeof err)
                             : 0;
        free(sched);
        if (!len) {
            fprintf(stderr, "aleph local: --default-creators: %s\n", err);
            return 2;
        }
    }
    char why[512];
    if (o->hosts && !netns_available(why, sizeof why)) {
        fprintf(stderr, "aleph local: --hosts: network namespaces unavailable: %s\n", why);
        return 1;
    }
    if (o->hosts && o->members > NETNS_MEMBERS_MAX) {
        fprintf(stderr, "aleph local: --hosts supports at most %u members\n", NETNS_MEMBERS_MAX);
        return 2;
    }
    return -1;
}

int command_local(int argc, char **argv)
{
    local_options o;
    local_options_defaults(&o);
    int rc = parse_local_args(&o, argc, argv);
    if (rc >= 0) return rc;
    char command[2048];
    size_t cl = (size_t)snprintf(command, sizeof command, "aleph local");
    for (int k = 1; k < argc && cl < sizeof command; k++)
        cl += (size_t)snprintf(command + cl, sizeof command - cl, " %s", argv[k]);
    return local_run_main(&o, command);
}

/* `aleph local`: a committee of N node processes on this machine with an open-loop load, a
 * live progress line, and a summary at the end (docs: BENCHMARKING.md's summary block).
 * The command line is parsed by src/cli/cmd_local.c; the run's phases live here. */
#ifndef ALEPH_HARNESS_LOCAL_H
#define ALEPH_HARNESS_LOCAL_H

#include <stdint.h>

#include <aleph/aleph.h>

#define LOCAL_NODE_ARGS_MAX 32

typedef struct local_options {
    uint32_t members, faulty;
    double duration_s;
    double rate;
    uint32_t tx_size;
    const char *out_dir;
    aleph_coin_mode coin;
    int json;
    int round_delay_ms;
    uint32_t unit_bytes_max;
    double drain_timeout_s;
    const char *node_args[LOCAL_NODE_ARGS_MAX];
    int node_args_len;
    int quiet;
    const char *wan;               /* --wan: link spec for every node (link_delay.h) */
    const char *default_creators;  /* --default-creators: LIST, matrix:FILE or matrix (--wan) */
    double jitter_ms, loss, bandwidth_mbit;
    int hosts;                     /* --hosts: a network namespace per member (netns.h) */
    int metrics;                   /* --metrics: every member serves /metrics (local_metrics.c) */
    uint32_t base_port;            /* --base-port: the first port; 0: a free range is chosen */
    int full_output;               /* --full-output: every member writes its full output */
    uint32_t epoch_rounds;         /* --epoch-rounds: in the committee file */
} local_options;

/* How many consecutive ports a run takes from its base port (member, client, metrics). */
static inline uint32_t local_ports_needed(const local_options *o)
{
    return (o->metrics ? 3u : 2u) * o->members;
}

/* The defaults of every option. */
void local_options_defaults(local_options *o);

/* Runs the whole experiment; `command` is the command line recorded in run.json. Returns the
 * process exit status (0 passed, 1 failed, 130 interrupted). */
int local_run_main(const local_options *o, const char *command);

#endif

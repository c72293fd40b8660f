/* The summary of a run (shared/docs/BENCHMARKING.md: the summary block and its JSON names),
 * computed from what a run leaves on disk: the members' output files (through analysis.h),
 * their JSON-lines logs (logscan.h), the load client's records (load.json) and the run
 * manifest (run.json). This is the one implementation behind both `aleph local`'s summary
 * and `aleph analyze`; `aleph local` adds what only it saw live (the load client's per
 * transaction answers, its processes' resource usage) as the manifest's "harness" object.
 *
 * run.json (written by `aleph local` when the load starts, completed at the end):
 *   {"format": "aleph-run/1", "members": N, "faulty": F, "tx_size": B, "offered_tx_s": R,
 *    "duration_s": D, "round_delay_ms": ms, "max_unit_bytes": B, "coin": "threshold"|"off",
 *    "network": "loopback"|"emulated-wan"|"netns"|"emulated-wan+netns"|"hosts", "wan_matrix": FILE,
 *    "jitter_ms": J, "loss": P, "bandwidth_mbit": M, "client_id_base": C,
 *    "load_start_ns": T, "window_start_ns": T, "window_end_ns": T, "command": "...",
 *    "harness": {...}}   (times: CLOCK_REALTIME ns) */
#ifndef ALEPH_NODE_SUMMARY_H
#define ALEPH_NODE_SUMMARY_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"
#include "logscan.h"

/* The load client's first client id in `aleph local` (target i gets base + i). */
#define LOCAL_CLIENT_ID_BASE 0x10000u

typedef struct run_config {
    uint32_t members, faulty, tx_size;
    double offered_tx_s, duration_s;
    int round_delay_ms;            /* -1: unknown */
    uint32_t unit_bytes_max;
    char coin[16];
    char network[32];
    char wan_matrix[256];
    double jitter_ms, loss, bandwidth_mbit;
    uint32_t client_id_base;
    uint64_t load_start_ns, window_start_ns, window_end_ns;
    char command[2048];
} run_config;

/* Defaults: loopback, 512-byte transactions, client ids from LOCAL_CLIENT_ID_BASE. */
void run_config_defaults(run_config *c);
json_t *run_config_json(const run_config *c);
/* Reads run.json; returns 0, or -1 with a message. *harness gets the "harness" object (a new
 * reference, or NULL). */
int run_manifest_read(const char *path, run_config *c, json_t **harness, char *err, size_t cap);
/* Writes run.json (config plus the harness object, which may be NULL). */
int run_manifest_write(const char *path, const run_config *c, json_t *harness);
/* The steady window for a load from t0 to t1: the first and last tenth left out, at most
 * 5 s each. */
void run_window(uint64_t t0_ns, uint64_t t1_ns, uint64_t *start_ns, uint64_t *end_ns);

/* load.json from `aleph local`, or the records file of `aleph load --records` (which also
 * gives its client id, rate, transaction size and duration; 0 when absent). */
typedef struct load_record {
    int present;
    uint64_t sent, accepted, refused_pool_full;
    int kept_rate;
    uint32_t client_id;
    uint32_t tx_size;
    double offered_tx_s, duration_s;
    uint64_t *per_second;          /* transactions sent in each second of the load */
    size_t per_second_len;
} load_record;

int load_record_read(const char *path, load_record *l);
void load_record_free(load_record *l);

typedef struct member_figures {
    int has_log, has_output, survivor;
    double bytes_sent_s, bytes_received_s;
    double peak_rss_mb, cpu_s;
    uint64_t batches;
    uint32_t last_round;
    uint64_t dropped;              /* every kind below, at this member */
    uint64_t log_broken;
} member_figures;

typedef struct link_figures {      /* units of `from` received (added to the DAG) at `to` */
    uint32_t from, to;
    uint64_t units;
    double delay_ms_min, delay_ms_mean, delay_ms_p50, delay_ms_max;
    double delay_ms_configured;          /* the emulated one-way delay, -1 when none */
} link_figures;

typedef struct run_summary {
    run_config cfg;
    const char *title;             /* first word of the text block: "aleph local", ... */
    char source[4200];             /* what was analysed: a run directory or a log file */
    uint32_t ref;                  /* the member whose output gives throughput and rounds */
    uint32_t members_seen;         /* members with a log or an output */
    int outputs;                   /* output files were read */
    uint32_t outputs_read;         /* how many */
    int agreement;                 /* 1, 0, or -1: not checked (fewer than two outputs) */
    char agreement_why[256];
    int exactly_once;              /* 1, 0, or -1: not known */
    char exactly_once_why[256];
    uint64_t txs_missing, txs_duplicated, txs_distinct;
    double window_s;
    double throughput_tx_s, throughput_mb_s;
    uint64_t latency_n;
    double lat_mean, lat_p50, lat_p95, lat_p99;
    uint64_t consensus_n;
    double cons_mean, cons_p50, cons_p95;
    uint64_t depth[3];             /* heads decided at d = 2, 3, 4+ (steady window, ref) */
    double units_per_batch;
    double rounds_per_s;
    uint32_t batches, last_round;
    double bytes_sent_per_member_s, bytes_received_per_member_s;
    double peak_rss_mb, cpu_s_per_member;
    /* dropped or rejected messages, summed over members */
    uint64_t drop_queue, drop_rejected, drop_input, drop_connections, drop_client,
        drop_link_lost, drop_link_full;
    uint64_t warn_lines;
    char first_warn[512];
    uint64_t log_lines, log_broken;
    char first_broken[LOG_EXAMPLE_MAX + 64];
    /* unit receive delay: created at the creator to added at a peer, from the logs */
    uint64_t delay_units;
    double delay_mean, delay_p50, delay_link_min, delay_link_max;
    link_figures *links;
    size_t links_len;
    member_figures *per_member;
    json_t *harness;               /* borrowed: `aleph local`'s live facts, or NULL */
    u32_samples latency_all_us;    /* the window's end-to-end samples (sorted), for the CDF */
} run_summary;

/* Everything a summary is computed from. `an` may be NULL (logs only); logs[i] is member i's
 * log (has_log[i] 0 when absent); `load` and `harness` may be NULL. */
typedef struct summary_inputs {
    const run_config *cfg;
    run_analysis *an;
    const member_log *logs;
    const int *has_log;
    uint32_t members;
    const load_record *load;
    json_t *harness;
    const double *cpu_s_override;      /* per member, from the parent's rusage; may be NULL */
    const double *peak_rss_override;
} summary_inputs;

/* Fields of a JSON object read with a default (run_files.c): a string copied into out (left
 * alone when absent), a non-negative integer, a number. */
void json_field_str(json_t *j, const char *key, char *out, size_t cap);
uint64_t json_field_u64(json_t *j, const char *key, uint64_t def);
double json_field_double(json_t *j, const char *key, double def);

void summary_compute(run_summary *s, const summary_inputs *in);
void summary_free(run_summary *s);
json_t *summary_json(const run_summary *s);
void summary_text(FILE *f, const run_summary *s);

/* CSV files into dir: series.csv (per second: offered, ordered tx/s, MB/s, latency mean, p50,
 * p95, rounds), members.csv, traffic.csv (per member per second), links.csv, latency_cdf.csv.
 * Returns 0, or -1 with a message. */
int summary_write_csv(const run_summary *s, const summary_inputs *in, const char *dir, char *err,
                      size_t cap);

/* summary.json (with "run_dir": run_dir unless NULL), summary.txt and the CSV files in dir
 * (summary_files.c). Returns summary_write_csv's result (the other two are written anyway). */
int summary_write_files(const run_summary *s, const summary_inputs *in, const char *dir,
                        const char *run_dir, char *err, size_t cap);
/* The summary on stdout: text, or (json) the JSON of summary.json on one line. */
void summary_print(const run_summary *s, const char *run_dir, int json);

#endif

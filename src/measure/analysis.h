/* Reading members' output files while a local run goes on and after it: agreement (every
 * output a prefix of one sequence), exactly-once delivery of the load's transactions,
 * throughput and end-to-end latency.
 *
 * Agreement is checked on the output's chain of digests, one per batch (node/output.h: unit
 * hashes cover the payloads; the reader recomputes it for full files). Transactions are
 * counted per (client id, sequence number) at every member whose output is full. A member
 * in chain mode (aleph local's default for all but the first) records only batch headers
 * and chain values: equal chain values at a seq mean the same transactions up to it, so its
 * transactions are those of a full member's first batches (the reference, member 0), and
 * the latency of what it was sent pairs its output time of batch k with the send times in
 * the reference's batch k. */
#ifndef ALEPH_NODE_ANALYSIS_H
#define ALEPH_NODE_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "base/samples.h"
#include "node/output.h"

typedef struct member_track {
    uint32_t index;
    int opened;
    output_follow follow;
    int chain_only;                /* the files hold batch headers and chain values only */
    uint64_t seq0;                 /* seq of the first batch read */
    uint64_t batches;
    uint8_t (*digests)[16];        /* per batch from seq0, truncated chain value */
    size_t digests_cap;
    uint8_t chain[32];
    uint32_t first_round, last_round;
    uint64_t first_output_ns, last_output_ns;
    uint64_t txs, foreign_txs;     /* all transactions; those not from the load */
    uint8_t **counts;              /* [origin][seq]: times output, saturating */
    size_t *counts_cap;
    uint64_t *seen;                /* per origin: distinct transactions output */
    uint64_t duplicates;
    uint64_t window_txs;           /* output inside the steady window */
    uint64_t window_first_ns, window_last_ns;
    uint32_t window_first_round, window_last_round;
    uint64_t window_first_seq, window_last_seq; /* batches (one per round, across epochs) */
    uint64_t interval_txs;         /* since the last progress report */
    u32_samples latency_us;        /* own-origin transactions sent inside the window */
    u32_samples interval_latency_us;
    /* per second since series_origin_ns (when series_on): transactions and batches output */
    uint32_t *sec_txs, *sec_batches;
    size_t sec_len, sec_cap;
    /* full: load transactions in the batches from seq0 up to each one (for chain members'
     * counts); chain: output time of each batch, and the latencies waiting for it */
    uint64_t *load_upto, *out_ns;
    size_t load_upto_cap, out_ns_cap;
    uint64_t load_txs;
    struct pending_latency {
        uint64_t seq, send_ns;
    } *pend;
    size_t pend_head, pend_len, pend_cap;
    uint64_t pend_dropped;
} member_track;

typedef struct run_analysis {
    uint32_t members;
    uint32_t client_id_base;
    uint64_t window_start_ns, window_end_ns; /* CLOCK_REALTIME */
    member_track *m;
    /* Time series for plots (aleph analyze): off unless series_on is set before polling. */
    int series_on;
    uint64_t series_origin_ns;
    u32_samples *sec_latency_us;   /* per output second: own-origin latencies, all members */
    size_t sec_latency_len, sec_latency_cap;
} run_analysis;

int analysis_init(run_analysis *a, uint32_t members, uint32_t client_id_base);
/* Opens member i's output files when they exist; reads what is new. */
void analysis_poll(run_analysis *a, uint32_t i, const char *output_path);
/* Every member: those in chain mode first (their output times wait for the reference's
 * transactions, not the other way round). paths[i]: member i's DIR/output.bin, "" none. */
void analysis_poll_all(run_analysis *a, const char *const *paths);
/* Load transactions the reference member (full) output in batches from seq end_seq on:
 * what a chain member that ends before end_seq lacks. */
uint64_t analysis_load_txs_from(const run_analysis *a, uint32_t ref, uint64_t end_seq);
void analysis_free(run_analysis *a);

/* Agreement over the given members: returns 1 when all are prefixes of the longest one;
 * else 0 with a description. */
int analysis_agreement(const run_analysis *a, const int *include, char *why, size_t cap);

#endif

/* `aleph node --metrics ADDR:PORT`: the node's Prometheus series at /metrics and its health at
 * /health (200 when linked to a quorum and ordering, 503 otherwise), answered on the loop
 * thread by net/http_server.c. Series and their meaning: docs/METRICS.md.
 *
 * node.c reports what only it sees (an input dropped and why, a batch's arrival, the latency
 * of an own unit, a backup sync) through the node_metrics_* calls, and hands a metrics_view
 * of everything else (the member's counters, the peers, the backup, the client port) to
 * node_metrics_respond() for each request. */
#ifndef ALEPH_NODE_METRICS_H
#define ALEPH_NODE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"
#include "backup.h"
#include "client.h"
#include "metrics_text.h"
#include "net/http_server.h"
#include "net/peer.h"

/* Distinct drop reasons counted by name; the core's reasons are static strings, fewer than
 * this. Any beyond it are counted under reason="other". */
#define METRICS_DROP_REASONS_MAX 64u
/* /health: ordering stalls when no batch came for this long (plus four idle rounds). */
#define METRICS_ORDERING_STALE_MS 10000u

typedef struct node_metrics {
    histogram ordering_latency; /* own unit created -> ordered by this member */
    histogram backup_sync;      /* one fdatasync of the backup (a group commit) */
    struct {
        const char *reason;
        uint64_t count;
    } drops[METRICS_DROP_REASONS_MAX];
    uint32_t drops_len;
    uint64_t drops_other;
    uint64_t halts;
    uint64_t last_batch_ms; /* the loop's clock at the last batch; 0: none yet */
    uint64_t backup_syncs_seen, backup_sync_ns_seen;
} node_metrics;

typedef struct metrics_view {
    const aleph_member *member;
    const aleph_config *cfg;
    const net *net;
    const backup_file *backup;
    const client_port *clients;
    const http_server *http;
    uint32_t me;
    uint64_t steps, step_ns;
    double start_time_s; /* process start, seconds since the epoch */
} metrics_view;

void node_metrics_init(node_metrics *m);
/* Counts DROPPED notices by reason (the core's static strings), HALT and OWN_NEWER notices. */
void node_metrics_notice(node_metrics *m, const aleph_notice *n);
void node_metrics_batch(node_metrics *m, uint64_t now_ms);
void node_metrics_ordering_latency(node_metrics *m, uint64_t latency_ms);
/* After each durable report of the backup: observes the syncs done since the last call. */
void node_metrics_backup_synced(node_metrics *m, const backup_file *b);
/* 1 when linked to a quorum and ordering; why says what holds or fails. */
int node_metrics_healthy(const node_metrics *m, const metrics_view *v, uint64_t now_ms, char *why,
                         size_t cap);
/* Answers a GET of path: /metrics, /health, else 404. */
void node_metrics_respond(const node_metrics *m, const metrics_view *v, uint64_t now_ms,
                          const char *path, http_response *out);

#endif

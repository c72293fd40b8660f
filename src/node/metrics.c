#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/util.h"

static const double ORDERING_BOUNDS_S[] = {0.025, 0.05, 0.1, 0.25, 0.5, 1,  2.5,
                                           5,     10,   20,  30,   60,  120};
static const double BACKUP_SYNC_BOUNDS_S[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                              1,      2.5};

void node_metrics_init(node_metrics *m)
{
    memset(m, 0, sizeof *m);
    histogram_init(&m->ordering_latency, ORDERING_BOUNDS_S,
                   sizeof ORDERING_BOUNDS_S / sizeof ORDERING_BOUNDS_S[0]);
    histogram_init(&m->backup_sync, BACKUP_SYNC_BOUNDS_S,
                   sizeof BACKUP_SYNC_BOUNDS_S / sizeof BACKUP_SYNC_BOUNDS_S[0]);
}

void node_metrics_notice(node_metrics *m, const aleph_notice *n)
{
    if (n->kind == ALEPH_NOTICE_HALT || n->kind == ALEPH_NOTICE_OWN_NEWER) m->halts++;
    if (n->kind != ALEPH_NOTICE_DROPPED) return;
    const char *reason = n->reason ? n->reason : "unknown";
    for (uint32_t i = 0; i < m->drops_len; i++) {
        /* The same static string, or an equal one from elsewhere in the core. */
        if (m->drops[i].reason == reason || strcmp(m->drops[i].reason, reason) == 0) {
            m->drops[i].count++;
            return;
        }
    }
    if (m->drops_len == METRICS_DROP_REASONS_MAX) {
        m->drops_other++;
        return;
    }
    m->drops[m->drops_len].reason = reason;
    m->drops[m->drops_len].count = 1;
    m->drops_len++;
}

void node_metrics_batch(node_metrics *m, uint64_t now_ms)
{
    m->last_batch_ms = now_ms ? now_ms : 1;
}

void node_metrics_ordering_latency(node_metrics *m, uint64_t latency_ms)
{
    histogram_observe(&m->ordering_latency, (double)latency_ms / 1e3);
}

void node_metrics_backup_synced(node_metrics *m, const backup_file *b)
{
    /* after_sync (loop thread) adds one sync at a time before reporting it durable. */
    uint64_t syncs = b->syncs - m->backup_syncs_seen;
    if (syncs == 0) return;
    double s = (double)(b->sync_ns_total - m->backup_sync_ns_seen) / 1e9 / (double)syncs;
    for (uint64_t i = 0; i < syncs; i++) histogram_observe(&m->backup_sync, s);
    m->backup_syncs_seen = b->syncs;
    m->backup_sync_ns_seen = b->sync_ns_total;
}

int node_metrics_healthy(const node_metrics *m, const metrics_view *v, uint64_t now_ms, char *why,
                         size_t cap)
{
    uint32_t linked = net_connected(v->net) + 1; /* itself included */
    uint32_t quorum = aleph_quorum(v->cfg->members);
    uint64_t stale_ms = METRICS_ORDERING_STALE_MS + 4ull * v->cfg->round_delay_ms_idle;
    if (m->halts) {
        snprintf(why, cap, "halted (see the log's halted line)");
        return 0;
    }
    if (linked < quorum) {
        snprintf(why, cap, "linked to %u of %u members (itself included), quorum %u", linked,
                 v->cfg->members, quorum);
        return 0;
    }
    if (!m->last_batch_ms) {
        snprintf(why, cap, "linked to %u of %u members; no batch ordered yet", linked,
                 v->cfg->members);
        return 0;
    }
    uint64_t ago_ms = now_ms > m->last_batch_ms ? now_ms - m->last_batch_ms : 0;
    snprintf(why, cap, "linked to %u of %u members (quorum %u); last batch %.1f s ago", linked,
             v->cfg->members, quorum, (double)ago_ms / 1e3);
    return ago_ms <= stale_ms;
}

static void counter(text_buf *t, const char *name, const char *help, uint64_t v)
{
    metrics_family(t, name, "counter", help);
    metrics_sample_u64(t, name, NULL, NULL, v);
}

static void gauge(text_buf *t, const char *name, const char *help, double v)
{
    metrics_family(t, name, "gauge", help);
    metrics_sample(t, name, NULL, NULL, v);
}

static void render_member(text_buf *t, const node_metrics *m, const metrics_view *v)
{
    aleph_member_stats s;
    aleph_member_stats_get(v->member, &s);
    gauge(t, "aleph_round_created", "Highest round of an own unit created (-1: none yet)",
          s.round_created == UINT32_MAX ? -1.0 : (double)s.round_created);
    gauge(t, "aleph_round_ordered", "Round of the last ordered batch (-1: none yet)",
          s.round_ordered == UINT32_MAX ? -1.0 : (double)s.round_ordered);
    counter(t, "aleph_units_created_total", "Own units created and signed", s.units_created);
    counter(t, "aleph_units_added_total", "Units that entered the DAG, own included", s.units_added);
    counter(t, "aleph_units_ordered_total", "Units output in ordered batches", s.units_ordered);
    counter(t, "aleph_batches_ordered_total", "Ordered batches (one per round)", s.batches_ordered);
    counter(t, "aleph_transactions_ordered_total", "Transactions output in ordered batches",
            s.txs_ordered);
    counter(t, "aleph_messages_received_total", "Member messages fed to the core", s.messages_in);
    metrics_family(t, "aleph_messages_dropped_total", "counter",
                   "Inputs the core rejected (malformed, oversized, bad signature, rule broken), "
                   "by reason");
    for (uint32_t i = 0; i < m->drops_len; i++)
        metrics_sample_u64(t, "aleph_messages_dropped_total", "reason", m->drops[i].reason,
                           m->drops[i].count);
    if (m->drops_other)
        metrics_sample_u64(t, "aleph_messages_dropped_total", "reason", "other", m->drops_other);
    counter(t, "aleph_pending_units_evicted_total",
            "Units waiting for parents dropped because the buffer was full", s.pending_evicted);
    gauge(t, "aleph_pending_units", "Units waiting for their parents now", (double)s.units_pending);
    gauge(t, "aleph_dag_units", "Units in the DAG now", (double)s.dag_units);
    counter(t, "aleph_requests_sent_total", "Requests for missing units sent", s.requests_sent);
    counter(t, "aleph_forks_detected_total", "Forks found (two units of one creator and round)",
            s.forks_detected);
    counter(t, "aleph_coin_shares_created_total", "Own threshold-coin shares created",
            s.coin_shares_created);
    counter(t, "aleph_coin_shares_verified_total", "Coin shares checked to compute a coin value",
            s.coin_shares_verified);
    counter(t, "aleph_coin_shares_invalid_total", "Coin shares that failed their proof",
            s.coin_shares_invalid);
    counter(t, "aleph_coin_values_total", "Coin values computed", s.coin_values);
    gauge(t, "aleph_pool_transactions", "Transactions waiting in the local pool", (double)s.pool_txs);
    gauge(t, "aleph_pool_bytes", "Bytes in the local pool (4-byte lengths included)",
          (double)s.pool_bytes);
    counter(t, "aleph_halts_total",
            "HALT and OWN_NEWER notices (more than f faulty, bad key, own key used elsewhere)",
            m->halts);
    counter(t, "aleph_units_restored_total", "Units restored from the backup at start",
            s.units_restored);
    counter(t, "aleph_units_shed_total", "Ordered units whose encoding and parents were freed",
            s.units_shed);
    gauge(t, "aleph_own_check_waiting",
          "1 while the member waits for peers' answers before its first own unit",
          (double)s.own_check_waiting);
}

typedef uint64_t (*peer_value_fn)(const peer *p);
static uint64_t peer_up(const peer *p) { return p->conn != NULL; }
static uint64_t peer_bytes_in(const peer *p) { return p->stats.bytes_in; }
static uint64_t peer_bytes_out(const peer *p) { return p->stats.bytes_out; }
static uint64_t peer_msgs_in(const peer *p) { return p->stats.msgs_in; }
static uint64_t peer_msgs_out(const peer *p) { return p->stats.msgs_out; }
static uint64_t peer_q_bytes(const peer *p) { return p->queue.bytes; }
static uint64_t peer_q_len(const peer *p) { return p->queue.len; }
static uint64_t peer_q_dropped(const peer *p) { return p->queue.dropped; }
static uint64_t peer_connects(const peer *p) { return p->stats.connects; }

static void per_peer(text_buf *t, const metrics_view *v, const char *name, const char *type,
                     const char *help, peer_value_fn value)
{
    metrics_family(t, name, type, help);
    for (uint32_t i = 0; i < v->net->members; i++) {
        if (i == v->me || !v->net->peers) continue;
        char label[16];
        snprintf(label, sizeof label, "%u", i);
        metrics_sample_u64(t, name, "peer", label, value(&v->net->peers[i]));
    }
}

static void render_peers(text_buf *t, const metrics_view *v)
{
    gauge(t, "aleph_peers_connected", "Peers with an authenticated connection now",
          (double)net_connected(v->net));
    per_peer(t, v, "aleph_peer_up", "gauge", "1 while the peer's connection is authenticated",
             peer_up);
    per_peer(t, v, "aleph_peer_received_bytes_total", "counter", "Bytes received from the peer",
             peer_bytes_in);
    per_peer(t, v, "aleph_peer_sent_bytes_total", "counter", "Bytes sent to the peer",
             peer_bytes_out);
    per_peer(t, v, "aleph_peer_received_messages_total", "counter",
             "Member messages received from the peer", peer_msgs_in);
    per_peer(t, v, "aleph_peer_sent_messages_total", "counter", "Member messages sent to the peer",
             peer_msgs_out);
    per_peer(t, v, "aleph_peer_queue_bytes", "gauge", "Bytes waiting in the peer's send queue",
             peer_q_bytes);
    per_peer(t, v, "aleph_peer_queue_messages", "gauge",
             "Messages waiting in the peer's send queue (its length)", peer_q_len);
    per_peer(t, v, "aleph_peer_queue_dropped_messages_total", "counter",
             "Messages dropped because the peer's send queue was full", peer_q_dropped);
    per_peer(t, v, "aleph_peer_connects_total", "counter", "Authenticated connections made",
             peer_connects);
    const net_counters *nc = &v->net->counters;
    counter(t, "aleph_handshakes_failed_total",
            "Incoming connections that failed the handshake (wrong key, index, session)",
            nc->handshake_failed);
    counter(t, "aleph_frames_oversize_total", "Frames over the size limit (connection dropped)",
            nc->frames_oversize);
    counter(t, "aleph_handshake_timeouts_total", "Handshakes not done within the deadline",
            nc->handshake_timeouts);
    gauge(t, "aleph_handshakes_accepted", "Accepted connections in handshake now",
          (double)v->net->unauthenticated);
    metrics_family(t, "aleph_member_port_refused_total", "counter",
                   "Accepted connections closed at once by a member port limit, by limit");
    metrics_sample_u64(t, "aleph_member_port_refused_total", "limit", "per_source",
                       nc->refused_source);
    metrics_sample_u64(t, "aleph_member_port_refused_total", "limit", "max", nc->refused_full);
    counter(t, "aleph_member_port_evicted_total",
            "Handshakes from a member's address closed for a newer one from it", nc->evicted);
}

static void render_node(text_buf *t, const node_metrics *m, const metrics_view *v)
{
    metrics_histogram(t, "aleph_ordering_latency_seconds",
                      "From the creation of an own unit to its output in a batch here",
                      &m->ordering_latency);
    metrics_histogram(t, "aleph_backup_sync_duration_seconds",
                      "Duration of one fdatasync of the backup (a group commit of own units)",
                      &m->backup_sync);
    counter(t, "aleph_backup_units_total", "Units made durable in the backup", v->backup->units);
    counter(t, "aleph_backup_written_bytes_total", "Bytes written to the backup", v->backup->bytes);
    const client_counters *cc = &v->clients->counters;
    metrics_family(t, "aleph_client_transactions_total", "counter",
                   "Transactions submitted on the client port, by answer");
    metrics_sample_u64(t, "aleph_client_transactions_total", "status", "accepted", cc->txs_ok);
    metrics_sample_u64(t, "aleph_client_transactions_total", "status", "pool_full",
                       cc->txs_pool_full);
    metrics_sample_u64(t, "aleph_client_transactions_total", "status", "too_large",
                       cc->txs_too_large);
    gauge(t, "aleph_client_connections", "Client connections now", (double)v->clients->count);
    metrics_family(t, "aleph_client_refused_total", "counter",
                   "Client connections refused (status 5) by a client port limit, by limit");
    metrics_sample_u64(t, "aleph_client_refused_total", "limit", "per_source", cc->refused_source);
    metrics_sample_u64(t, "aleph_client_refused_total", "limit", "max", cc->refused_full);
    metrics_sample_u64(t, "aleph_client_refused_total", "limit", "subscribers",
                       cc->refused_subscribers);
    counter(t, "aleph_client_evicted_idle_total",
            "Idle client connections closed (status 5) to make room for a new one",
            cc->evicted_idle);
    metrics_family(t, "aleph_client_timeouts_total", "counter",
                   "Client connections closed by a timeout, by timeout");
    metrics_sample_u64(t, "aleph_client_timeouts_total", "timeout", "idle", cc->idle_timeouts);
    metrics_sample_u64(t, "aleph_client_timeouts_total", "timeout", "read", cc->read_timeouts);
    gauge(t, "aleph_client_subscribers", "Subscribers to the ordered output now",
          (double)v->clients->subscribers);
    counter(t, "aleph_steps_total", "Events fed to the protocol core", v->steps);
    metrics_family(t, "aleph_step_seconds_total", "counter", "Time spent in the protocol core's steps");
    metrics_sample(t, "aleph_step_seconds_total", NULL, NULL, (double)v->step_ns / 1e9);
    counter(t, "aleph_metrics_bad_requests_total", "Requests the metrics port refused",
            v->http->counters.bad_requests);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    metrics_family(t, "process_cpu_seconds_total", "counter", "User and system CPU time");
    metrics_sample(t, "process_cpu_seconds_total", NULL, NULL, cpu);
    gauge(t, "process_resident_memory_bytes", "Resident set size", process_rss_bytes());
    gauge(t, "process_start_time_seconds", "Start of the process, seconds since the epoch",
          v->start_time_s);
}

void node_metrics_respond(const node_metrics *m, const metrics_view *v, uint64_t now_ms,
                          const char *path, http_response *out)
{
    text_buf t = {0};
    char why[256];
    int healthy = node_metrics_healthy(m, v, now_ms, why, sizeof why);
    if (strcmp(path, "/metrics") == 0) {
        metrics_family(&t, "aleph_member_info", "gauge", "This member's index and committee");
        text_printf(&t, "aleph_member_info{member=\"%u\",members=\"%u\"} 1\n", v->me,
                    v->cfg->members);
        render_member(&t, m, v);
        render_peers(&t, v);
        render_node(&t, m, v);
        gauge(&t, "aleph_healthy", "1 when /health answers 200 (linked to a quorum, ordering)",
              healthy);
        out->status = 200;
        out->content_type = METRICS_CONTENT_TYPE;
    } else if (strcmp(path, "/health") == 0) {
        text_printf(&t, "%s: %s\n", healthy ? "ok" : "unhealthy", why);
        out->status = healthy ? 200 : 503;
    } else {
        text_printf(&t, "not found: /metrics and /health are served here\n");
        out->status = 404;
    }
    if (t.failed) {
        free(t.data);
        out->status = 500;
        out->body = NULL;
        out->body_len = 0;
        return;
    }
    out->body = t.data;
    out->body_len = t.len;
}

#include "node.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "aleph/aleph.h"
#include "archive.h"
#include "backup.h"
#include "client.h"
#include "base/addresses.h"
#include "base/keys.h"
#include "net/link_delay.h"
#include "base/log.h"
#include "metrics.h"
#include "held.h"
#include "port_limits.h"
#include "output.h"
#include "net/peer.h"
#include "base/util.h"
#include "precheck.h"
#include "restart.h"
#include "epoch_files.h"

#define CREATED_RING 4096u

typedef struct node {
    node_options opt;
    uv_loop_t loop;
    committee committee;
    aleph_secret secret;
    aleph_config cfg;
    aleph_member *member;
    net net;
    client_port clients;
    output_file output;
    backup_file backup;
    archive archive;               /* finished epochs' backup files served from (archive.h) */
    precheck precheck;             /* range answers' signatures, checked on the thread pool */
    node_log log;
    uv_timer_t step_timer;
    uint64_t step_due_ms;          /* UINT64_MAX: not armed */
    uv_timer_t stats_timer;
    uv_signal_t sigint, sigterm;
    int handles_ready;
    int stopping;
    int exit_code;
    uint64_t started_mono_ns;
    /* consensus latency: creation time of own units by round */
    uint32_t created_round[CREATED_RING];
    uint64_t created_ms[CREATED_RING];
    uint64_t steps, step_ns;
    uint64_t consensus_latency_ms_sum, consensus_latency_n;
    /* Messages produced after a persist wait here until it is durable (FIFO, bounded). */
    held_queue held;
    uint64_t hold_until;           /* persist sequence the next message must wait for */
    node_metrics metrics;
    http_server metrics_http;
    int metrics_open;
    double start_time_s;
    uint32_t epoch;                /* of the batches the member hands over */
    /* durable acknowledgements: accepted transactions are numbered in acceptance order and
     * the pool is FIFO, so own unit k holds transactions up to a running count */
    uint64_t txs_in_units;
    struct unit_txs {
        uint64_t seq;              /* persist sequence number of the own unit */
        uint64_t txs;              /* accepted transactions in own units up to it */
    } *unit_txs;
    size_t unit_txs_head, unit_txs_len, unit_txs_cap;
    restart_info restart;
    limits_log limits_logged;
    char data_dir[4096];
} node;

static void node_stop(node *nd, int code);

static void short_hash(char out[17], const uint8_t *hash)
{
    hex_encode(out, hash, 8);
}

/* ---- carrying out an update ------------------------------------------------------------------ */

static void log_notice(node *nd, const aleph_notice *n)
{
    char h[17];
    switch (n->kind) {
    case ALEPH_NOTICE_UNIT_CREATED:
        short_hash(h, n->hash);
        log_line(&nd->log, LOG_INFO, "unit_created", "\"round\":%u,\"hash\":\"%s\"", n->round, h);
        break;
    case ALEPH_NOTICE_UNIT_ADDED:
        if (n->creator == nd->secret.index || !nd->opt.log_units) break;
        short_hash(h, n->hash);
        log_line(&nd->log, LOG_INFO, "unit_received", "\"creator\":%u,\"round\":%u,\"hash\":\"%s\"",
                 n->creator, n->round, h);
        break;
    case ALEPH_NOTICE_FORK:
        short_hash(h, n->hash);
        log_line(&nd->log, LOG_WARN, "fork_found", "\"creator\":%u,\"round\":%u,\"hash\":\"%s\"",
                 n->creator, n->round, h);
        break;
    case ALEPH_NOTICE_DROPPED: {
        char reason[256];
        log_escape(reason, sizeof reason, n->reason ? n->reason : "");
        /* Around a boundary peers are a little behind or ahead: their messages of the last
         * or next epoch are dropped as expected (counted: epoch_stale/ahead_dropped). */
        int epoch_edge = n->reason && (strcmp(n->reason, "message of a finished epoch") == 0 ||
                                       strcmp(n->reason, "message of a later epoch") == 0);
        log_line(&nd->log, epoch_edge ? LOG_DEBUG : LOG_WARN, "input_dropped",
                 "\"peer\":%u,\"reason\":\"%s\"", n->peer, reason);
        break;
    }
    case ALEPH_NOTICE_OUT_OF_MEMORY: {
        char reason[256];
        log_escape(reason, sizeof reason, n->reason ? n->reason : "");
        log_line(&nd->log, LOG_ERROR, "out_of_memory", "\"where\":\"%s\"", reason);
        break;
    }
    case ALEPH_NOTICE_HALT: {
        char reason[256];
        log_escape(reason, sizeof reason, n->reason ? n->reason : "");
        log_line(&nd->log, LOG_ERROR, "halted", "\"round\":%u,\"reason\":\"%s\"", n->round,
                 reason);
        client_port_halted(&nd->clients, nd->txs_in_units);
        break;
    }
    case ALEPH_NOTICE_EPOCH_STARTED: {
        nd->epoch = n->epoch;
        epoch_files_begin(nd->member, &nd->backup, &nd->output);
        aleph_member_stats ms;
        aleph_member_stats_get(nd->member, &ms);
        log_line(&nd->log, LOG_INFO, "epoch_started",
                 "\"epoch\":%u,\"carry_txs\":%" PRIu64 ",\"output_seq\":%" PRIu64, n->epoch,
                 ms.carry_txs, nd->output.next_seq);
        break;
    }
    case ALEPH_NOTICE_OWN_NEWER:
        log_line(&nd->log, LOG_ERROR, "own_unit_newer", "\"round\":%u,\"peer\":%u", n->round,
                 n->peer);
        fprintf(stderr,
                "aleph node: refusing to create units: member %u holds a unit of round %u signed "
                "by this key, newer than this data dir holds (the backup was lost or is stale, "
                "or another process uses this key); stop any other process with this key, then "
                "restart with --recover to fetch it and continue above it\n",
                n->peer, n->round);
        node_stop(nd, 1);
        break;
    case ALEPH_NOTICE_OWN_CHECKED:
        log_line(&nd->log, LOG_INFO, "own_check_passed", "\"next_round\":%u", n->round);
        break;
    case ALEPH_NOTICE_EPOCH_NOT_HELD:
        archive_asked(&nd->archive, nd->member, &nd->log, n->asked_epoch, uv_now(&nd->loop));
        break;
    }
}

/* Writes the batch to the output; 1 when the output already held it (a restart orders
 * the epoch's batches again) or the node stops on a mismatch. */
static int output_held(node *nd, const aleph_batch *b, uint64_t real_ns)
{
    int gap;
    int rc = output_batch(&nd->output, b, b->epoch, real_ns, &gap);
    if (rc == OUTPUT_MISMATCH) {
        /* Cannot happen while ordering is deterministic and the backup is this member's. */
        log_line(&nd->log, LOG_ERROR, "output_mismatch",
                 "\"epoch\":%u,\"index\":%u,\"round\":%u,\"file_round\":%u", b->epoch,
                 nd->output.cur_index - 1, b->round, nd->output.last.round);
        node_stop(nd, 1);
        return 1;
    }
    if (gap)
        log_line(&nd->log, LOG_ERROR, "output_gap",
                 "\"seq\":%" PRIu64 ",\"epoch\":%u,\"index\":%u", nd->output.last.seq, b->epoch,
                 nd->output.last.index);
    return rc == OUTPUT_HELD;
}

static void deliver_batch(node *nd, const aleph_batch *b, uint64_t now_ms, uint64_t real_ns)
{
    node_metrics_batch(&nd->metrics, now_ms);
    if (output_held(nd, b, real_ns)) return;
    client_port_publish(&nd->clients, b, nd->output.last.seq, b->epoch);
    uint64_t txs = 0;
    for (size_t i = 0; i < b->units_len; i++) {
        const aleph_ordered_unit *u = &b->units[i];
        txs += u->txs_len;
        int own = u->creator == nd->secret.index;
        if (own) {
            uint32_t slot = u->round % CREATED_RING;
            if (nd->created_round[slot] == u->round && nd->created_ms[slot]) {
                uint64_t lat = now_ms - nd->created_ms[slot];
                node_metrics_ordering_latency(&nd->metrics, lat);
                nd->consensus_latency_ms_sum += lat;
                nd->consensus_latency_n++;
                char h[17];
                short_hash(h, u->hash);
                log_line(&nd->log, LOG_INFO, "unit_ordered",
                         "\"creator\":%u,\"round\":%u,\"hash\":\"%s\",\"batch\":%u,\"txs\":%" PRIu64
                         ",\"latency_ms\":%" PRIu64,
                         u->creator, u->round, h, b->round, (uint64_t)u->txs_len, lat);
                continue;
            }
        }
        if (nd->opt.log_units) {
            char h[17];
            short_hash(h, u->hash);
            log_line(&nd->log, LOG_INFO, "unit_ordered",
                     "\"creator\":%u,\"round\":%u,\"hash\":\"%s\",\"batch\":%u,\"txs\":%" PRIu64,
                     u->creator, u->round, h, b->round, (uint64_t)u->txs_len);
        }
    }
    char h[17];
    short_hash(h, b->head_hash);
    log_line(&nd->log, LOG_INFO, "head_decided",
             "\"round\":%u,\"creator\":%u,\"hash\":\"%s\",\"depth\":%u,\"units\":%zu,\"txs\":%" PRIu64,
             b->round, b->head_creator, h, b->head_depth, b->units_len, txs);
}

static void arm_step_timer(node *nd, uint64_t wake_ms);

static void send_now(node *nd, uint32_t to, out_frame *f)
{
    if (to == ALEPH_TO_ALL) {
        for (uint32_t p = 0; p < nd->committee.size; p++)
            if (p != nd->secret.index) net_send(&nd->net, p, f);
    } else {
        net_send(&nd->net, to, f);
    }
}

static void send_held(void *ctx, uint32_t to, out_frame *f)
{
    node *nd = ctx;
    if (!nd->stopping) send_now(nd, to, f);
}

static void note_unit_txs(node *nd, uint64_t seq, uint64_t taken)
{
    nd->txs_in_units += taken;
    if (nd->unit_txs_len == nd->unit_txs_cap) {
        size_t cap = nd->unit_txs_cap ? nd->unit_txs_cap * 2 : 256;
        struct unit_txs *grown = malloc(cap * sizeof *grown);
        if (!grown) return; /* answered with a later unit instead */
        for (size_t i = 0; i < nd->unit_txs_len; i++)
            grown[i] = nd->unit_txs[(nd->unit_txs_head + i) % nd->unit_txs_cap];
        free(nd->unit_txs);
        nd->unit_txs = grown;
        nd->unit_txs_cap = cap;
        nd->unit_txs_head = 0;
    }
    nd->unit_txs[(nd->unit_txs_head + nd->unit_txs_len++) % nd->unit_txs_cap] =
        (struct unit_txs){.seq = seq, .txs = nd->txs_in_units};
}

static void on_durable(void *ctx, uint64_t durable_seq)
{
    node *nd = ctx;
    node_metrics_backup_synced(&nd->metrics, &nd->backup);
    uint64_t txs = 0;
    while (nd->unit_txs_len && nd->unit_txs[nd->unit_txs_head].seq <= durable_seq) {
        txs = nd->unit_txs[nd->unit_txs_head].txs;
        nd->unit_txs_head = (nd->unit_txs_head + 1) % nd->unit_txs_cap;
        nd->unit_txs_len--;
    }
    if (txs && !nd->stopping) client_port_durable(&nd->clients, txs);
    held_release(&nd->held, durable_seq, send_held, nd);
}

static void on_backup_failed(void *ctx, int err)
{
    /* Never send what is not durable: stop instead. */
    node *nd = ctx;
    log_line(&nd->log, LOG_ERROR, "backup_failed", "\"error\":\"%s\"", strerror(err));
    node_stop(nd, 1);
}

static void apply_update(node *nd, const aleph_update *up, uint64_t now_ms, uint64_t txs_taken)
{
    if (up->persist_len) {
        uint64_t seq = backup_submit(&nd->backup, up->persist, up->persist_len);
        /* Only an own unit, an own alert or an alert signed must be durable before anything
         * is sent after it; other records become durable with the next sync. */
        if (up->persist_before_send) {
            nd->hold_until = seq;
            note_unit_txs(nd, seq, txs_taken);
        }
    }
    for (size_t i = 0; i < up->messages_len; i++) {
        const aleph_outgoing *m = &up->messages[i];
        if (m->len == 0) continue;
        int droppable = m->kind == ALEPH_MESSAGE_UNIT_BROADCAST;
        out_frame *f = out_frame_new(m->data, m->len, droppable);
        if (!f) continue;
        if (nd->backup.durable_seq < nd->hold_until) {
            held_push(&nd->held, nd->hold_until, m->to, f); /* dropped (counted) when full */
        } else {
            send_now(nd, m->to, f);
        }
        out_frame_unref(f);
    }
    if (up->batches_len) {
        uint64_t real_ns = clock_real_ns();
        for (size_t i = 0; i < up->batches_len && !nd->stopping; i++)
            deliver_batch(nd, &up->batches[i], now_ms, real_ns);
        if (output_flush(&nd->output) != 0) {
            log_line(&nd->log, LOG_ERROR, "output_failed", "\"error\":\"%s\"",
                     strerror(nd->output.errno_saved));
            node_stop(nd, 1);
            return;
        }
    }
    for (size_t i = 0; i < up->notices_len; i++) {
        const aleph_notice *n = &up->notices[i];
        if (n->kind == ALEPH_NOTICE_UNIT_CREATED) {
            uint32_t slot = n->round % CREATED_RING;
            nd->created_round[slot] = n->round;
            nd->created_ms[slot] = now_ms;
        }
        node_metrics_notice(&nd->metrics, n);
        log_notice(nd, n);
    }
    arm_step_timer(nd, up->wake_at_ms);
}

static uint64_t node_now_ms(node *nd)
{
    uv_update_time(&nd->loop);
    return uv_now(&nd->loop);
}

static void node_step(node *nd, const aleph_event *ev)
{
    if (nd->stopping) return;
    uint64_t t0 = clock_mono_ns();
    aleph_update up;
    aleph_member_stats before, after;
    aleph_member_stats_get(nd->member, &before);
    aleph_member_step(nd->member, ev, &up);
    aleph_member_stats_get(nd->member, &after);
    /* a step creates at most one own unit, and only the creator takes from the pool; the
     * stats' pool counts the carried transactions too, which were acknowledged in the last
     * epoch already (counting them would answer later ones before they are durable) */
    uint64_t pool0 = before.pool_txs - before.carry_txs_pending;
    uint64_t pool1 = after.pool_txs - after.carry_txs_pending;
    uint64_t taken = pool0 > pool1 ? pool0 - pool1 : 0;
    apply_update(nd, &up, ev->now_ms, taken);
    nd->steps++;
    nd->step_ns += clock_mono_ns() - t0;
}

static void on_step_timer(uv_timer_t *t)
{
    node *nd = t->data;
    nd->step_due_ms = UINT64_MAX;
    aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = node_now_ms(nd)};
    node_step(nd, &ev);
}

static void arm_step_timer(node *nd, uint64_t wake_ms)
{
    if (nd->stopping) return;
    if (wake_ms == UINT64_MAX) {
        if (nd->step_due_ms != UINT64_MAX) uv_timer_stop(&nd->step_timer);
        nd->step_due_ms = UINT64_MAX;
        return;
    }
    if (wake_ms == nd->step_due_ms) return; /* already armed for that time */
    uint64_t now = uv_now(&nd->loop);
    uint64_t delay = wake_ms > now ? wake_ms - now : 0;
    nd->step_due_ms = wake_ms;
    uv_timer_start(&nd->step_timer, on_step_timer, delay, 0);
}

static void deliver_message(void *ctx, uint32_t from, const uint8_t *data, size_t len)
{
    node *nd = ctx;
    aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = node_now_ms(nd), .from = from,
                      .data = data, .len = len};
    node_step(nd, &ev);
}

static void on_peer_message(void *ctx, uint32_t from, const uint8_t *data, size_t len)
{
    node *nd = ctx;
    if (!nd->opt.precheck || !precheck_message(&nd->precheck, from, data, len))
        deliver_message(nd, from, data, len);
}

/* A transaction in an empty pool may end the idle pace: the member says when it now wants
 * to step, and the timer moves up to that time. */
static aleph_submit_status on_submit(void *ctx, const uint8_t *tx, size_t len)
{
    node *nd = ctx;
    if (nd->stopping) return ALEPH_SUBMIT_HALTED;
    aleph_submit_status s = aleph_member_submit(nd->member, tx, len);
    if (s == ALEPH_SUBMIT_OK) {
        uint64_t wake = aleph_member_wake_at_ms(nd->member);
        if (wake < nd->step_due_ms) arm_step_timer(nd, wake);
    }
    return s;
}

/* ---- stats --------------------------------------------------------------------------------- */

static void log_stats(node *nd, const char *event)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    aleph_member_stats ms;
    aleph_member_stats_get(nd->member, &ms);
    size_t peers_cap = 64 + (size_t)nd->committee.size * 200;
    char *peers = malloc(peers_cap);
    if (!peers) return;
    size_t pl = 0;
    uint64_t in = 0, out = 0, qbytes = 0, qdropped = 0;
    peers[pl++] = '[';
    for (uint32_t i = 0; i < nd->committee.size; i++) {
        if (i == nd->secret.index) continue;
        const peer *p = &nd->net.peers[i];
        in += p->stats.bytes_in;
        out += p->stats.bytes_out;
        qbytes += p->queue.bytes;
        qdropped += p->queue.dropped;
        if (pl + 256 < peers_cap) {
            int w = snprintf(peers + pl, peers_cap - pl,
                             "%s{\"peer\":%u,\"up\":%s,\"in\":%" PRIu64 ",\"out\":%" PRIu64
                             ",\"queue_bytes\":%zu,\"queue_len\":%u,\"dropped\":%" PRIu64 "}",
                             pl > 1 ? "," : "", i, p->conn ? "true" : "false", p->stats.bytes_in,
                             p->stats.bytes_out, p->queue.bytes, p->queue.len, p->queue.dropped);
            if (w > 0) pl += (size_t)w;
        }
    }
    peers[pl++] = ']';
    peers[pl] = '\0';
    const net_counters *nc = &nd->net.counters;
    const client_counters *cc = &nd->clients.counters;
    /* prechecked: [UNITS messages, their signatures checked on the thread pool, member's checks
     * answered from those, checked on the loop, messages dropped, unit hashes answered, coin
     * shares checked on the pool, of those found valid and taken by the member] */
    const precheck_counters *pcc = &nd->precheck.counters;
    double uptime = (double)(clock_mono_ns() - nd->started_mono_ns) / 1e9;
    log_line(&nd->log, LOG_INFO, event,
             "\"uptime_s\":%.1f,\"rss_mb\":%.1f,\"peak_rss_mb\":%.1f,\"cpu_s\":%.2f,"
             "\"round_created\":%d,\"round_ordered\":%d,\"bytes_in\":%" PRIu64
             ",\"bytes_out\":%" PRIu64 ",\"queue_bytes\":%" PRIu64 ",\"queue_dropped\":%" PRIu64
             ",\"peers_up\":%u,\"peers\":%s,"
             "\"net\":{\"accepted\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"refused_source\":%" PRIu64
             ",\"refused_full\":%" PRIu64 ",\"evicted\":%" PRIu64 ",\"in_handshake\":%u"
             ",\"handshake_failed\":%" PRIu64
             ",\"handshake_timeouts\":%" PRIu64 ",\"frames_oversize\":%" PRIu64 ",\"replaced\":%" PRIu64
             "},\"clients\":{\"connected\":%u,\"subscribers\":%u,\"txs_ok\":%" PRIu64
             ",\"pool_full\":%" PRIu64 ",\"too_large\":%" PRIu64 ",\"oversize\":%" PRIu64
             ",\"paused\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"refused_source\":%" PRIu64
             ",\"refused_full\":%" PRIu64 ",\"refused_subscribers\":%" PRIu64
             ",\"evicted_idle\":%" PRIu64 ",\"idle_timeouts\":%" PRIu64 ",\"read_timeouts\":%" PRIu64
             ",\"slow_subscribers\":%" PRIu64
             "},\"member\":{\"units_created\":%" PRIu64 ",\"units_added\":%" PRIu64
             ",\"units_ordered\":%" PRIu64 ",\"batches_ordered\":%" PRIu64 ",\"txs_ordered\":%" PRIu64
             ",\"messages_in\":%" PRIu64 ",\"messages_dropped\":%" PRIu64 ",\"units_pending\":%" PRIu64
             ",\"pending_evicted\":%" PRIu64 ",\"requests_sent\":%" PRIu64 ",\"forks_detected\":%" PRIu64
             ",\"coin_shares_invalid\":%" PRIu64 ",\"pool_txs\":%" PRIu64 ",\"pool_bytes\":%" PRIu64
             ",\"dag_units\":%" PRIu64 ",\"units_shed\":%" PRIu64 ",\"shed_bytes\":%" PRIu64
             ",\"epoch\":%u,\"carry_txs\":%" PRIu64 ",\"epoch_stale_dropped\":%" PRIu64
             ",\"epoch_ahead_dropped\":%" PRIu64 ",\"epoch_far_dropped\":%" PRIu64
             ",\"epoch_answers\":%" PRIu64 ",\"epochs_kept\":%u"
             ",\"range_requests_sent\":%" PRIu64 ",\"range_units_received\":%" PRIu64
             ",\"range_timeouts\":%" PRIu64 ",\"range_requests_served\":%" PRIu64
             ",\"range_requests_refused\":%" PRIu64 ",\"resumes\":%" PRIu64
             ",\"pushed_bytes\":%" PRIu64 ",\"slot_answer_bytes\":%" PRIu64 "},\"steps\":%" PRIu64 ",\"step_ms_total\":%.1f,"
             "\"backup_syncs\":%" PRIu64 ",\"backup_sync_ms_max\":%.2f,\"backup_sync_ms_mean\":%.2f,"
             "\"held_max\":%" PRIu64 ",\"held_dropped\":%" PRIu64 ",\"output_bytes\":%" PRIu64
             ",\"consensus_latency_ms_mean\":%.1f,\"prechecked\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64
             ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "],\"archive\":{%s}",
             uptime, process_rss_bytes() / 1048576.0, (double)ru.ru_maxrss / 1024.0, cpu,
             ms.round_created == UINT32_MAX ? -1 : (int)ms.round_created,
             ms.round_ordered == UINT32_MAX ? -1 : (int)ms.round_ordered, in, out, qbytes, qdropped,
             net_connected(&nd->net), peers, nc->conns_accepted, nc->conns_refused,
             nc->refused_source, nc->refused_full, nc->evicted, nd->net.unauthenticated,
             nc->handshake_failed, nc->handshake_timeouts, nc->frames_oversize, nc->conns_replaced,
             nd->clients.count, nd->clients.subscribers, cc->txs_ok, cc->txs_pool_full,
             cc->txs_too_large, cc->frames_oversize, cc->paused, cc->refused, cc->refused_source,
             cc->refused_full, cc->refused_subscribers, cc->evicted_idle, cc->idle_timeouts,
             cc->read_timeouts, cc->subscribers_dropped, ms.units_created, ms.units_added, ms.units_ordered,
             ms.batches_ordered, ms.txs_ordered, ms.messages_in, ms.messages_dropped,
             ms.units_pending, ms.pending_evicted, ms.requests_sent, ms.forks_detected,
             ms.coin_shares_invalid, ms.pool_txs, ms.pool_bytes, ms.dag_units, ms.units_shed, ms.shed_bytes,
             ms.epoch, ms.carry_txs, ms.epoch_stale_dropped, ms.epoch_ahead_dropped,
             ms.epoch_far_dropped, ms.epoch_answers, ms.epochs_kept_now,
             ms.range_requests_sent, ms.range_units_received, ms.range_timeouts,
             ms.range_requests_served, ms.range_requests_refused, ms.resumes,
             ms.pushed_bytes, ms.slot_answer_bytes, nd->steps,
             (double)nd->step_ns / 1e6, nd->backup.syncs, (double)nd->backup.sync_ns_max / 1e6,
             nd->backup.syncs ? (double)nd->backup.sync_ns_total / 1e6 / (double)nd->backup.syncs
                              : 0.0,
             nd->held.len_max, nd->held.dropped, nd->output.bytes,
             nd->consensus_latency_n
                 ? (double)nd->consensus_latency_ms_sum / (double)nd->consensus_latency_n
                 : 0.0,
             pcc->messages, pcc->signatures, pcc->answered, pcc->checked_here, pcc->dropped,
             pcc->hashes, pcc->shares, pcc->shares_taken, archive_stats_fields(&nd->archive, nd->member));
    free(peers);
}

static void log_link_stats(node *nd)
{
    if (!nd->net.links) return;
    char fields[256];
    link_stage_stats_fields(nd->net.links, fields, sizeof fields);
    log_line(&nd->log, LOG_INFO, "link_stats", "%s", fields);
}

static void on_stats_timer(uv_timer_t *t)
{
    node *nd = t->data;
    log_stats(nd, "stats");
    log_link_stats(nd);
    archive_tick(&nd->archive, nd->member, &nd->log, node_now_ms(nd));
    limits_log_interval(&nd->limits_logged, &nd->log, &nd->net.counters, &nd->clients.counters,
                        nd->opt.stats_interval_ms / 1000.0);
    log_flush(&nd->log);
}

static void on_metrics_request(void *ctx, const char *path, http_response *out)
{
    node *nd = ctx;
    metrics_view v = {.member = nd->member, .cfg = &nd->cfg, .net = &nd->net,
                      .backup = &nd->backup, .clients = &nd->clients, .http = &nd->metrics_http,
                      .me = nd->secret.index, .steps = nd->steps, .step_ns = nd->step_ns,
                      .start_time_s = nd->start_time_s};
    node_metrics_respond(&nd->metrics, &v, node_now_ms(nd), path, out);
}

static int start_metrics(node *nd, char *err, size_t cap)
{
    if (!nd->opt.metrics_listen) return 0;
    if (http_server_start(&nd->metrics_http, &nd->loop, nd->opt.metrics_listen, on_metrics_request,
                          nd, err, cap) != 0)
        return -1;
    nd->metrics_open = 1;
    char esc[600];
    log_line(&nd->log, LOG_INFO, "metrics_started", "\"address\":\"%s\"",
             log_escape(esc, sizeof esc, nd->opt.metrics_listen));
    return 0;
}

/* ---- start and stop ---------------------------------------------------------------------------- */

static void on_signal(uv_signal_t *s, int signum)
{
    node *nd = s->data;
    log_line(&nd->log, LOG_INFO, "stopping", "\"signal\":\"%s\"",
             signum == SIGINT ? "SIGINT" : "SIGTERM");
    node_stop(nd, 0);
}

static void node_stop(node *nd, int code)
{
    if (nd->stopping) return;
    nd->stopping = 1;
    nd->exit_code = code;
    if (nd->member && nd->handles_ready) log_link_stats(nd);
    if (nd->member && nd->handles_ready) log_stats(nd, "final_stats");
    output_flush(&nd->output);
    precheck_close(&nd->precheck);
    net_close(&nd->net);
    client_port_close(&nd->clients);
    if (nd->metrics_open) http_server_close(&nd->metrics_http);
    if (nd->handles_ready) {
        uv_close((uv_handle_t *)&nd->step_timer, NULL);
        uv_close((uv_handle_t *)&nd->stats_timer, NULL);
        uv_close((uv_handle_t *)&nd->sigint, NULL);
        uv_close((uv_handle_t *)&nd->sigterm, NULL);
    }
    log_flush(&nd->log);
}

/* A secret key that others may read is a leak waiting to happen: say so, as ssh does (the
 * node still starts: refusing would turn a deployment slip into an outage). */
static void warn_key_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || (st.st_mode & 077) == 0) return;
    fprintf(stderr,
            "aleph node: WARNING: key file %s is accessible by others (mode %04o); it holds "
            "this member's secret keys: chmod 600 %s\n",
            path, (unsigned)(st.st_mode & 07777), path);
}

static int prepare(node *nd, char *err, size_t cap)
{
    const node_options *o = &nd->opt;
    if (committee_load(o->committee_path, &nd->committee, err, cap) != 0) return -1;
    if (member_key_load(o->key_path, &nd->committee, &nd->secret, err, cap) != 0) return -1;
    warn_key_mode(o->key_path);
    uint32_t me = nd->secret.index;
    if (o->data_dir) snprintf(nd->data_dir, sizeof nd->data_dir, "%s", o->data_dir);
    else snprintf(nd->data_dir, sizeof nd->data_dir, "aleph-member-%u", me);
    if (make_dirs(nd->data_dir, 0700, err, cap) != 0) return -1;
    aleph_config *cfg = &nd->cfg;
    aleph_config_defaults(cfg);
    cfg->members = nd->committee.size;
    cfg->session = nd->committee.session;
    cfg->coin_mode = nd->committee.coin_mode;
    cfg->sign_public_keys = (const uint8_t(*)[32])nd->committee.sign_pks;
    cfg->coin_verification_keys = (const uint8_t(*)[32])nd->committee.coin_vks;
    cfg->unit_bytes_max = nd->committee.unit_bytes_max;
    cfg->epoch_rounds = nd->committee.epoch_rounds;
    cfg->default_creators = nd->committee.default_creators;
    cfg->default_creators_len = nd->committee.default_creators_len;
    if (o->tx_bytes_max) cfg->tx_bytes_max = o->tx_bytes_max;
    if (cfg->tx_bytes_max + 4 > cfg->unit_bytes_max) cfg->tx_bytes_max = cfg->unit_bytes_max - 4;
    if (o->pool_bytes) cfg->pool_bytes_max = o->pool_bytes;
    if (o->round_delay_ms >= 0) cfg->round_delay_ms_min = (uint32_t)o->round_delay_ms;
    if (o->round_delay_ms_idle >= 0) cfg->round_delay_ms_idle = (uint32_t)o->round_delay_ms_idle;
    if (o->parent_wait_ms >= 0) cfg->parent_wait_ms_max = (uint32_t)o->parent_wait_ms;
    if (o->candidate_wait_ms >= 0) cfg->candidate_wait_ms_max = (uint32_t)o->candidate_wait_ms;
    if (o->head_parent_wait_ms >= 0) cfg->head_parent_wait_ms_max = o->head_parent_wait_ms;
    if (o->anti_entropy_ms > 0) cfg->anti_entropy_ms = (uint32_t)o->anti_entropy_ms;
    cfg->rounds_max = o->rounds_max;
    cfg->epochs_kept = o->epochs_kept;
    cfg->own_check = 1; /* on a first start too: a wiped data dir looks like one */
    cfg->recover = o->recover;
    randombytes_buf(&cfg->rng_seed, sizeof cfg->rng_seed); /* local choices only */
    precheck_init(&nd->precheck, &nd->loop, cfg, deliver_message, nd);
    if (o->precheck) precheck_hook(&nd->precheck, cfg);
    const char *merr = NULL;
    nd->member = aleph_member_new(cfg, &nd->secret, &merr);
    if (!nd->member) {
        snprintf(err, cap, "%s: %s", o->key_path, merr ? merr : "cannot create the member");
        return -1;
    }

    char path[4200];
    if (o->log_path) snprintf(path, sizeof path, "%s", o->log_path);
    else snprintf(path, sizeof path, "%s/node.log", nd->data_dir);
    if (log_open(&nd->log, path, me, o->log_level, err, cap) != 0) return -1;
    uint32_t kept = aleph_config_epochs_kept(cfg), archived = kept ? o->epochs_archived : 0;
    if (restart_restore_all(nd->member, cfg, nd->data_dir, kept, kept + archived, me,
                            &nd->restart, path, sizeof path, err, cap) != 0) return -1;
    nd->epoch = nd->restart.epoch;
    archive_init(&nd->archive, nd->data_dir, me, nd->committee.session, archived);
    backup_header bh = {.member = me, .session = nd->committee.session, .epoch = nd->epoch,
                        .epoch_session = nd->restart.epoch_session};
    if (backup_open(&nd->backup, nd->data_dir, path, &bh, err, cap) != 0) return -1;
    nd->backup.finished_kept = kept + archived;
    output_policy op = {.mode = o->output_chain ? OUTPUT_CHAIN : OUTPUT_FULL,
                        .rotate_epoch = o->output_rotate_epoch,
                        .rotate_bytes = o->output_rotate_bytes,
                        .keep_files = o->output_keep_files, .keep_bytes = o->output_keep_bytes};
    if (output_open(&nd->output, nd->data_dir, me, nd->committee.session, &op, err, cap) != 0)
        return -1;
    return 0;
}

static int start(node *nd, char *err, size_t cap)
{
    const node_options *o = &nd->opt;
    uint32_t me = nd->secret.index;
    uv_timer_init(&nd->loop, &nd->step_timer);
    nd->step_timer.data = nd;
    nd->step_due_ms = UINT64_MAX;
    uv_timer_init(&nd->loop, &nd->stats_timer);
    nd->stats_timer.data = nd;
    uv_signal_init(&nd->loop, &nd->sigint);
    nd->sigint.data = nd;
    uv_signal_init(&nd->loop, &nd->sigterm);
    nd->sigterm.data = nd;
    nd->handles_ready = 1;

    net_limits limits = {.handshake_timeout_ms = o->handshake_timeout_ms,
                         .handshake_max = o->handshake_max,
                         .handshake_per_source = o->handshake_per_source};
    if (net_start(&nd->net, &nd->loop, &nd->committee, &nd->secret, o->listen, &limits, &nd->log,
                  o->queue_bytes, on_peer_message, nd, err, cap) != 0)
        return -1;
    if (o->link_spec) {
        if (net_links_attach(&nd->net, o->link_spec, o->link_jitter_ms, o->link_loss,
                             o->link_bandwidth_mbit, err, cap) != 0)
            return -1;
        char *fields = malloc(64 + (size_t)nd->committee.size * 16 + 1200);
        if (fields) {
            link_stage_config_fields(nd->net.links, fields, 64 + (size_t)nd->committee.size * 16 + 1200);
            log_line(&nd->log, LOG_INFO, "link_config", "%s", fields);
            free(fields);
        }
    }
    uint32_t cport = o->client_port ? o->client_port : nd->committee.members[me].client_port;
    if (!cport) {
        snprintf(err, cap, "the committee file gives member %u no client_port: pass --client-port",
                 me);
        return -1;
    }
    client_limits cl = {.connections_max = o->client_connections_max,
                        .per_source = o->client_per_source,
                        .subscribers_max = o->client_subscribers_max,
                        .idle_timeout_ms = o->client_idle_timeout_ms,
                        .read_timeout_ms = o->client_read_timeout_ms};
    limits_fit_descriptors(&nd->log, &nd->net, &cl);
    nd->clients.output = &nd->output;
    if (client_port_start(&nd->clients, &nd->loop, o->client_host, (uint16_t)cport, &cl,
                          nd->cfg.tx_bytes_max, o->subscriber_buffer, on_submit, NULL, nd,
                          &nd->log, err, cap) != 0)
        return -1;
    if (start_metrics(nd, err, cap) != 0) return -1;
    backup_start(&nd->backup, &nd->loop, on_durable, on_backup_failed, nd);
    uv_signal_start(&nd->sigint, on_signal, SIGINT);
    uv_signal_start(&nd->sigterm, on_signal, SIGTERM);
    uv_timer_start(&nd->stats_timer, on_stats_timer, o->stats_interval_ms, o->stats_interval_ms);
    char dir_esc[8192], advertised[HOST_MAX + 16];
    log_escape(dir_esc, sizeof dir_esc, nd->data_dir);
    address_format(advertised, sizeof advertised, nd->committee.members[me].host,
                   nd->committee.members[me].port);
    log_line(&nd->log, LOG_INFO, "node_started",
             "\"members\":%u,\"session\":\"%016" PRIx64 "\",\"coin\":\"%s\",\"address\":\"%s\","
             "\"listen\":\"%s\","
             "\"client_port\":%u,\"data_dir\":\"%s\",\"round_delay_ms\":%u,\"max_unit_bytes\":%u,"
             "\"default_creators\":%u,\"pid\":%d",
             nd->committee.size, nd->committee.session, coin_mode_name(nd->committee.coin_mode),
             advertised, nd->net.listen_desc, cport, dir_esc, nd->cfg.round_delay_ms_min,
             nd->cfg.unit_bytes_max, nd->cfg.default_creators_len, (int)getpid());
    const restart_info *ri = &nd->restart;
    log_line(&nd->log, LOG_INFO, ri->restarted ? "restored" : "first_start",
             "\"epoch\":%u,\"units\":%" PRIu64 ",\"own_round\":%d,\"seconds\":%.3f,"
             "\"backup_bytes\":%" PRIu64 ",\"backup_cut_bytes\":%" PRIu64
             ",\"backup_cut_offset\":%" PRIu64 ",\"output_batches\":%" PRIu64
             ",\"output_cut_bytes\":%" PRIu64 ",\"output_next_seq\":%" PRIu64 ",\"recover\":%s",
             ri->epoch, ri->units, ri->own_round, ri->seconds, ri->read.bytes, ri->read.cut_bytes,
             ri->read.cut_offset, nd->output.resumed_batches, nd->output.resume_cut_bytes,
             nd->output.next_seq,
             o->recover ? "true" : "false");
    if (ri->read.cut)
        fprintf(stderr,
                "aleph node: the backup's last record was torn (power loss mid-write): cut %" PRIu64
                " bytes at byte %" PRIu64 "\n",
                ri->read.cut_bytes, ri->read.cut_offset);
    log_flush(&nd->log);
    aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = node_now_ms(nd)};
    node_step(nd, &ev);
    return 0;
}

int node_run(const node_options *o)
{
    node *nd = calloc(1, sizeof *nd);
    if (nd) held_init(&nd->held, HELD_BYTES_MAX_DEFAULT);
    if (!nd) {
        fprintf(stderr, "aleph node: out of memory\n");
        return 1;
    }
    nd->opt = *o;
    nd->started_mono_ns = clock_mono_ns();
    nd->start_time_s = (double)clock_real_ns() / 1e9;
    node_metrics_init(&nd->metrics);
    nd->backup.fd = -1;
    nd->output.fd = -1;
    nd->log.fd = -1;
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&nd->loop);
    char err[KEYS_ERR_MAX];
    int rc = 0;
    if (prepare(nd, err, sizeof err) != 0 || start(nd, err, sizeof err) != 0) {
        print_error_lines("aleph node", err);
        if (nd->log.buf && nd->log.fd != STDERR_FILENO) {
            char esc[KEYS_ERR_MAX + 64];
            log_line(&nd->log, LOG_ERROR, "start_failed", "\"error\":\"%s\"",
                     log_escape(esc, sizeof esc, err));
        }
        rc = 1;
        node_stop(nd, 1);
    }
    uv_run(&nd->loop, UV_RUN_DEFAULT);
    if (!rc) rc = nd->exit_code;
    if (!rc || nd->log.buf) log_line(&nd->log, LOG_INFO, "stopped", "\"exit_code\":%d", rc);
    if (uv_loop_close(&nd->loop) != 0)
        log_line(&nd->log, LOG_ERROR, "handles_left_open", NULL); /* a bug: every handle is closed */
    held_free(&nd->held);
    free(nd->unit_txs);
    net_free(&nd->net);
    output_close(&nd->output);
    backup_close(&nd->backup);
    log_close(&nd->log);
    aleph_member_free(nd->member);
    committee_free(&nd->committee);
    sodium_memzero(&nd->secret, sizeof nd->secret);
    free(nd);
    return rc;
}

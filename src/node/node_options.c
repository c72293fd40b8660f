/* The node's options: defaults and the one table that the command line, the configuration
 * file and --print-config all read (base/options.h). */
#include <stddef.h>
#include <string.h>

#include "aleph/aleph.h"
#include "base/log.h"
#include "archive.h"
#include "client.h"
#include "net/peer.h"
#include "node.h"

void node_options_defaults(node_options *o)
{
    memset(o, 0, sizeof *o);
    aleph_config c;
    aleph_config_defaults(&c);
    o->log_level = LOG_INFO;
    o->client_host = "127.0.0.1";
    o->round_delay_ms = (int)c.round_delay_ms_min;
    o->round_delay_ms_idle = (int)c.round_delay_ms_idle;
    o->parent_wait_ms = (int)c.parent_wait_ms_max;
    o->candidate_wait_ms = (int)c.candidate_wait_ms_max;
    o->head_parent_wait_ms = (int)c.head_parent_wait_ms_max;
    o->anti_entropy_ms = (int)c.anti_entropy_ms;
    o->tx_bytes_max = c.tx_bytes_max;
    o->pool_bytes = c.pool_bytes_max;
    o->epochs_kept = c.epochs_kept;
    o->epochs_archived = ARCHIVE_EPOCHS_DEFAULT;
    o->queue_bytes = 32u << 20;
    o->subscriber_buffer = 64u << 20;
    o->stats_interval_ms = 1000;
    o->log_units = 1;
    o->precheck = 1;
    o->handshake_timeout_ms = NET_HANDSHAKE_TIMEOUT_MS_DEFAULT;
    o->handshake_max = NET_HANDSHAKE_MAX_DEFAULT;
    o->handshake_per_source = NET_HANDSHAKE_PER_SOURCE_DEFAULT;
    o->client_connections_max = CLIENT_CONNECTIONS_MAX_DEFAULT;
    o->client_per_source = CLIENT_PER_SOURCE_DEFAULT;
    o->client_subscribers_max = CLIENT_SUBSCRIBERS_MAX_DEFAULT;
    o->client_idle_timeout_ms = CLIENT_IDLE_TIMEOUT_MS_DEFAULT;
    o->client_read_timeout_ms = CLIENT_READ_TIMEOUT_MS_DEFAULT;
    o->output_rotate_bytes = (size_t)1 << 30;
}

static const char *const log_level_names[] = {"debug", "info", "warn", "error", NULL};
static const int log_level_values[] = {LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR};
static const char *const on_off_names[] = {"on", "off", NULL};
static const int on_off_values[] = {1, 0};
static const char *const output_mode_names[] = {"full", "chain", NULL};
static const int output_mode_values[] = {0, 1};

#define F(field) offsetof(node_options, field)
#define STR(name, field) {name, OPT_STRING, F(field), 0, 0, NULL, NULL}
#define NUM(name, kind, field, lo, hi) {name, kind, F(field), lo, hi, NULL, NULL}

const opt_spec node_option_table[] = {
    STR("committee", committee_path),
    STR("key", key_path),
    STR("data-dir", data_dir),
    {"recover", OPT_FLAG, F(recover), 0, 0, NULL, NULL},
    STR("listen", listen),
    STR("client-host", client_host),
    NUM("client-port", OPT_U32, client_port, 0, 65535), /* 0: the committee file's */
    STR("log", log_path),
    {"log-level", OPT_CHOICE, F(log_level), 0, 0, log_level_names, log_level_values},
    {"log-units", OPT_CHOICE, F(log_units), 0, 0, on_off_names, on_off_values},
    {"precheck", OPT_CHOICE, F(precheck), 0, 0, on_off_names, on_off_values},
    NUM("round-delay-ms", OPT_INT, round_delay_ms, 0, 600000),
    NUM("idle-round-delay-ms", OPT_INT, round_delay_ms_idle, 0, 600000),
    NUM("parent-wait-ms", OPT_INT, parent_wait_ms, 0, 600000),
    NUM("candidate-wait-ms", OPT_INT, candidate_wait_ms, 0, 600000),
    NUM("head-parent-wait-ms", OPT_INT, head_parent_wait_ms, 0, 600000),
    NUM("anti-entropy-ms", OPT_INT, anti_entropy_ms, 1, 600000),
    NUM("max-tx-bytes", OPT_U32, tx_bytes_max, 1, 4u << 20),
    NUM("pool-bytes", OPT_U32, pool_bytes, 1024, 2147483648.0),
    NUM("queue-bytes", OPT_SIZE, queue_bytes, 1u << 20, 17179869184.0),
    NUM("rounds-max", OPT_U32, rounds_max, 0, ALEPH_ROUND_MAX),
    NUM("epochs-kept", OPT_U32, epochs_kept, 1, ALEPH_EPOCHS_KEPT_MAX),
    NUM("epochs-archived", OPT_U32, epochs_archived, 0, ARCHIVE_EPOCHS_MAX),
    STR("link-delays", link_spec),
    NUM("link-jitter-ms", OPT_DOUBLE, link_jitter_ms, 0, 60000),
    NUM("link-loss", OPT_DOUBLE, link_loss, 0, 1),
    NUM("link-bandwidth-mbit", OPT_DOUBLE, link_bandwidth_mbit, 0, 1e6),
    {"output-mode", OPT_CHOICE, F(output_chain), 0, 0, output_mode_names, output_mode_values},
    NUM("output-rotate-bytes", OPT_SIZE, output_rotate_bytes, 0, 1e15),
    {"output-rotate-epoch", OPT_FLAG, F(output_rotate_epoch), 0, 0, NULL, NULL},
    NUM("output-keep-files", OPT_U32, output_keep_files, 0, 1e9),
    NUM("output-keep-bytes", OPT_SIZE, output_keep_bytes, 0, 1e15),
    STR("metrics", metrics_listen),
    NUM("handshake-timeout-ms", OPT_U32, handshake_timeout_ms, 100, 600000),
    NUM("handshake-max", OPT_U32, handshake_max, 1, 65536),
    NUM("handshake-per-source", OPT_U32, handshake_per_source, 1, 65536),
    NUM("client-connections-max", OPT_U32, client_connections_max, 1, 1u << 20),
    NUM("client-per-source", OPT_U32, client_per_source, 1, 1u << 20),
    NUM("client-subscribers-max", OPT_U32, client_subscribers_max, 0, 1u << 20),
    NUM("client-idle-timeout-ms", OPT_U32, client_idle_timeout_ms, 0, 86400000),
    NUM("client-read-timeout-ms", OPT_U32, client_read_timeout_ms, 0, 86400000),
    OPT_END,
};

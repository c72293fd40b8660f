/* `aleph node`: one member of a committee as a process. A libuv loop drives the protocol
 * core: every message from a peer and every deadline the member asked for becomes one
 * aleph_member_step(), and each update is carried out in the order the core requires:
 * persist own units (fdatasync) before sending them, send, deliver batches to the output
 * file and subscribers, log notices, re-arm the wake-up timer. */
#ifndef ALEPH_NODE_NODE_H
#define ALEPH_NODE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/options.h"

typedef struct node_options {
    const char *committee_path;
    const char *key_path;
    const char *data_dir;          /* NULL: ./aleph-member-<i> */
    const char *log_path;          /* NULL: DATA_DIR/node.log; "-": stderr */
    int log_level;
    const char *listen;            /* bind address when not the advertised one (net_start) */
    const char *client_host;
    uint32_t client_port;          /* 0: the committee's client_port for this member */
    int round_delay_ms;            /* -1: core default */
    int round_delay_ms_idle;
    int parent_wait_ms;
    int candidate_wait_ms;
    int head_parent_wait_ms;
    int anti_entropy_ms;
    uint32_t tx_bytes_max;         /* 0: core default */
    uint32_t pool_bytes;
    uint32_t rounds_max;
    uint32_t epochs_kept;          /* finished epochs kept to answer members behind; 0: core's */
    uint32_t epochs_archived;      /* finished epochs' backup files kept beyond those (archive.h) */
    size_t queue_bytes;            /* per-peer send queue bound */
    size_t subscriber_buffer;      /* per-subscriber stream bound */
    uint32_t stats_interval_ms;
    int log_units;                 /* 1: unit_received and unit_ordered lines for every unit */
    int precheck;                  /* 1: range answers' checks on the thread pool (precheck.h) */
    int recover;                   /* consent to continue above own units peers hold */
    const char *link_spec;         /* emulated WAN links (link_delay.h): matrix file or ms */
    double link_jitter_ms, link_loss, link_bandwidth_mbit;
    int output_chain;              /* --output-mode chain: batch headers and chain values only */
    size_t output_rotate_bytes;    /* a new output file beyond this size (0: never) */
    int output_rotate_epoch;       /* and a new one at every epoch's first batch */
    uint32_t output_keep_files;    /* rotated output files kept (0: all) */
    size_t output_keep_bytes;      /* bytes of rotated output files kept (0: all) */
    const char *metrics_listen;    /* HOST:PORT of the Prometheus endpoint (metrics.h); NULL: off */
    uint32_t handshake_timeout_ms; /* member port limits (net/peer.h: net_limits) */
    uint32_t handshake_max;
    uint32_t handshake_per_source;
    uint32_t client_connections_max; /* client port limits (client.h: client_limits) */
    uint32_t client_per_source;
    uint32_t client_subscribers_max;
    uint32_t client_idle_timeout_ms;
    uint32_t client_read_timeout_ms;
} node_options;

/* Every option at its default (the core's defaults where the core has one). */
void node_options_defaults(node_options *o);
/* The options as a table (node_options.c): flags, the --config file, --print-config. */
extern const opt_spec node_option_table[];
/* Runs until SIGINT/SIGTERM; returns the process exit status. */
int node_run(const node_options *o);

#endif

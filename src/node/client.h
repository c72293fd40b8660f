/* The client port of a node (TCP, localhost by default).
 *
 * Protocol (integers little-endian):
 *   submit:    u32 length + that many bytes of transaction. The node answers every submit,
 *              in order, with one status byte: 0 accepted, 1 pool full (back-pressure: try
 *              again later), 2 too large or empty (as aleph_submit_status).
 *              3: the member is halted (or stopping) and creates no more units: submit to
 *              another member. Status 0 means "in this member's pool": a crash loses it.
 *   ack durable: the u32 value 0xFFFFFFFE (no body). From then on this connection's
 *              accepted transactions are answered with status 4 instead of 0, and only
 *              once the transaction is in an own unit that is durable in the backup (it
 *              will be restored after a crash and, the member being honest, ordered);
 *              refusals (1, 2, 3) are answered in their place in the same order. A
 *              transaction that was pooled when the member halted is answered with 3.
 *   subscribe: the u32 value 0xFFFFFFFF (no body). From then on the node streams every
 *              ordered transaction to this client as u32 length + bytes, in the final order,
 *              starting with the next batch ordered.
 *   resume:    the u32 value 0xFFFFFFFD + u64 FROM: streams every batch from the global
 *              batch sequence number FROM on (output.h: 0, 1, 2, ... across epochs and
 *              output files), the old ones read from the output files the member keeps,
 *              then the new ones as they are ordered. Answered first by u8 status + u64:
 *              0 + FROM (accepted, the stream follows); 6 + the oldest batch kept (FROM is
 *              older than the retention keeps: resume from that one or later); 7 + 0 (this
 *              member's output holds no transactions: --output-mode chain); 5 + 0 (over
 *              the subscribers limit, below); the connection
 *              is then closed after a refusal. The stream: per batch, in order and with no
 *              gap, u32 0xFFFFFFFD | u64 seq | u32 epoch | u32 transaction count | u32 bytes
 *              | that many bytes of transactions, each u32 length + bytes (a batch without
 *              transactions has a frame too). A resumed client that reconnects asks for the
 *              seq after the last frame it processed and gets every batch exactly once.
 * A declared length above 16 MiB (other than 0xFFFFFFFF) is answered with status 2 and the
 * connection is closed; smaller oversized transactions are skipped and answered with 2.
 * Status 5 (refused): the node will not serve this connection (the limits below); it is the
 * connection's first and last byte, sent unasked, and the node then closes it.
 *
 * Bounds (client_limits): at most connections_max connections, per_source of them from one
 * source address (net/source.h); over either, the connection idle longest (for at least
 * CLIENT_EVICT_IDLE_MS_MIN) among the same source, or among all, is closed to make room, and
 * when none is that idle the new one is refused with status 5. Idle: no frame half read, no
 * answer owed or unsent, not a subscriber. An idle connection is closed after
 * idle_timeout_ms; a frame begun must be read whole within read_timeout_ms (slow senders);
 * at most subscribers_max subscribers (one more is answered 5 and closed). A client that
 * does not read its acknowledgements is paused (its input is not read) until it does; a
 * subscriber more than subscriber_buffer_max bytes behind is disconnected. All of it is
 * counted. */
#ifndef ALEPH_NODE_CLIENT_H
#define ALEPH_NODE_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aleph/aleph.h"
#include "base/log.h"
#include "output.h"

#define CLIENT_SUBSCRIBE 0xFFFFFFFFu
#define CLIENT_ACK_DURABLE 0xFFFFFFFEu
#define CLIENT_RESUME 0xFFFFFFFDu
#define CLIENT_FRAME_BATCH 0xFFFFFFFDu      /* a batch frame's first word on a resume stream */
#define CLIENT_FRAME_BATCH_BYTES 24u
#define CLIENT_STATUS_RESUME_TOO_OLD 6u
#define CLIENT_STATUS_RESUME_NO_PAYLOADS 7u
#define CLIENT_STATUS_DURABLE 4u
#define CLIENT_FRAME_HARD_MAX (16u << 20)
#define CLIENT_STATUS_REFUSED 5u
#define CLIENT_EVICT_IDLE_MS_MIN 1000u

typedef struct client_limits {
    uint32_t connections_max;
    uint32_t per_source;
    uint32_t subscribers_max;
    uint32_t idle_timeout_ms;          /* 0: none */
    uint32_t read_timeout_ms;          /* 0: none */
} client_limits;

#define CLIENT_CONNECTIONS_MAX_DEFAULT 1024u
#define CLIENT_PER_SOURCE_DEFAULT 512u
#define CLIENT_SUBSCRIBERS_MAX_DEFAULT 32u
#define CLIENT_IDLE_TIMEOUT_MS_DEFAULT 60000u
#define CLIENT_READ_TIMEOUT_MS_DEFAULT 10000u

void client_limits_defaults(client_limits *l);

typedef struct client_counters {
    uint64_t accepted, refused;        /* connections; refused: the sum of the next three */
    uint64_t refused_source;           /* per_source from its address, none idle to close */
    uint64_t refused_full;             /* connections_max at once, none idle to close */
    uint64_t refused_subscribers;      /* a subscribe over subscribers_max (answered 5) */
    uint64_t evicted_idle;             /* idle connections closed to make room */
    uint64_t idle_timeouts, read_timeouts;
    uint64_t txs_ok, txs_pool_full, txs_too_large, txs_halted;
    uint64_t bytes_in;
    uint64_t frames_oversize;          /* over the hard limit: disconnected */
    uint64_t paused;                   /* reads paused because acks were not read */
    uint64_t subscribers_dropped;      /* too slow */
    uint64_t stream_bytes;
    uint64_t resumes, resumes_refused, resumes_failed;
} client_counters;

typedef aleph_submit_status (*client_submit_fn)(void *ctx, const uint8_t *tx, size_t len);
typedef void (*client_submitted_fn)(void *ctx);

struct client;

typedef struct client_port {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int listener_open;
    struct client *clients;
    uint32_t count, subscribers;
    uint32_t refusing;                 /* connections being told 5 before their close */
    client_limits limits;
    uv_timer_t housekeeping;
    uint32_t tx_bytes_max;
    size_t subscriber_buffer_max;
    client_submit_fn submit;
    client_submitted_fn submitted;     /* after a read that accepted at least one tx; may be NULL */
    void *ctx;
    node_log *log;
    client_counters counters;
    int closing;
    uint64_t durable_txs; /* accepted transactions 1..durable_txs are in durable own units */
    const output_file *output; /* the member's output: resumed subscribers read its files */
    uint8_t read_buf[256 * 1024];
} client_port;

int client_port_start(client_port *cp, uv_loop_t *loop, const char *host, uint16_t port,
                      const client_limits *limits, uint32_t tx_bytes_max,
                      size_t subscriber_buffer_max, client_submit_fn submit,
                      client_submitted_fn submitted, void *ctx, node_log *log, char *err,
                      size_t cap);
/* Streams the batch (global sequence number seq, already in the output files) to every
 * subscriber. */
void client_port_publish(client_port *cp, const aleph_batch *b, uint64_t seq, uint32_t epoch);
/* Transactions 1..durable_txs (numbered in acceptance order) are in durable own units:
 * answers them on --ack durable connections. */
void client_port_durable(client_port *cp, uint64_t durable_txs);
/* The member halted: transactions still pooled (numbered above txs_in_units) of durable
 * connections are answered with 3. */
void client_port_halted(client_port *cp, uint64_t txs_in_units);
void client_port_close(client_port *cp);

#endif

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
 * A declared length above 16 MiB (other than 0xFFFFFFFF) is answered with status 2 and the
 * connection is closed; smaller oversized transactions are skipped and answered with 2.
 *
 * Bounds: at most CLIENTS_MAX connections; a client that does not read its acknowledgements
 * is paused (its input is not read) until it does; a subscriber more than
 * subscriber_buffer_max bytes behind is disconnected. All of it is counted. */
#ifndef ALEPH_NODE_CLIENT_H
#define ALEPH_NODE_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aleph/aleph.h"
#include "base/log.h"

#define CLIENT_SUBSCRIBE 0xFFFFFFFFu
#define CLIENT_ACK_DURABLE 0xFFFFFFFEu
#define CLIENT_STATUS_DURABLE 4u
#define CLIENT_FRAME_HARD_MAX (16u << 20)
#define CLIENTS_MAX 1024u

typedef struct client_counters {
    uint64_t accepted, refused;        /* connections */
    uint64_t txs_ok, txs_pool_full, txs_too_large, txs_halted;
    uint64_t bytes_in;
    uint64_t frames_oversize;          /* over the hard limit: disconnected */
    uint64_t paused;                   /* reads paused because acks were not read */
    uint64_t subscribers_dropped;      /* too slow */
    uint64_t stream_bytes;
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
    uint32_t tx_bytes_max;
    size_t subscriber_buffer_max;
    client_submit_fn submit;
    client_submitted_fn submitted;     /* after a read that accepted at least one tx; may be NULL */
    void *ctx;
    node_log *log;
    client_counters counters;
    int closing;
    uint64_t durable_txs; /* accepted transactions 1..durable_txs are in durable own units */
    uint8_t read_buf[256 * 1024];
} client_port;

int client_port_start(client_port *cp, uv_loop_t *loop, const char *host, uint16_t port,
                      uint32_t tx_bytes_max, size_t subscriber_buffer_max,
                      client_submit_fn submit, client_submitted_fn submitted, void *ctx,
                      node_log *log, char *err, size_t cap);
/* Streams the batch's transactions to every subscriber. */
void client_port_publish(client_port *cp, const aleph_batch *b);
/* Transactions 1..durable_txs (numbered in acceptance order) are in durable own units:
 * answers them on --ack durable connections. */
void client_port_durable(client_port *cp, uint64_t durable_txs);
/* The member halted: transactions still pooled (numbered above txs_in_units) of durable
 * connections are answered with 3. */
void client_port_halted(client_port *cp, uint64_t txs_in_units);
void client_port_close(client_port *cp);

#endif

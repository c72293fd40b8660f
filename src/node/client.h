/* The client port of a node (TCP, localhost by default).
 *
 * Protocol (integers little-endian):
 *   submit:    u32 length + that many bytes of transaction. The node answers every submit,
 *              in order, with one status byte: 0 accepted, 1 pool full (back-pressure: try
 *              again later), 2 too large or empty (as aleph_submit_status).
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
#define CLIENT_FRAME_HARD_MAX (16u << 20)
#define CLIENTS_MAX 1024u

typedef struct client_counters {
    uint64_t accepted, refused;        /* connections */
    uint64_t txs_ok, txs_pool_full, txs_too_large;
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
    uint8_t read_buf[256 * 1024];
} client_port;

int client_port_start(client_port *cp, uv_loop_t *loop, const char *host, uint16_t port,
                      uint32_t tx_bytes_max, size_t subscriber_buffer_max,
                      client_submit_fn submit, client_submitted_fn submitted, void *ctx,
                      node_log *log, char *err, size_t cap);
/* Streams the batch's transactions to every subscriber. */
void client_port_publish(client_port *cp, const aleph_batch *b);
void client_port_close(client_port *cp);

#endif

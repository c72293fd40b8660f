/* Connections between members (libuv): one listener, one persistent authenticated TCP
 * connection per peer, reconnection with exponential back-off, framed messages with a hard
 * size limit, and a bounded send queue per peer.
 *
 * Who dials: the member with the lower index dials the higher one; the higher one only
 * accepts. A newer authenticated connection from a peer replaces an older one (the old one
 * may be half-open after a network fault), so at most one connection per pair is in use.
 *
 * Each peer has a bounded send queue (send_queue.h); it also holds messages while its peer
 * is away, so a short disconnection loses nothing. */
#ifndef ALEPH_NODE_PEER_H
#define ALEPH_NODE_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aleph/aleph.h"
#include "framing.h"
#include "handshake.h"
#include "send_queue.h"
#include "source.h"
#include "base/keys.h"
#include "base/log.h"

typedef struct peer_stats {
    uint64_t bytes_in, bytes_out;
    uint64_t msgs_in, msgs_out;
    uint64_t connects, disconnects;
} peer_stats;

struct conn;

typedef struct peer {
    struct net *net;
    uint32_t index;
    struct conn *conn;            /* the authenticated connection in use, or NULL */
    struct conn *dialing;         /* our own attempt in progress (we dial this peer) */
    int we_dial;
    send_queue queue;
    uv_timer_t retry_timer;
    uint32_t backoff_ms;
    int retry_armed;
    struct sockaddr_storage addr;
    int down_logged;
    peer_stats stats;
} peer;

/* The limits on connections in handshake (accepted, not yet authenticated). Who holds a
 * handshake slot is decided on accept, by source address (source.h):
 * - a source that is the address of a member that dials us (a lower index) is a member
 *   source: it is not counted in handshake_max, and its budget is handshake_per_source plus
 *   two per member dialing from it; over its budget the oldest of its handshakes is evicted
 *   (so a member whose old connection hangs half-open always gets a new one in);
 * - any other source may hold handshake_per_source handshakes, and all of them together
 *   handshake_max; a connection over either is closed at once.
 * Every handshake, dialed or accepted, must finish within handshake_timeout_ms. */
typedef struct net_limits {
    uint32_t handshake_timeout_ms;
    uint32_t handshake_max;
    uint32_t handshake_per_source;
} net_limits;

#define NET_HANDSHAKE_TIMEOUT_MS_DEFAULT 2000u
#define NET_HANDSHAKE_MAX_DEFAULT 64u
#define NET_HANDSHAKE_PER_SOURCE_DEFAULT 8u

typedef struct net_counters {
    uint64_t conns_accepted;
    uint64_t conns_refused;       /* refused_source + refused_full */
    uint64_t refused_source;      /* over the budget of its source address */
    uint64_t refused_full;        /* handshake_max connections from other sources at once */
    uint64_t evicted;             /* a member source's oldest handshake, for a newer one */
    uint64_t handshake_failed;    /* bad hello or auth: wrong key, index, session, garbage */
    uint64_t handshake_timeouts;
    uint64_t frames_oversize;     /* a frame over the limit: connection dropped */
    uint64_t conns_replaced;
} net_counters;

/* A source address members dial us from, with how many of them do. */
typedef struct member_source {
    net_source addr;
    uint32_t dialers;
} member_source;

typedef void (*net_message_fn)(void *ctx, uint32_t from, const uint8_t *data, size_t len);

struct link_stage;

typedef struct net {
    uv_loop_t *loop;
    const committee *committee;
    const aleph_secret *secret;
    uint32_t self, members;
    uv_tcp_t listener;
    int listener_open;
    uv_timer_t housekeeping;
    peer *peers;
    struct conn *conns;           /* every live connection, authenticated or not */
    uint32_t unauthenticated;     /* accepted connections in handshake */
    net_limits limits;
    member_source *member_sources;
    uint32_t member_sources_len;
    size_t queue_bytes_max;
    node_log *log;
    net_message_fn on_message;
    void *ctx;
    net_counters counters;
    struct link_stage *links;     /* emulated WAN links (link_delay.h) or NULL; owned: freed
                                   * by net_free */
    int closing;
    uint8_t read_buf[256 * 1024]; /* shared: libuv reads into it and hands it straight back */
    char listen_desc[HOST_MAX + 16];
} net;

void net_limits_defaults(net_limits *l);

/* Resolves the peers' addresses (getaddrinfo), listens on our own, and starts dialing.
 * listen: where to bind when it differs from the address the committee file advertises
 * (NAT, containers, 0.0.0.0): "HOST", "HOST:PORT" or "[IPv6]:PORT"; NULL: the advertised
 * address. */
int net_start(net *n, uv_loop_t *loop, const committee *c, const aleph_secret *secret,
              const char *listen, const net_limits *limits, node_log *log, size_t queue_bytes_max,
              net_message_fn on_message, void *ctx, char *err, size_t cap);
/* Queues a frame for a peer (takes its own reference), through the emulated links if any. */
void net_send(net *n, uint32_t to, out_frame *f);
/* Puts emulated links (link_delay.h) in front of a started net's send queues (n->links;
 * net_free frees the stage): spec as link_params_parse reads it. Returns 0, or -1 with a
 * message. */
int net_links_attach(net *n, const char *spec, double jitter_ms, double loss, double bandwidth_mbit,
                     char *err, size_t cap);
/* Closes every handle (also after a failed net_start); the loop then runs to completion. */
void net_close(net *n);
/* Frees the queues once the loop has finished. */
void net_free(net *n);
/* Peers with an authenticated connection now. */
uint32_t net_connected(const net *n);

/* Host name resolution used by the node and the tools; 0 or -1 with a message. */
int resolve_address(const char *host, uint16_t port, struct sockaddr_storage *out, char *err,
                    size_t cap);

#endif

/* The metrics port: a strictly bounded HTTP/1.x GET responder on the node's libuv loop.
 *
 * One request per connection (the answer carries "Connection: close"), at most
 * HTTP_CONNECTIONS_MAX connections at once (more are closed on accept and counted), a head of
 * at most HTTP_REQUEST_BYTES_MAX bytes parsed by http_get.c, HTTP_REQUEST_TIMEOUT_MS to send
 * it. The handler runs on the loop thread, so it reads the node's state without locks. Why
 * not libmicrohttpd: docs/METRICS.md. */
#ifndef ALEPH_NET_HTTP_SERVER_H
#define ALEPH_NET_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http_get.h"

#define HTTP_CONNECTIONS_MAX 16u
#define HTTP_REQUEST_TIMEOUT_MS 5000u

typedef struct http_response {
    int status;
    const char *content_type; /* static */
    char *body;               /* malloc'd by the handler; the server frees it */
    size_t body_len;
} http_response;

/* Fills *out for a GET of path (the query string removed). */
typedef void (*http_handler_fn)(void *ctx, const char *path, http_response *out);

typedef struct http_counters {
    uint64_t requests;      /* answered (any status) */
    uint64_t bad_requests;  /* refused by the parser (4xx, 505) */
    uint64_t refused;       /* connections over HTTP_CONNECTIONS_MAX */
    uint64_t timeouts;      /* no complete request in time */
} http_counters;

struct http_conn;

typedef struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int listener_open;
    struct http_conn *conns; /* live connections, a doubly linked list */
    uint32_t conns_len;
    http_handler_fn handler;
    void *ctx;
    http_counters counters;
    int closing;
    char listen_desc[300];
} http_server;

/* Splits "HOST:PORT" or "[IPv6]:PORT" (port 1..65535); 0, or -1 with a message. */
int http_listen_parse(const char *spec, char *host, size_t host_cap, uint16_t *port, char *err,
                      size_t cap);
/* Listens on spec (HOST:PORT; names resolve). 0, or -1 with a message. */
int http_server_start(http_server *s, uv_loop_t *loop, const char *spec, http_handler_fn handler,
                      void *ctx, char *err, size_t cap);
/* Closes the listener and every connection; the loop then runs to completion. */
void http_server_close(http_server *s);

#endif

#include "http_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

typedef struct http_conn {
    http_server *server;
    struct http_conn *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t write_req;
    int handles_open; /* closes pending before the struct may go */
    int closing, answered;
    size_t len;
    uint8_t buf[HTTP_REQUEST_BYTES_MAX];
    char head[256];
    char *body;
} http_conn;

int http_listen_parse(const char *spec, char *host, size_t host_cap, uint16_t *port, char *err,
                      size_t cap)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec) {
        snprintf(err, cap, "%s: want HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)", spec);
        return -1;
    }
    const char *h = spec;
    size_t hlen = (size_t)(colon - spec);
    if (h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']') {
            snprintf(err, cap, "%s: an IPv6 address goes in brackets, [ADDR]:PORT", spec);
            return -1;
        }
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        snprintf(err, cap, "%s: an IPv6 address goes in brackets, [ADDR]:PORT", spec);
        return -1;
    }
    char *end = NULL;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || p < 1 || p > 65535) {
        snprintf(err, cap, "%s: the port must be a number from 1 to 65535", spec);
        return -1;
    }
    if (hlen + 1 > host_cap) {
        snprintf(err, cap, "%s: host name too long", spec);
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static void conn_free_if_closed(http_conn *c)
{
    if (c->handles_open) return;
    free(c->body);
    free(c);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    http_conn *c = h->data;
    c->handles_open--;
    conn_free_if_closed(c);
}

static void conn_close(http_conn *c)
{
    if (c->closing) return;
    c->closing = 1;
    http_server *s = c->server;
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->conns_len--;
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

static void on_written(uv_write_t *w, int status)
{
    http_conn *c = w->data;
    (void)status;
    conn_close(c);
}

static void answer(http_conn *c, const http_response *r)
{
    c->answered = 1;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_timer_stop(&c->timer);
    c->server->counters.requests++;
    c->body = r->body;
    int n = snprintf(c->head, sizeof c->head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     r->status, http_status_text(r->status),
                     r->content_type ? r->content_type : "text/plain; charset=utf-8", r->body_len);
    uv_buf_t bufs[2] = {uv_buf_init(c->head, (unsigned)n), uv_buf_init(c->head, 0)};
    if (r->body && r->body_len) bufs[1] = uv_buf_init(r->body, (unsigned)r->body_len);
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, bufs, bufs[1].len ? 2 : 1, on_written) != 0)
        conn_close(c);
}

static void answer_text(http_conn *c, int status, const char *text)
{
    http_response r = {.status = status, .body = strdup(text)};
    r.body_len = r.body ? strlen(r.body) : 0;
    answer(c, &r);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    http_conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(sizeof c->buf - c->len));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    http_conn *c = st->data;
    (void)buf;
    if (c->closing || c->answered) return;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)nread;
    http_get_request req;
    http_parse_result r = http_get_parse(c->buf, c->len, &req);
    if (r == HTTP_PARSE_MORE) return;
    if (r == HTTP_PARSE_BAD) {
        c->server->counters.bad_requests++;
        char text[160];
        snprintf(text, sizeof text, "%s\n", req.error ? req.error : "bad request");
        answer_text(c, req.status, text);
        return;
    }
    http_response resp = {.status = 500};
    c->server->handler(c->server->ctx, req.path, &resp);
    if (!resp.body && resp.status == 500) {
        answer_text(c, 500, "out of memory\n");
        return;
    }
    answer(c, &resp);
}

static void on_timeout(uv_timer_t *t)
{
    http_conn *c = t->data;
    c->server->counters.timeouts++;
    if (!c->answered) answer_text(c, 408, "no complete request in time\n");
}

static void on_connection(uv_stream_t *listener, int status)
{
    http_server *s = listener->data;
    if (status < 0 || s->closing) return;
    http_conn *c = calloc(1, sizeof *c);
    if (!c) return; /* the connection waits in the backlog; the next one may be luckier */
    c->server = s;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->conns_len++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    if (s->conns_len > HTTP_CONNECTIONS_MAX) {
        s->counters.refused++;
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timeout, HTTP_REQUEST_TIMEOUT_MS, 0);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) conn_close(c);
}

int http_server_start(http_server *s, uv_loop_t *loop, const char *spec, http_handler_fn handler,
                      void *ctx, char *err, size_t cap)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->handler = handler;
    s->ctx = ctx;
    char host[256], why[300];
    uint16_t port;
    if (http_listen_parse(spec, host, sizeof host, &port, err, cap) != 0) return -1;
    struct sockaddr_storage addr;
    if (resolve_address(host, port, &addr, why, sizeof why) != 0) {
        snprintf(err, cap, "--metrics %s", why);
        return -1;
    }
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listener_open = 1;
    int rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&s->listener, 64, on_connection);
    if (rc != 0) {
        snprintf(err, cap, "--metrics %s: cannot listen: %s", spec, uv_strerror(rc));
        return -1;
    }
    snprintf(s->listen_desc, sizeof s->listen_desc, "%s", spec);
    return 0;
}

void http_server_close(http_server *s)
{
    if (s->closing) return;
    s->closing = 1;
    if (s->listener_open) uv_close((uv_handle_t *)&s->listener, NULL);
    s->listener_open = 0;
    while (s->conns) conn_close(s->conns);
}

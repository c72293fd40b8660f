#include "peer.h"

#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_delay.h"
#include "base/addresses.h"
#include "base/util.h"

#define HOUSEKEEPING_MS 250u
#define BACKOFF_MS_MIN 50u
#define BACKOFF_MS_MAX 2000u
#define WRITE_BATCH_FRAMES 64u
#define WRITE_BATCH_BYTES (4u << 20)
/* A peer none of whose writes completed for this long has stopped reading (paused, or its
 * machine is stuck): unit broadcasts for it are dropped as for a peer not connected. */
#define STALLED_MS 2000u

enum conn_state { CONN_CONNECTING, CONN_HELLO, CONN_AUTH, CONN_OPEN, CONN_CLOSING };

typedef struct conn {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    net *net;
    struct conn *prev, *next;
    uint32_t peer;                  /* dialed index, or the authenticated one; else UINT32_MAX */
    int dialer;
    enum conn_state state;
    uint8_t nonce[HS_NONCE_BYTES], peer_nonce[HS_NONCE_BYTES];
    frame_reader reader;
    uint64_t deadline_ms;
    int counted_unauthenticated;
    net_source source;              /* accepted: its source's budget key (source.h) */
    int member_source;              /* accepted from a member source (net_limits) */
    uv_write_t wreq;
    int writing;
    uint64_t writing_since_ms;      /* when the write in flight began */
    int stalled;                    /* broadcasts dropped since (until a write completes) */
    uint32_t inflight_len;
    out_frame *inflight[WRITE_BATCH_FRAMES];
    uv_buf_t bufs[WRITE_BATCH_FRAMES];
} conn;

typedef struct control_write {
    uv_write_t req;
    uint8_t data[FRAME_HEADER_BYTES + HS_FRAME_MAX];
} control_write;

/* ---- connections ------------------------------------------------------------------------------- */

static void conn_close(conn *c, int level, const char *why);
static void conn_pump(conn *c);
static void dial(net *n, peer *p);
static void on_retry(uv_timer_t *t);

static void on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    frame_reader_free(&c->reader);
    free(c);
}

static void schedule_retry(net *n, peer *p)
{
    if (n->closing || !p->we_dial || p->retry_armed || p->dialing || p->conn) return;
    uint32_t base = p->backoff_ms ? p->backoff_ms : BACKOFF_MS_MIN;
    /* Jitter +-25% so that restarted committees do not dial in lock step. */
    uint32_t jitter = randombytes_uniform(base / 2 + 1);
    uint32_t delay = base - base / 4 + jitter;
    p->backoff_ms = base * 2 > BACKOFF_MS_MAX ? BACKOFF_MS_MAX : base * 2;
    p->retry_armed = 1;
    uv_timer_start(&p->retry_timer, on_retry, delay, 0);
}

static void conn_unlink(conn *c)
{
    net *n = c->net;
    if (c->prev) c->prev->next = c->next;
    else n->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void conn_close(conn *c, int level, const char *why)
{
    if (c->state == CONN_CLOSING) return;
    net *n = c->net;
    enum conn_state was = c->state;
    c->state = CONN_CLOSING;
    if (c->counted_unauthenticated) {
        n->unauthenticated--;
        c->counted_unauthenticated = 0;
    }
    conn_unlink(c);
    peer *p = c->peer < n->members ? &n->peers[c->peer] : NULL;
    if (p && p->dialing == c) p->dialing = NULL;
    if (p && p->conn == c) {
        p->conn = NULL;
        p->stats.disconnects++;
        send_queue_drop_droppable(&p->queue);
        if (!n->closing)
            log_line(n->log, level, "peer_disconnected", "\"peer\":%u,\"reason\":\"%s\"", c->peer,
                     why ? why : "closed");
    } else if (why && !n->closing && was != CONN_CONNECTING) {
        char peer_desc[32] = "null";
        if (c->peer < n->members) snprintf(peer_desc, sizeof peer_desc, "%u", c->peer);
        log_line(n->log, level, "connection_dropped", "\"peer\":%s,\"reason\":\"%s\"", peer_desc,
                 why);
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    if (p) schedule_retry(n, p);
}

static void on_control_written(uv_write_t *req, int status)
{
    free(req); /* control_write starts with its request */
}

static int send_control(conn *c, const uint8_t *msg, size_t len)
{
    control_write *w = malloc(sizeof *w);
    if (!w) return -1;
    le32_put(w->data, (uint32_t)len);
    memcpy(w->data + FRAME_HEADER_BYTES, msg, len);
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)(FRAME_HEADER_BYTES + len));
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_control_written) != 0) {
        free(w);
        return -1;
    }
    return 0;
}

static void on_written(uv_write_t *req, int status)
{
    conn *c = req->data;
    net *n = c->net;
    peer *p = c->peer < n->members ? &n->peers[c->peer] : NULL;
    for (uint32_t i = 0; i < c->inflight_len; i++) {
        if (status == 0 && p) {
            p->stats.bytes_out += c->inflight[i]->len;
            p->stats.msgs_out++;
        }
        out_frame_unref(c->inflight[i]);
    }
    c->inflight_len = 0;
    c->writing = 0;
    c->stalled = 0;
    if (status < 0) {
        conn_close(c, LOG_INFO, uv_strerror(status));
        return;
    }
    conn_pump(c);
}

static void conn_pump(conn *c)
{
    if (c->state != CONN_OPEN || c->writing) return;
    net *n = c->net;
    peer *p = &n->peers[c->peer];
    size_t bytes = 0;
    while (c->inflight_len < WRITE_BATCH_FRAMES && bytes < WRITE_BATCH_BYTES) {
        out_frame *f = send_queue_pop(&p->queue);
        if (!f) break;
        c->inflight[c->inflight_len] = f;
        c->bufs[c->inflight_len] = uv_buf_init((char *)f->data, f->len);
        c->inflight_len++;
        bytes += f->len;
    }
    if (!c->inflight_len) return;
    c->writing = 1;
    c->writing_since_ms = uv_now(n->loop);
    c->wreq.data = c;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, c->bufs, c->inflight_len, on_written);
    if (rc != 0) {
        for (uint32_t i = 0; i < c->inflight_len; i++) out_frame_unref(c->inflight[i]);
        c->inflight_len = 0;
        c->writing = 0;
        conn_close(c, LOG_INFO, uv_strerror(rc));
    }
}

static void conn_open(conn *c, uint32_t index)
{
    net *n = c->net;
    peer *p = &n->peers[index];
    if (p->conn && p->conn != c) {
        n->counters.conns_replaced++;
        conn_close(p->conn, LOG_INFO, "replaced by a newer connection");
    }
    if (p->dialing == c) p->dialing = NULL;
    c->peer = index;
    c->state = CONN_OPEN;
    if (c->counted_unauthenticated) {
        n->unauthenticated--;
        c->counted_unauthenticated = 0;
    }
    c->reader.body_bytes_max = ALEPH_MESSAGE_BYTES_MAX;
    p->conn = c;
    p->backoff_ms = 0;
    p->down_logged = 0;
    p->stats.connects++;
    log_line(n->log, LOG_INFO, "peer_connected", "\"peer\":%u,\"dialed\":%s", index,
             c->dialer ? "true" : "false");
    conn_pump(c);
}

static void handshake_failed(conn *c, const char *why)
{
    /* Anyone can fail an accepted handshake, as often as they like: counted, and summed up
     * once per stats interval (node.c), not a line each. Our own dial failing is news. */
    c->net->counters.handshake_failed++;
    conn_close(c, c->dialer ? LOG_WARN : LOG_DEBUG, why);
}

/* One frame from a connection. Returns non-zero when the connection was closed. */
static int on_frame(void *ctx, const uint8_t *data, size_t len)
{
    conn *c = ctx;
    net *n = c->net;
    switch (c->state) {
    case CONN_HELLO: {
        const char *why = handshake_hello_check(data, len, n->committee->session, c->peer_nonce);
        if (why) {
            handshake_failed(c, why);
            return 1;
        }
        c->state = CONN_AUTH;
        if (c->dialer) {
            uint8_t auth[HS_AUTH_BYTES];
            handshake_auth(auth, n->committee->session, c->nonce, c->peer_nonce, n->self, c->peer,
                           n->secret->sign_secret_key);
            if (send_control(c, auth, sizeof auth) != 0) {
                conn_close(c, LOG_INFO, "write failed");
                return 1;
            }
        }
        return 0;
    }
    case CONN_AUTH: {
        uint32_t who = UINT32_MAX;
        const char *why = handshake_auth_check(data, len, n->committee->session, c->nonce,
                                               c->peer_nonce, n->self, n->members,
                                               (const uint8_t(*)[32])n->committee->sign_pks,
                                               c->dialer ? c->peer : UINT32_MAX, &who);
        if (why) {
            handshake_failed(c, why);
            return 1;
        }
        if (!c->dialer) {
            uint8_t auth[HS_AUTH_BYTES];
            handshake_auth(auth, n->committee->session, c->nonce, c->peer_nonce, n->self, who,
                           n->secret->sign_secret_key);
            c->peer = who;
            if (send_control(c, auth, sizeof auth) != 0) {
                conn_close(c, LOG_INFO, "write failed");
                return 1;
            }
        }
        conn_open(c, who);
        return c->state != CONN_OPEN;
    }
    case CONN_OPEN: {
        peer *p = &n->peers[c->peer];
        p->stats.msgs_in++;
        p->stats.bytes_in += FRAME_HEADER_BYTES + len;
        n->on_message(n->ctx, c->peer, data, len);
        return c->state != CONN_OPEN;
    }
    default:
        return 1;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = h->data;
    size_t len;
    /* The rest of a large unit goes straight into its assembly buffer. */
    uint8_t *direct = frame_reader_direct(&c->reader, 64u * 1024u, &len);
    if (direct && c->state == CONN_OPEN)
        *buf = uv_buf_init((char *)direct, (unsigned)len);
    else
        *buf = uv_buf_init((char *)c->net->read_buf, sizeof c->net->read_buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = s->data;
    if (c->state == CONN_CLOSING) return;
    if (nread < 0) {
        conn_close(c, LOG_INFO, nread == UV_EOF ? "closed by peer" : uv_strerror((int)nread));
        return;
    }
    if (nread == 0) return;
    if (buf->base != (char *)c->net->read_buf) {
        frame_reader_direct_done(&c->reader, (size_t)nread, on_frame, c);
        return;
    }
    uint32_t declared = 0;
    int rc = frame_reader_feed(&c->reader, (const uint8_t *)buf->base, (size_t)nread, on_frame, c,
                               &declared);
    if (rc == FRAME_TOO_LARGE) {
        net *n = c->net;
        n->counters.frames_oversize++;
        char why[96];
        snprintf(why, sizeof why, "frame of %u bytes over the limit of %u", declared,
                 c->reader.body_bytes_max);
        if (c->state == CONN_OPEN) n->peers[c->peer].stats.msgs_in++;
        conn_close(c, LOG_WARN, why);
    } else if (rc == FRAME_NO_MEMORY) {
        conn_close(c, LOG_ERROR, "out of memory");
    }
}

static conn *conn_new(net *n, int dialer, uint32_t peer_index)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->net = n;
    c->dialer = dialer;
    c->peer = peer_index;
    c->tcp.data = c;
    frame_reader_init(&c->reader, HS_FRAME_MAX);
    randombytes_buf(c->nonce, sizeof c->nonce);
    c->deadline_ms = uv_now(n->loop) + n->limits.handshake_timeout_ms;
    if (uv_tcp_init(n->loop, &c->tcp) != 0) {
        free(c);
        return NULL;
    }
    c->next = n->conns;
    if (n->conns) n->conns->prev = c;
    n->conns = c;
    return c;
}

static int conn_begin(conn *c)
{
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 10);
    uint8_t hello[HS_HELLO_BYTES];
    handshake_hello(hello, c->net->committee->session, c->nonce);
    c->state = CONN_HELLO;
    if (send_control(c, hello, sizeof hello) != 0) return -1;
    return uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_connected(uv_connect_t *req, int status)
{
    conn *c = req->data;
    if (c->state == CONN_CLOSING) return;
    net *n = c->net;
    peer *p = &n->peers[c->peer];
    if (status < 0) {
        if (!p->down_logged) {
            log_line(n->log, LOG_INFO, "peer_unreachable", "\"peer\":%u,\"reason\":\"%s\"",
                     c->peer, uv_strerror(status));
            p->down_logged = 1;
        }
        conn_close(c, LOG_INFO, NULL);
        return;
    }
    if (conn_begin(c) != 0) conn_close(c, LOG_INFO, "cannot start reading");
}

static void dial(net *n, peer *p)
{
    if (n->closing || p->dialing || p->conn) return;
    conn *c = conn_new(n, 1, p->index);
    if (!c) {
        schedule_retry(n, p);
        return;
    }
    c->state = CONN_CONNECTING;
    c->connect_req.data = c;
    p->dialing = c;
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&p->addr,
                            on_connected);
    if (rc != 0) conn_close(c, LOG_INFO, NULL);
}

static void on_retry(uv_timer_t *t)
{
    peer *p = t->data;
    p->retry_armed = 0;
    dial(p->net, p);
}

/* A member source (net_limits): the address of a member that dials us; its budget. */
static const member_source *member_source_find(const net *n, const net_source *key)
{
    for (uint32_t i = 0; i < n->member_sources_len; i++)
        if (net_source_equal(&n->member_sources[i].addr, key)) return &n->member_sources[i];
    return NULL;
}

/* Which handshake from a member's address makes room for a newer one: first one silent
 * since an earlier turn of the loop (an honest dialer's hello follows its connect at once),
 * then one that sent its hello and waits to authenticate (an honest one does within a round
 * trip), then any; the oldest of the first kind there is. */
static int eviction_rank(const net *n, const conn *x)
{
    uint64_t accepted_ms = x->deadline_ms - n->limits.handshake_timeout_ms;
    if (x->state == CONN_HELLO && accepted_ms < uv_now(n->loop)) return 0;
    return x->state == CONN_AUTH ? 1 : 2;
}

/* Whether an accepted connection may start a handshake (net_limits); may evict the oldest
 * handshake of a member source to make room. */
static int admit(net *n, conn *c)
{
    const member_source *ms = NULL;
    net_source addr;
    if (net_source_of_peer(&c->tcp, &addr) == 0) {
        c->source = net_source_budget_key(&addr);
        ms = member_source_find(n, &addr);
    }
    c->member_source = ms != NULL;
    uint32_t budget = n->limits.handshake_per_source + (ms ? 2 * ms->dialers : 0);
    uint32_t same = 0, others = 0;
    conn *oldest = NULL;
    for (conn *x = n->conns; x; x = x->next) {
        if (!x->counted_unauthenticated) continue;
        if (!x->member_source) others++;
        if (!net_source_equal(&x->source, &c->source)) continue;
        same++;
        int rank = eviction_rank(n, x);
        if (!oldest || rank < eviction_rank(n, oldest) ||
            (rank == eviction_rank(n, oldest) && x->deadline_ms < oldest->deadline_ms))
            oldest = x;
    }
    if (same >= budget) {
        if (!ms || !oldest) {
            n->counters.refused_source++;
            return 0;
        }
        n->counters.evicted++;
        conn_close(oldest, LOG_DEBUG, "evicted by a newer handshake from its member address");
    }
    if (!ms && others >= n->limits.handshake_max) {
        n->counters.refused_full++;
        return 0;
    }
    return 1;
}

static void on_connection(uv_stream_t *server, int status)
{
    net *n = server->data;
    if (status < 0 || n->closing) return;
    conn *c = conn_new(n, 0, UINT32_MAX);
    if (!c) return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c, LOG_INFO, NULL);
        return;
    }
    n->counters.conns_accepted++;
    if (!admit(n, c)) {
        /* Counted, and summed up once per stats interval (node.c): no line per refusal. */
        n->counters.conns_refused++;
        conn_close(c, LOG_DEBUG, NULL);
        return;
    }
    n->unauthenticated++;
    c->counted_unauthenticated = 1;
    if (conn_begin(c) != 0) conn_close(c, LOG_INFO, "cannot start reading");
}

static void on_housekeeping(uv_timer_t *t)
{
    net *n = t->data;
    uint64_t now = uv_now(n->loop);
    for (conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        if ((c->state == CONN_HELLO || c->state == CONN_AUTH) && now > c->deadline_ms) {
            n->counters.handshake_timeouts++;
            /* An accepted one: counted and summed up per interval, like a refusal. */
            conn_close(c, c->dialer ? LOG_INFO : LOG_DEBUG, "handshake timed out");
        }
    }
}

/* The member sources: the addresses of the members that dial us (the lower indices), each
 * with how many members dial from it. */
static int member_sources_init(net *n)
{
    n->member_sources = calloc(n->self ? n->self : 1, sizeof *n->member_sources);
    if (!n->member_sources) return -1;
    for (uint32_t i = 0; i < n->self; i++) {
        net_source a;
        if (net_source_from((const struct sockaddr *)&n->peers[i].addr, &a) != 0) continue;
        member_source *ms = (member_source *)member_source_find(n, &a);
        if (!ms) {
            ms = &n->member_sources[n->member_sources_len++];
            ms->addr = a;
        }
        ms->dialers++;
    }
    return 0;
}

/* ---- the network ----------------------------------------------------------------------------- */

int resolve_address(const char *host, uint16_t port, struct sockaddr_storage *out, char *err,
                    size_t cap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", port);
    int rc = getaddrinfo(host, port_text, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, cap, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* The address to bind: the advertised one (listen NULL), or "HOST", "HOST:PORT",
 * "[IPv6]:PORT" or a bare IPv6 literal (HOST alone keeps the advertised port). */
static int listen_parse(const char *listen, const committee_member *me, char *host, size_t cap,
                        uint16_t *port)
{
    if (!listen) {
        snprintf(host, cap, "%s", me->host);
        *port = me->port;
        return 0;
    }
    if (address_parse(listen, host, cap, port) == 0 && address_host_valid(host) &&
        (!strchr(host, ':') || listen[0] == '['))
        return 0;
    if (!address_host_valid(listen) || strlen(listen) >= cap) return -1;
    snprintf(host, cap, "%s", listen);
    *port = me->port;
    return 0;
}

void net_limits_defaults(net_limits *l)
{
    l->handshake_timeout_ms = NET_HANDSHAKE_TIMEOUT_MS_DEFAULT;
    l->handshake_max = NET_HANDSHAKE_MAX_DEFAULT;
    l->handshake_per_source = NET_HANDSHAKE_PER_SOURCE_DEFAULT;
}

int net_start(net *n, uv_loop_t *loop, const committee *c, const aleph_secret *secret,
              const char *listen, const net_limits *limits, node_log *log, size_t queue_bytes_max,
              net_message_fn on_message, void *ctx, char *err, size_t cap)
{
    n->loop = loop;
    n->committee = c;
    n->secret = secret;
    n->self = secret->index;
    n->members = c->size;
    n->log = log;
    if (limits) n->limits = *limits;
    else net_limits_defaults(&n->limits);
    n->queue_bytes_max = queue_bytes_max;
    n->on_message = on_message;
    n->ctx = ctx;
    n->peers = calloc(c->size, sizeof *n->peers);
    if (!n->peers) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    /* Every handle exists from here on, so net_close can close them whatever fails next. */
    uv_timer_init(loop, &n->housekeeping);
    n->housekeeping.data = n;
    uv_tcp_init(loop, &n->listener);
    n->listener.data = n;
    n->listener_open = 1;
    for (uint32_t i = 0; i < c->size; i++) {
        peer *p = &n->peers[i];
        p->index = i;
        p->net = n;
        if (i == n->self) continue;
        uv_timer_init(loop, &p->retry_timer);
        p->retry_timer.data = p;
        p->we_dial = n->self < i;
        char why[256];
        if (resolve_address(c->members[i].host, c->members[i].port, &p->addr, why, sizeof why) !=
            0) {
            snprintf(err, cap, "member %u's address: %s", i, why);
            return -1;
        }
    }
    if (member_sources_init(n) != 0) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    const committee_member *me = &c->members[n->self];
    char host[HOST_MAX];
    uint16_t port = me->port;
    if (listen_parse(listen, me, host, sizeof host, &port) != 0) {
        snprintf(err, cap, "--listen '%s' is not HOST, HOST:PORT or [IPv6]:PORT", listen);
        return -1;
    }
    address_format(n->listen_desc, sizeof n->listen_desc, host, port);
    struct sockaddr_storage addr;
    char why[256];
    if (resolve_address(host, port, &addr, why, sizeof why) != 0) {
        snprintf(err, cap, "%s address: %s", listen ? "listen" : "own", why);
        return -1;
    }
    int rc = uv_tcp_bind(&n->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&n->listener, 128, on_connection);
    if (rc != 0) {
        snprintf(err, cap, "cannot listen on %s (member %u's %s): %s%s", n->listen_desc,
                 n->self, listen ? "--listen address" : "address", uv_strerror(rc),
                 rc == UV_EADDRINUSE ? " (is another node running on this port?)" : "");
        return -1;
    }
    uv_timer_start(&n->housekeeping, on_housekeeping, HOUSEKEEPING_MS, HOUSEKEEPING_MS);
    for (uint32_t i = 0; i < c->size; i++)
        if (i != n->self && n->peers[i].we_dial) dial(n, &n->peers[i]);
    return 0;
}

/* Into the peer's send queue now (the emulated links call it when a frame is due). */
static void send_now(net *n, uint32_t to, out_frame *f)
{
    if (to >= n->members || to == n->self || n->closing) return;
    peer *p = &n->peers[to];
    if (!p->conn && f->droppable) {
        /* Not connected: a broadcast unit copy would reach it stale (after a restart, the
         * flush of minutes of them delayed its catch-up by seconds); it asks for units. */
        p->queue.dropped++;
        p->queue.dropped_bytes += f->len;
        return;
    }
    conn *c = p->conn;
    if (c && f->droppable && c->writing && uv_now(n->loop) - c->writing_since_ms >= STALLED_MS) {
        /* Stopped reading (SIGSTOP, a stuck machine): what it finds when it reads again are
         * broadcasts seconds or minutes old, which delay its catch-up and take CPU from the
         * committee on the way; it asks for units instead. */
        if (!c->stalled) send_queue_drop_droppable(&p->queue);
        c->stalled = 1;
        p->queue.dropped++;
        p->queue.dropped_bytes += f->len;
        return;
    }
    send_queue_push(&p->queue, f, n->queue_bytes_max);
    if (p->conn) conn_pump(p->conn);
}

void net_send(net *n, uint32_t to, out_frame *f)
{
    if (to >= n->members || to == n->self || n->closing) return;
    if (n->links) {
        link_stage_submit(n->links, to, f);
        return;
    }
    send_now(n, to, f);
}

static void release_to_net(void *ctx, uint32_t to, out_frame *f)
{
    send_now(ctx, to, f);
}

int net_links_attach(net *n, const char *spec, double jitter_ms, double loss, double bandwidth_mbit,
                     char *err, size_t cap)
{
    link_params p;
    if (link_params_parse(&p, spec, n->self, n->members, err, cap) != 0) return -1;
    p.jitter_ms = jitter_ms;
    p.loss = loss;
    p.bandwidth_mbit = bandwidth_mbit;
    link_stage *s = calloc(1, sizeof *s);
    if (!s || link_stage_start(s, n->loop, &p, n->queue_bytes_max, release_to_net, n) != 0) {
        free(s);
        link_params_free(&p);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    n->links = s;
    return 0;
}

uint32_t net_connected(const net *n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n->members; i++)
        if (n->peers && n->peers[i].conn) k++;
    return k;
}

void net_close(net *n)
{
    if (n->closing) return;
    n->closing = 1;
    if (n->links) link_stage_close(n->links);
    while (n->conns) conn_close(n->conns, LOG_INFO, NULL);
    if (n->listener_open) uv_close((uv_handle_t *)&n->listener, NULL);
    n->listener_open = 0;
    if (n->peers) {
        uv_close((uv_handle_t *)&n->housekeeping, NULL);
        for (uint32_t i = 0; i < n->members; i++) {
            if (i == n->self) continue;
            uv_close((uv_handle_t *)&n->peers[i].retry_timer, NULL);
        }
    }
}

void net_free(net *n)
{
    if (n->links) {
        link_stage_free(n->links);
        free(n->links);
        n->links = NULL;
    }
    free(n->member_sources);
    n->member_sources = NULL;
    n->member_sources_len = 0;
    if (!n->peers) return;
    for (uint32_t i = 0; i < n->members; i++) send_queue_free(&n->peers[i].queue);
    free(n->peers);
    n->peers = NULL;
}

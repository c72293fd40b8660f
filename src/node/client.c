#include "client.h"
#include "client_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "net/peer.h"
#include "base/util.h"

#define ACK_QUEUE_MAX (64u << 10)
#define DURABLE_PENDING_MAX (64u << 10) /* answers waiting for durability, per client */
#define REFUSING_MAX 64u    /* connections told 5 at once; beyond, closed without it */
#define REFUSING_MS 2000u   /* how long a refused connection may take to read its 5 */
#define HOUSEKEEPING_MS 250u


typedef struct ack_write {
    uv_write_t req;
    client *c;
    uint8_t data[];
} ack_write;


void client_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    client *c = h->data;
    *buf = uv_buf_init((char *)c->cp->read_buf, sizeof c->cp->read_buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_ack_written(uv_write_t *req, int status)
{
    ack_write *w = (ack_write *)req;
    client *c = w->c;
    free(w);
    if (c->closing) return;
    c->active_ms = uv_now(c->cp->loop);
    /* Closed after the last answer: those still waiting for durability go out first. */
    if (status < 0 || (c->close_after_write && c->pend_len == 0 &&
                       uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0)) {
        client_close(c);
        return;
    }
    if (c->paused && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < ACK_QUEUE_MAX / 2) {
        c->paused = 0;
        uv_read_start((uv_stream_t *)&c->tcp, client_on_alloc, on_read);
    }
}

static void send_acks(client *c, const uint8_t *acks, size_t n)
{
    if (!n) return;
    ack_write *w = malloc(sizeof *w + n);
    if (!w) {
        client_close(c);
        return;
    }
    w->c = c;
    memcpy(w->data, acks, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_ack_written) != 0) {
        free(w);
        client_close(c);
        return;
    }
    if (!c->paused && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > ACK_QUEUE_MAX) {
        /* The client floods without reading its answers: stop reading it until it does. */
        c->paused = 1;
        c->cp->counters.paused++;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

/* Sends the answers at the head of a durable client's queue that are due. */
static void flush_durable(client *c)
{
    uint8_t out[4096];
    size_t n = 0;
    while (c->pend_len && !c->closing) {
        struct durable_ack *a = &c->pend[c->pend_head];
        if (a->status == ALEPH_SUBMIT_OK && a->seq > c->cp->durable_txs) break;
        out[n++] = a->status == ALEPH_SUBMIT_OK ? CLIENT_STATUS_DURABLE : a->status;
        c->pend_head = (c->pend_head + 1) % c->pend_cap;
        c->pend_len--;
        if (n == sizeof out) {
            send_acks(c, out, n);
            n = 0;
        }
    }
    if (n) send_acks(c, out, n);
    if (c->paused && !c->closing && c->pend_len < DURABLE_PENDING_MAX / 2 &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < ACK_QUEUE_MAX / 2) {
        c->paused = 0;
        uv_read_start((uv_stream_t *)&c->tcp, client_on_alloc, on_read);
    }
}

/* Sends or queues a read's answers; *ok_seq numbers the accepted transactions among all. */
static void deliver_acks(client *c, const uint8_t *acks, size_t n, uint64_t *ok_seq)
{
    if (!c->durable) {
        for (size_t i = 0; i < n; i++) *ok_seq += acks[i] == ALEPH_SUBMIT_OK;
        send_acks(c, acks, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (c->pend_len == c->pend_cap) {
            size_t cap = c->pend_cap ? c->pend_cap * 2 : 1024;
            struct durable_ack *grown = malloc(cap * sizeof *grown);
            if (!grown) {
                client_close(c);
                return;
            }
            for (size_t k = 0; k < c->pend_len; k++)
                grown[k] = c->pend[(c->pend_head + k) % c->pend_cap];
            free(c->pend);
            c->pend = grown;
            c->pend_cap = cap;
            c->pend_head = 0;
        }
        uint64_t seq = acks[i] == ALEPH_SUBMIT_OK ? ++*ok_seq : 0;
        c->pend[(c->pend_head + c->pend_len++) % c->pend_cap] =
            (struct durable_ack){.seq = seq, .status = acks[i]};
    }
    flush_durable(c);
    if (!c->paused && !c->closing && c->pend_len > DURABLE_PENDING_MAX) {
        c->paused = 1; /* far ahead of the disk: stop reading it until answers go out */
        c->cp->counters.paused++;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

void client_port_durable(client_port *cp, uint64_t durable_txs)
{
    if (durable_txs <= cp->durable_txs) return;
    cp->durable_txs = durable_txs;
    for (client *c = cp->clients; c; c = c->next)
        if (c->durable && c->pend_len) flush_durable(c);
}

void client_port_halted(client_port *cp, uint64_t txs_in_units)
{
    /* Nothing more enters a unit here: pooled transactions are answered as refused (those
     * already in units are answered when these become durable). */
    for (client *c = cp->clients; c; c = c->next)
        for (size_t k = 0; k < c->pend_len; k++) {
            struct durable_ack *a = &c->pend[(c->pend_head + k) % c->pend_cap];
            if (a->status == ALEPH_SUBMIT_OK && a->seq > txs_in_units)
                a->status = ALEPH_SUBMIT_HALTED;
        }
    for (client *c = cp->clients; c; c = c->next)
        if (c->durable && c->pend_len) flush_durable(c);
}

/* One read's answers, sent in one write (at most one per 4 input bytes). */
typedef struct read_acks {
    uint8_t buf[4096];
    size_t len;
    uint64_t ok_seq; /* accepted transactions are numbered in order among all */
    int accepted;
} read_acks;

/* Queues one answer; returns 0, or -1 when the client was closed meanwhile. */
static int ack_push(client *c, read_acks *ra, uint8_t status)
{
    if (ra->len == sizeof ra->buf) {
        deliver_acks(c, ra->buf, ra->len, &ra->ok_seq);
        ra->len = 0;
        if (c->closing) return -1;
    }
    ra->buf[ra->len++] = status;
    return 0;
}

/* Copies up to need - *have bytes of the read into dst; returns whether dst is complete. */
static int take_bytes(uint8_t *dst, uint32_t *have, uint32_t need, const uint8_t **p,
                      size_t *left)
{
    uint32_t take = need - *have;
    if (take > *left) take = (uint32_t)*left;
    if (dst) memcpy(dst + *have, *p, take);
    *have += take;
    *p += take;
    *left -= take;
    return *have == need;
}

static int on_subscribe(client *c, read_acks *ra)
{
    client_port *cp = c->cp;
    if (c->subscriber) return 0;
    if (cp->subscribers >= cp->limits.subscribers_max) {
        cp->counters.refused_subscribers++;
        cp->counters.refused++;
        c->close_after_write = 1; /* the read's loop ends here */
        return ack_push(c, ra, CLIENT_STATUS_REFUSED);
    }
    c->subscriber = 1;
    cp->subscribers++;
    log_line(cp->log, LOG_INFO, "client_subscribed", "\"subscribers\":%u", cp->subscribers);
    return 0;
}

/* A frame's 4-byte header: a control word or a transaction's length. 0, or -1: closed. */
static int on_header(client *c, read_acks *ra, uint32_t n)
{
    client_port *cp = c->cp;
    if (n == CLIENT_SUBSCRIBE) return on_subscribe(c, ra);
    if (n == CLIENT_ACK_DURABLE) {
        /* The answers so far are of transactions sent before: answered as before. */
        if (!c->durable) {
            deliver_acks(c, ra->buf, ra->len, &ra->ok_seq);
            ra->len = 0;
            if (c->closing) return -1;
        }
        c->durable = 1;
        return 0;
    }
    if (n == CLIENT_RESUME) {
        if (!c->subscriber) {
            c->in_resume_req = 1;
            c->req_have = 0;
        }
        return 0;
    }
    if (n == 0 || n > CLIENT_FRAME_HARD_MAX) {
        cp->counters.txs_too_large++;
        if (n) {
            cp->counters.frames_oversize++;
            c->close_after_write = 1; /* its body cannot be skipped in bounded time */
        }
        return ack_push(c, ra, ALEPH_SUBMIT_TOO_LARGE);
    }
    c->in_body = 1;
    c->body_len = n;
    c->body_have = 0;
    c->skipping = n > cp->tx_bytes_max;
    if (!c->skipping && !c->body) {
        c->body = malloc(cp->tx_bytes_max);
        if (!c->body) {
            client_close(c);
            return -1;
        }
    }
    return 0;
}

/* Hands a whole transaction to the member and counts the answer. */
static uint8_t submit_tx(client_port *cp, read_acks *ra, const uint8_t *tx, uint32_t len)
{
    uint8_t status = (uint8_t)cp->submit(cp->ctx, tx, len);
    if (status == ALEPH_SUBMIT_OK) {
        cp->counters.txs_ok++;
        ra->accepted = 1;
    } else if (status == ALEPH_SUBMIT_POOL_FULL) {
        cp->counters.txs_pool_full++;
    } else if (status == ALEPH_SUBMIT_HALTED) {
        cp->counters.txs_halted++;
    } else {
        cp->counters.txs_too_large++;
    }
    return status;
}

/* A transaction's body, whole in this read (no copy) or gathered across reads. Returns 1
 * when it needs more bytes, 0 when answered, -1 when the client was closed. */
static int on_body(client *c, read_acks *ra, const uint8_t **p, size_t *left)
{
    const uint8_t *tx;
    if (!c->skipping && c->body_have == 0 && *left >= c->body_len) {
        tx = *p;
        *p += c->body_len;
        *left -= c->body_len;
    } else {
        if (!take_bytes(c->skipping ? NULL : c->body, &c->body_have, c->body_len, p, left))
            return 1;
        tx = c->body;
    }
    c->in_body = 0;
    uint8_t status = ALEPH_SUBMIT_TOO_LARGE;
    if (c->skipping)
        c->cp->counters.txs_too_large++;
    else
        status = submit_tx(c->cp, ra, tx, c->body_len);
    return ack_push(c, ra, status);
}

/* Parses a read's frames; returns -1 when the client was closed meanwhile. */
static int read_frames(client *c, read_acks *ra, const uint8_t *p, size_t left)
{
    uint64_t now_ms = uv_now(c->cp->loop);
    while (left > 0 && !c->close_after_write) {
        if (c->in_resume_req) {
            if (!take_bytes(c->req, &c->req_have, 8, &p, &left)) return 0;
            c->in_resume_req = 0;
            client_resume_start(c, le64_get(c->req));
            if (c->closing) return -1;
        } else if (!c->in_body) {
            if (c->hdr_have == 0) c->frame_started_ms = now_ms;
            if (!take_bytes(c->hdr, &c->hdr_have, 4, &p, &left)) return 0;
            c->hdr_have = 0;
            if (on_header(c, ra, le32_get(c->hdr)) < 0) return -1;
        } else {
            int r = on_body(c, ra, &p, &left);
            if (r < 0) return -1;
            if (r > 0) return 0;
        }
    }
    return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client *c = s->data;
    client_port *cp = c->cp;
    if (c->closing) return;
    if (nread < 0) {
        /* The client finished sending (it may wait for its answers, as a half-closed
         * connection): answers still owed, held for durability or unwritten, go out first. */
        if (nread == UV_EOF && !c->refusing &&
            (c->pend_len || uv_stream_get_write_queue_size(s) > 0)) {
            c->close_after_write = 1;
            uv_read_stop(s);
            return;
        }
        client_close(c);
        return;
    }
    if (c->refusing) return; /* what it sends before it reads its 5 is dropped */
    cp->counters.bytes_in += (uint64_t)nread;
    if (nread > 0) c->active_ms = uv_now(cp->loop);
    read_acks ra = {.ok_seq = cp->counters.txs_ok};
    if (read_frames(c, &ra, (const uint8_t *)buf->base, (size_t)nread) == 0)
        deliver_acks(c, ra.buf, ra.len, &ra.ok_seq);
    /* Accepted transactions are in the pool even when the client was closed meanwhile. */
    if (ra.accepted && cp->submitted) cp->submitted(cp->ctx);
}

void client_limits_defaults(client_limits *l)
{
    l->connections_max = CLIENT_CONNECTIONS_MAX_DEFAULT;
    l->per_source = CLIENT_PER_SOURCE_DEFAULT;
    l->subscribers_max = CLIENT_SUBSCRIBERS_MAX_DEFAULT;
    l->idle_timeout_ms = CLIENT_IDLE_TIMEOUT_MS_DEFAULT;
    l->read_timeout_ms = CLIENT_READ_TIMEOUT_MS_DEFAULT;
}

/* Idle: nothing half read, nothing owed or unsent, not a subscriber (client.h). */
static int client_idle(client *c)
{
    return !c->closing && !c->refusing && !c->subscriber && !c->in_body && c->hdr_have == 0 &&
           !c->in_resume_req &&
           !c->paused && c->pend_len == 0 && !c->close_after_write &&
           uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    free(req);
}

static void refusal_sent(client *c)
{
    client_port *cp = c->cp;
    /* Nothing of the client's unread: a close delivers the 5 and the end. Otherwise a close
     * would reset the connection, and the client might never read the 5: half-close, read
     * what it sends until it closes too (or REFUSING_MS; at most REFUSING_MAX such). */
    uv_os_fd_t fd;
    int unread = 0;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0 || ioctl(fd, FIONREAD, &unread) != 0 ||
        unread == 0 || (!c->refusing && cp->refusing >= REFUSING_MAX)) {
        client_close(c);
        return;
    }
    if (!c->refusing) {
        c->refusing = 1;
        cp->refusing++;
    }
    c->active_ms = uv_now(cp->loop);
    uv_shutdown_t *sh = malloc(sizeof *sh);
    if (!sh || uv_shutdown(sh, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        free(sh);
        client_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, client_on_alloc, on_read); /* to see the end */
}

static void on_refusal_written(uv_write_t *req, int status)
{
    ack_write *w = (ack_write *)req;
    client *c = w->c;
    free(w);
    if (c->closing) return;
    if (status < 0) client_close(c);
    else refusal_sent(c);
}

/* Tells the connection 5 (refused) and closes it (also an idle connection closed to make
 * room). The 5 almost always goes at once; when it cannot, and many wait already, the
 * connection is closed without it (still counted). */
static void client_refuse(client *c, uint64_t *counter)
{
    client_port *cp = c->cp;
    (*counter)++;
    if (counter != &cp->counters.evicted_idle) cp->counters.refused++;
    uv_read_stop((uv_stream_t *)&c->tcp);
    char five = (char)CLIENT_STATUS_REFUSED;
    uv_buf_t one = uv_buf_init(&five, 1);
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0 &&
        uv_try_write((uv_stream_t *)&c->tcp, &one, 1) == 1) {
        refusal_sent(c);
        return;
    }
    ack_write *w = cp->refusing < REFUSING_MAX ? malloc(sizeof *w + 1) : NULL;
    if (!w) {
        client_close(c);
        return;
    }
    c->refusing = 1;
    c->active_ms = uv_now(cp->loop);
    cp->refusing++;
    w->c = c;
    w->data[0] = CLIENT_STATUS_REFUSED;
    uv_buf_t b = uv_buf_init((char *)w->data, 1);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_refusal_written) != 0) {
        free(w);
        client_close(c);
    }
}

/* The connection idle longest (at least CLIENT_EVICT_IDLE_MS_MIN), among those from `from`
 * (NULL: all); NULL when none. */
static client *longest_idle(client_port *cp, const net_source *from, uint64_t now_ms)
{
    client *best = NULL;
    for (client *c = cp->clients; c; c = c->next) {
        if (from && !net_source_equal(&c->source, from)) continue;
        if (!client_idle(c) || now_ms < c->active_ms + CLIENT_EVICT_IDLE_MS_MIN) continue;
        if (!best || c->active_ms < best->active_ms) best = c;
    }
    return best;
}

/* Makes room for a new connection (client_limits), or refuses it; 1 when admitted. */
static int client_admit(client_port *cp, client *c)
{
    uint64_t now_ms = uv_now(cp->loop);
    net_source addr;
    if (net_source_of_peer(&c->tcp, &addr) == 0) c->source = net_source_budget_key(&addr);
    uint32_t same = 0;
    for (client *x = cp->clients; x; x = x->next)
        if (x != c && !x->closing && !x->refusing && net_source_equal(&x->source, &c->source))
            same++;
    if (same >= cp->limits.per_source) {
        client *idle = longest_idle(cp, &c->source, now_ms);
        if (!idle) {
            client_refuse(c, &cp->counters.refused_source);
            return 0;
        }
        client_refuse(idle, &cp->counters.evicted_idle);
    }
    /* count holds this one and those being refused */
    if (cp->count - cp->refusing - 1 >= cp->limits.connections_max) {
        client *idle = longest_idle(cp, NULL, now_ms);
        if (!idle) {
            client_refuse(c, &cp->counters.refused_full);
            return 0;
        }
        client_refuse(idle, &cp->counters.evicted_idle);
    }
    return 1;
}

static void on_connection(uv_stream_t *server, int status)
{
    client_port *cp = server->data;
    if (status < 0 || cp->closing) return;
    client *c = calloc(1, sizeof *c);
    if (!c) return;
    c->cp = cp;
    c->tcp.data = c;
    uv_tcp_init(cp->loop, &c->tcp);
    c->next = cp->clients;
    if (cp->clients) cp->clients->prev = c;
    cp->clients = c;
    cp->count++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        client_close(c);
        return;
    }
    c->active_ms = uv_now(cp->loop);
    if (!client_admit(cp, c)) return;
    cp->counters.accepted++;
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, client_on_alloc, on_read) != 0) client_close(c);
}

/* Idle and read timeouts; refused connections that did not go away. */
static void on_housekeeping(uv_timer_t *t)
{
    client_port *cp = t->data;
    uint64_t now = uv_now(cp->loop);
    const client_limits *l = &cp->limits;
    for (client *c = cp->clients, *next; c; c = next) {
        next = c->next;
        if (c->closing) continue;
        if (c->refusing) {
            if (now > c->active_ms + REFUSING_MS) client_close(c);
        } else if (l->read_timeout_ms && (c->hdr_have || c->in_body || c->in_resume_req) &&
                   !c->paused &&
                   now > c->frame_started_ms + l->read_timeout_ms) {
            cp->counters.read_timeouts++;
            client_close(c);
        } else if (l->idle_timeout_ms && client_idle(c) && now > c->active_ms + l->idle_timeout_ms) {
            cp->counters.idle_timeouts++;
            client_close(c);
        }
    }
}

int client_port_start(client_port *cp, uv_loop_t *loop, const char *host, uint16_t port,
                      const client_limits *limits, uint32_t tx_bytes_max,
                      size_t subscriber_buffer_max, client_submit_fn submit,
                      client_submitted_fn submitted, void *ctx, node_log *log, char *err,
                      size_t cap)
{
    cp->loop = loop;
    if (limits) cp->limits = *limits;
    else client_limits_defaults(&cp->limits);
    uv_timer_init(loop, &cp->housekeeping);
    cp->housekeeping.data = cp;
    uv_timer_start(&cp->housekeeping, on_housekeeping, HOUSEKEEPING_MS, HOUSEKEEPING_MS);
    cp->tx_bytes_max = tx_bytes_max;
    cp->subscriber_buffer_max = subscriber_buffer_max;
    cp->submit = submit;
    cp->submitted = submitted;
    cp->ctx = ctx;
    cp->log = log;
    uv_tcp_init(loop, &cp->listener);
    cp->listener.data = cp;
    cp->listener_open = 1;
    struct sockaddr_storage addr;
    char why[256];
    if (resolve_address(host, port, &addr, why, sizeof why) != 0) {
        snprintf(err, cap, "client port: %s", why);
        return -1;
    }
    int rc = uv_tcp_bind(&cp->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&cp->listener, 128, on_connection);
    if (rc != 0) {
        snprintf(err, cap, "cannot listen on client port %s:%u: %s%s", host, port,
                 uv_strerror(rc),
                 rc == UV_EADDRINUSE ? " (is another node running on this port? see --client-port)"
                                     : "");
        return -1;
    }
    return 0;
}

void client_port_close(client_port *cp)
{
    if (cp->closing) return;
    cp->closing = 1;
    while (cp->clients) client_close(cp->clients);
    if (cp->listener_open) {
        uv_close((uv_handle_t *)&cp->listener, NULL);
        uv_close((uv_handle_t *)&cp->housekeeping, NULL);
    }
    cp->listener_open = 0;
}

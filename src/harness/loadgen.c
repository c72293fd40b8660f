#include "loadgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/peer.h"
#include "base/util.h"
#include "base/grow.h"

/* A connection with more than this waiting in its socket's write queue gets nothing new
 * this tick: the member reads slower than we send, and the skipped transactions count as
 * the client falling behind. */
#define WRITE_QUEUE_LIMIT (8u << 20)

int loadgen_init(loadgen *lg, uv_loop_t *loop, uint32_t targets, double rate, uint32_t tx_size,
                 uint32_t client_id_base)
{
    memset(lg, 0, sizeof *lg);
    lg->loop = loop;
    lg->rate = rate;
    lg->tx_size = tx_size;
    lg->client_id_base = client_id_base;
    lg->targets_len = targets;
    lg->targets = calloc(targets, sizeof *lg->targets);
    if (!lg->targets) return -1;
    for (uint32_t i = 0; i < targets; i++) {
        lg->targets[i].lg = lg;
        lg->targets[i].index = i;
    }
    uv_timer_init(loop, &lg->tick);
    lg->tick.data = lg;
    lg->tick_open = 1;
    return 0;
}

void loadgen_target(loadgen *lg, uint32_t i, const char *host, uint16_t port)
{
    snprintf(lg->targets[i].host, sizeof lg->targets[i].host, "%s", host);
    lg->targets[i].port = port;
}

static void target_gone(lg_target *t, const char *why)
{
    if (t->state == 2) return;
    t->state = 2;
    if (t->handle_open) {
        uv_close((uv_handle_t *)&t->tcp, NULL);
        t->handle_open = 0;
    }
    if (t->lg->on_target_gone) t->lg->on_target_gone(t->lg->ctx, t->index, why);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char ack_buf[64 * 1024];
    *buf = uv_buf_init(ack_buf, sizeof ack_buf);
}

static void on_acks(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    lg_target *t = s->data;
    if (nread < 0) {
        target_gone(t, nread == UV_EOF ? "closed by the member" : uv_strerror((int)nread));
        return;
    }
    for (ssize_t i = 0; i < nread; i++) {
        uint8_t st = (uint8_t)buf->base[i];
        if (st == 5) { /* refused: at a client port limit; the member closes the connection */
            target_gone(t, "refused by the member (a client connection limit)");
            return;
        }
        if (t->acked >= t->sent) break; /* more answers than questions: ignore */
        /* 4: durable (asked for with ack_durable); 3: the member is halted */
        int ok = t->lg->ack_durable ? st == 4 : st == 0;
        t->status[t->acked++] = ok ? LG_OK : st == 1 ? LG_POOL_FULL : LG_TOO_LARGE;
        if (ok) t->ok++;
        else if (st == 1) t->pool_full++;
        else if (st == 3) t->halted++;
        else t->too_large++;
    }
}

static void on_mode_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void on_connected(uv_connect_t *req, int status)
{
    lg_target *t = req->data;
    if (t->state == 2) return;
    if (status < 0) {
        target_gone(t, uv_strerror(status));
        return;
    }
    t->state = 1;
    uv_tcp_nodelay(&t->tcp, 1);
    if (t->lg->ack_durable) {
        static const uint8_t mode[4] = {0xfe, 0xff, 0xff, 0xff}; /* the port's "ack durable" */
        uv_buf_t b = uv_buf_init((char *)mode, 4);
        uv_write_t *w = malloc(sizeof *w); /* queued before any transaction */
        if (!w || uv_write(w, (uv_stream_t *)&t->tcp, &b, 1, on_mode_written) != 0) {
            free(w);
            target_gone(t, "cannot ask for durable answers");
            return;
        }
    }
    uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_acks);
}

void loadgen_connect(loadgen *lg)
{
    for (uint32_t i = 0; i < lg->targets_len; i++) {
        lg_target *t = &lg->targets[i];
        struct sockaddr_storage addr;
        char err[256];
        uv_tcp_init(lg->loop, &t->tcp);
        t->tcp.data = t;
        t->handle_open = 1;
        t->connect_req.data = t;
        if (resolve_address(t->host, t->port, &addr, err, sizeof err) != 0 ||
            uv_tcp_connect(&t->connect_req, &t->tcp, (struct sockaddr *)&addr, on_connected) != 0)
            target_gone(t, "cannot connect");
    }
}

uint32_t loadgen_connected(const loadgen *lg)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < lg->targets_len; i++) k += lg->targets[i].state == 1;
    return k;
}

uint32_t loadgen_live(const loadgen *lg)
{
    return loadgen_connected(lg);
}

typedef struct tx_write {
    uv_write_t req;
    uint8_t data[];
} tx_write;

static void on_written(uv_write_t *req, int status)
{
    free(req);
}

static int status_reserve(lg_target *t, uint64_t n)
{
    if (t->sent + n <= t->status_cap) return 0;
    size_t cap = t->status_cap ? t->status_cap : 4096;
    while (cap < t->sent + n) cap *= 2;
    uint8_t *grown = realloc(t->status, cap);
    if (!grown) return -1;
    memset(grown + t->status_cap, LG_UNANSWERED, cap - t->status_cap);
    t->status = grown;
    t->status_cap = cap;
    return 0;
}

static void send_batch(lg_target *t, uint64_t n, uint64_t now_ns)
{
    loadgen *lg = t->lg;
    size_t rec = 4 + (size_t)lg->tx_size;
    if (status_reserve(t, n) != 0) return;
    tx_write *w = malloc(sizeof *w + rec * n);
    if (!w) return;
    uint8_t *p = w->data;
    for (uint64_t i = 0; i < n; i++) {
        le32_put(p, lg->tx_size);
        probe_tx_fill(p + 4, lg->tx_size, now_ns, t->sent + i, lg->client_id_base + t->index);
        p += rec;
    }
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(rec * n));
    if (uv_write(&w->req, (uv_stream_t *)&t->tcp, &b, 1, on_written) != 0) {
        free(w);
        target_gone(t, "write failed");
        return;
    }
    t->sent += n;
    lg->sent_total += n;
    size_t q = uv_stream_get_write_queue_size((uv_stream_t *)&t->tcp);
    if (q > t->write_queue_max) t->write_queue_max = q;
}

static void on_tick(uv_timer_t *timer)
{
    loadgen *lg = timer->data;
    if (!lg->running) return;
    uint64_t now_mono = clock_mono_ns();
    uint64_t now_real = clock_real_ns();
    double elapsed = (double)(now_mono - lg->start_mono_ns) / 1e9;
    uint64_t due = (uint64_t)(lg->rate * elapsed);
    if (due <= lg->due_total) return;
    uint64_t n = due - lg->due_total;
    lg->due_total = due;
    /* per-second accounting */
    size_t sec = (size_t)elapsed;
    if (sec >= lg->per_second_cap) {
        uint64_t *grown =
            array_grow_zeroed(lg->per_second, &lg->per_second_cap, sec + 1, sizeof *grown, 64);
        if (grown) lg->per_second = grown;
    }
    /* Spread over live targets; one with a full write queue gets nothing this tick. */
    uint32_t live = 0;
    for (uint32_t i = 0; i < lg->targets_len; i++)
        live += lg->targets[i].state == 1 &&
                uv_stream_get_write_queue_size((uv_stream_t *)&lg->targets[i].tcp) <
                    WRITE_QUEUE_LIMIT;
    if (!live) {
        lg->skipped += n;
        lg->behind_ticks++;
        return;
    }
    uint64_t each = n / live, extra = n % live;
    uint64_t sent = 0;
    for (uint32_t k = 0; k < lg->targets_len; k++) {
        lg_target *t = &lg->targets[(lg->rr + k) % lg->targets_len];
        if (t->state != 1 ||
            uv_stream_get_write_queue_size((uv_stream_t *)&t->tcp) >= WRITE_QUEUE_LIMIT)
            continue;
        uint64_t m = each + (extra ? 1 : 0);
        if (extra) extra--;
        if (m) send_batch(t, m, now_real);
        sent += m;
    }
    lg->rr++;
    uint32_t all_live = loadgen_connected(lg);
    if (live < all_live) lg->behind_ticks++;
    if (sec < lg->per_second_cap) {
        if (sec >= lg->per_second_len) lg->per_second_len = sec + 1;
        lg->per_second[sec] += sent;
    }
}

void loadgen_start(loadgen *lg)
{
    lg->running = 1;
    lg->start_mono_ns = clock_mono_ns();
    uv_timer_start(&lg->tick, on_tick, LOADGEN_TICK_MS, LOADGEN_TICK_MS);
}

void loadgen_stop(loadgen *lg)
{
    if (lg->running) {
        on_tick(&lg->tick);
        lg->running = 0;
        uv_timer_stop(&lg->tick);
    }
}

uint64_t loadgen_unanswered(const loadgen *lg)
{
    uint64_t k = 0;
    for (uint32_t i = 0; i < lg->targets_len; i++)
        if (lg->targets[i].state == 1) k += lg->targets[i].sent - lg->targets[i].acked;
    return k;
}

int loadgen_kept_rate(const loadgen *lg)
{
    return lg->sent_total + 0.0 >= 0.99 * (double)lg->due_total;
}

void loadgen_close(loadgen *lg)
{
    lg->running = 0;
    if (lg->tick_open) uv_close((uv_handle_t *)&lg->tick, NULL);
    lg->tick_open = 0;
    for (uint32_t i = 0; i < lg->targets_len; i++) {
        lg_target *t = &lg->targets[i];
        if (t->handle_open) uv_close((uv_handle_t *)&t->tcp, NULL);
        t->handle_open = 0;
        if (t->state != 2) t->state = 2;
    }
}

void loadgen_free(loadgen *lg)
{
    for (uint32_t i = 0; i < lg->targets_len; i++) free(lg->targets[i].status);
    free(lg->targets);
    free(lg->per_second);
    free(lg->buf);
    memset(lg, 0, sizeof *lg);
}

/* `aleph load`: open-loop load against members' client ports, optionally subscribed to the
 * ordered output of the first one to measure end-to-end latency from the client's side. */
#include <stddef.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <uv.h>

#include "measure/analysis.h"
#include "commands.h"
#include "node/client.h"
#include "net/framing.h"
#include "base/options.h"
#include "base/addresses.h"
#include "base/keys.h"
#include "harness/loadgen.h"
#include "net/peer.h"
#include "base/util.h"

#define TARGETS_MAX 1024

static void load_usage(FILE *to)
{
    fprintf(to,
            "usage: aleph load --to HOST:PORT[,HOST:PORT...] [--rate R] [--tx-size S]\n"
            "                  [--duration D] [--subscribe] [--records FILE] [--client-id N]\n"
            "                  [--ack pool|durable]\n\n"
            "Sends transactions at a fixed total rate (open loop: it does not wait for answers)\n"
            "spread over the given client ports, for D seconds, then waits up to 5 s for the\n"
            "last answers and reports what was sent, accepted and refused, and whether it kept\n"
            "its rate. Each transaction carries its send time (CLOCK_REALTIME), a sequence\n"
            "number and the client id, padded to S bytes.\n\n"
            "  --to LIST       comma-separated client ports (HOST:PORT) of members\n"
            "  --rate R        transactions per second over all targets (default 1000)\n"
            "  --tx-size S     bytes per transaction, at least %u (default 512)\n"
            "  --duration D    seconds (default 10)\n"
            "  --subscribe     also subscribe to the first target's ordered output and report\n"
            "                  end-to-end latency (receive time minus send time) of our own\n"
            "                  transactions; waits up to 10 s after the load for them\n"
            "  --records FILE  write a JSON record: counts and transactions sent per second\n"
            "  --client-id N   client id for the first target (the i-th gets N+i; default\n"
            "                  random)\n"
            "  --ack pool|durable  count a transaction as accepted once in the member's pool\n"
            "                  (default: a crash of the member may lose it) or only once it is\n"
            "                  in an own unit durable in the member's backup (client port\n"
            "                  status 4: restored and ordered after a crash)\n",
            LOADGEN_TX_MIN);
}

typedef struct load_run {
    uv_loop_t loop;
    loadgen lg;
    uv_timer_t control;
    uv_signal_t sigint;
    double duration_s;
    uint64_t start_ns;
    int phase; /* 0 load, 1 wait answers, 2 done */
    uint64_t phase_ns;
    /* subscription */
    int subscribe;
    char sub_host[HOST_MAX];
    uint16_t sub_port;
    uv_tcp_t sub;
    uv_connect_t sub_req;
    int sub_state; /* 0 none, 1 connecting, 2 open, 3 gone */
    frame_reader reader;
    u32_samples latency_us;
    uint64_t sub_ours, sub_total;
    uint32_t client_base, targets;
    int interrupted;
} load_run;

static int on_sub_frame(void *ctx, const uint8_t *data, size_t len)
{
    load_run *r = ctx;
    r->sub_total++;
    uint64_t send_ns, seq;
    uint32_t client;
    if (!probe_tx_parse(data, len, &send_ns, &seq, &client)) return 0;
    if (client < r->client_base || client - r->client_base >= r->targets) return 0;
    r->sub_ours++;
    uint64_t now = clock_real_ns();
    if (now > send_ns) samples_add(&r->latency_us, (uint32_t)((now - send_ns) / 1000));
    return 0;
}

static void sub_alloc(uv_handle_t *h, size_t s, uv_buf_t *buf)
{
    static char b[256 * 1024];
    *buf = uv_buf_init(b, sizeof b);
}

static void sub_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    load_run *r = s->data;
    if (n < 0) {
        if (r->sub_state != 3) uv_close((uv_handle_t *)&r->sub, NULL);
        r->sub_state = 3;
        return;
    }
    if (frame_reader_feed(&r->reader, (const uint8_t *)buf->base, (size_t)n, on_sub_frame, r,
                          NULL) != FRAME_OK) {
        uv_close((uv_handle_t *)&r->sub, NULL);
        r->sub_state = 3;
    }
}

static void sub_written(uv_write_t *w, int status)
{
    free(w);
}

static void sub_connected(uv_connect_t *req, int status)
{
    load_run *r = req->data;
    if (status < 0) {
        fprintf(stderr, "aleph load: cannot subscribe to %s:%u: %s\n", r->sub_host, r->sub_port,
                uv_strerror(status));
        uv_close((uv_handle_t *)&r->sub, NULL);
        r->sub_state = 3;
        return;
    }
    r->sub_state = 2;
    uv_write_t *w = malloc(sizeof *w + 4);
    uint8_t *msg = (uint8_t *)(w + 1);
    le32_put(msg, CLIENT_SUBSCRIBE);
    uv_buf_t b = uv_buf_init((char *)msg, 4);
    uv_write(w, (uv_stream_t *)&r->sub, &b, 1, sub_written);
    uv_read_start((uv_stream_t *)&r->sub, sub_alloc, sub_read);
}

static void finish(load_run *r)
{
    r->phase = 2;
    loadgen_close(&r->lg);
    uv_close((uv_handle_t *)&r->control, NULL);
    uv_close((uv_handle_t *)&r->sigint, NULL);
    if (r->sub_state == 1 || r->sub_state == 2) uv_close((uv_handle_t *)&r->sub, NULL);
    r->sub_state = 3;
}

static void on_control(uv_timer_t *t)
{
    load_run *r = t->data;
    double now = (double)(clock_mono_ns() - r->start_ns) / 1e9;
    if (r->phase == 0 && (now >= r->duration_s || r->interrupted)) {
        loadgen_stop(&r->lg);
        r->phase = 1;
        r->phase_ns = clock_mono_ns();
    }
    if (r->phase == 1) {
        double waited = (double)(clock_mono_ns() - r->phase_ns) / 1e9;
        uint64_t accepted = 0;
        for (uint32_t i = 0; i < r->lg.targets_len; i++) accepted += r->lg.targets[i].ok;
        int answers_in = loadgen_unanswered(&r->lg) == 0 || waited > 5;
        int sub_done = !r->subscribe || r->sub_state != 2 || r->sub_ours >= accepted ||
                       waited > 10;
        if ((answers_in && sub_done) || r->interrupted > 1) finish(r);
    }
}

static void on_sigint(uv_signal_t *s, int signum)
{
    load_run *r = s->data;
    r->interrupted++;
}

static void on_gone(void *ctx, uint32_t index, const char *why)
{
    load_run *r = ctx;
    fprintf(stderr, "aleph load: %s:%u: %s\n", r->lg.targets[index].host,
            r->lg.targets[index].port, why);
}

typedef struct load_cli {
    const char *to, *records;
    double rate, duration;
    uint32_t tx_size;
    uint64_t client_id; /* UINT64_MAX until given */
    int subscribe, ack_durable;
} load_cli;

#define F(field) offsetof(load_cli, field)
static const char *const ack_names[] = {"pool", "durable", NULL};
static const int ack_values[] = {0, 1};
static const opt_spec load_table[] = {
    {"to", OPT_STRING, F(to), 0, 0, NULL, NULL},
    {"rate", OPT_DOUBLE, F(rate), 0.001, 1e7, NULL, NULL},
    {"tx-size", OPT_U32, F(tx_size), LOADGEN_TX_MIN, 1u << 20, NULL, NULL},
    {"duration", OPT_DOUBLE, F(duration), 0.1, 86400, NULL, NULL},
    {"subscribe", OPT_FLAG, F(subscribe), 0, 0, NULL, NULL},
    {"ack", OPT_CHOICE, F(ack_durable), 0, 0, ack_names, ack_values},
    {"records", OPT_STRING, F(records), 0, 0, NULL, NULL},
    {"client-id", OPT_U64, F(client_id), 0, UINT32_MAX - TARGETS_MAX, NULL, NULL},
    OPT_END,
};
#undef F

/* --to's HOST:PORT list into hosts/ports (at most TARGETS_MAX). Their count, or 0 after a
 * message. */
static uint32_t parse_targets(const char *to, char (*host_store)[HOST_MAX], uint16_t *ports)
{
    char *list = strdup(to);
    if (!list) {
        fprintf(stderr, "aleph load: out of memory\n");
        return 0;
    }
    uint32_t n = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (n == TARGETS_MAX || address_parse(tok, host_store[n], HOST_MAX, &ports[n]) != 0) {
            fprintf(stderr, "aleph load: --to: '%s' is not HOST:PORT\n", tok);
            free(list);
            return 0;
        }
        n++;
    }
    free(list);
    if (!n) fprintf(stderr, "aleph load: --to lists no target\n");
    return n;
}

/* Connects to every target, waiting up to 5 s; the number connected. */
static uint32_t connect_targets(load_run *r, uint32_t n)
{
    loadgen_connect(&r->lg);
    uint64_t t0 = clock_mono_ns();
    while (loadgen_connected(&r->lg) < n && clock_mono_ns() - t0 < 5000000000ull) {
        uint32_t gone = 0;
        for (uint32_t i = 0; i < n; i++) gone += r->lg.targets[i].state == 2;
        if (gone == n) break;
        uv_run(&r->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    return loadgen_connected(&r->lg);
}

/* Subscribes to the first target's ordered output (--subscribe), waiting for the connect. */
static void start_subscription(load_run *r, const char *host, uint16_t port)
{
    r->subscribe = 1;
    frame_reader_init(&r->reader, CLIENT_FRAME_HARD_MAX);
    snprintf(r->sub_host, sizeof r->sub_host, "%s", host);
    r->sub_port = port;
    struct sockaddr_storage addr;
    char err[256];
    if (resolve_address(host, port, &addr, err, sizeof err) != 0) return;
    uv_tcp_init(&r->loop, &r->sub);
    r->sub.data = r;
    r->sub_req.data = r;
    r->sub_state = 1;
    uv_tcp_connect(&r->sub_req, &r->sub, (struct sockaddr *)&addr, sub_connected);
    while (r->sub_state == 1) uv_run(&r->loop, UV_RUN_ONCE);
}

typedef struct load_totals {
    uint64_t sent, ok, full, large, unanswered;
    int kept;
} load_totals;

static load_totals count_totals(const load_run *r)
{
    load_totals t = {.kept = loadgen_kept_rate(&r->lg)};
    for (uint32_t i = 0; i < r->targets; i++) {
        const lg_target *g = &r->lg.targets[i];
        t.sent += g->sent;
        t.ok += g->ok;
        t.full += g->pool_full;
        t.large += g->too_large;
        t.unanswered += g->sent - g->acked;
    }
    return t;
}

static void print_report(load_run *r, const load_cli *o, const load_totals *t)
{
    uint32_t n = r->targets, id = r->client_base;
    printf("aleph load: %u target(s), %.0f tx/s offered, %u-byte txs, %.1f s, client ids %u..%u\n",
           n, o->rate, o->tx_size, o->duration, id, id + n - 1);
    printf("  sent %" PRIu64 " (%.0f tx/s), accepted %" PRIu64 ", refused: pool full %" PRIu64
           ", too large %" PRIu64 ", unanswered %" PRIu64 "\n",
           t->sent, (double)t->sent / o->duration, t->ok, t->full, t->large, t->unanswered);
    if (t->kept) printf("  kept its rate\n");
    else
        printf("  FELL BEHIND: %" PRIu64 " of %" PRIu64 " due transactions were not sent (the "
               "client or the members' client ports could not keep up)\n",
               r->lg.due_total - r->lg.sent_total, r->lg.due_total);
    if (!r->subscribe) return;
    printf("  subscribed to %s:%u: %" PRIu64 " of our transactions ordered (%" PRIu64 " in all)\n",
           r->sub_host, r->sub_port, r->sub_ours, r->sub_total);
    printf("  end-to-end latency (client side): mean %.1f ms, p50 %.1f, p95 %.1f, p99 %.1f\n",
           samples_mean(&r->latency_us) / 1000, samples_percentile(&r->latency_us, 50) / 1000,
           samples_percentile(&r->latency_us, 95) / 1000,
           samples_percentile(&r->latency_us, 99) / 1000);
}

/* --records FILE: the load's figures as JSON (read by aleph analyze). 0, or 1 after a
 * message. */
static int write_records(load_run *r, const load_cli *o, const load_totals *t)
{
    json_t *j = json_object();
    json_object_set_new(j, "offered_tx_s", json_real(o->rate));
    json_object_set_new(j, "tx_size", json_integer(o->tx_size));
    json_object_set_new(j, "duration_s", json_real(o->duration));
    json_object_set_new(j, "client_id", json_integer(r->client_base));
    json_object_set_new(j, "sent", json_integer((json_int_t)t->sent));
    json_object_set_new(j, "accepted", json_integer((json_int_t)t->ok));
    json_object_set_new(j, "refused_pool_full", json_integer((json_int_t)t->full));
    json_object_set_new(j, "refused_too_large", json_integer((json_int_t)t->large));
    json_object_set_new(j, "unanswered", json_integer((json_int_t)t->unanswered));
    json_object_set_new(j, "kept_rate", json_boolean(t->kept));
    json_t *ps = json_array();
    for (size_t s = 0; s < r->lg.per_second_len; s++)
        json_array_append_new(ps, json_integer((json_int_t)r->lg.per_second[s]));
    json_object_set_new(j, "per_second", ps);
    if (r->subscribe) {
        json_object_set_new(j, "ordered_seen", json_integer((json_int_t)r->sub_ours));
        json_object_set_new(
            j, "latency_ms",
            json_pack("{s:f, s:f, s:f, s:f}", "mean", samples_mean(&r->latency_us) / 1000, "p50",
                      samples_percentile(&r->latency_us, 50) / 1000, "p95",
                      samples_percentile(&r->latency_us, 95) / 1000, "p99",
                      samples_percentile(&r->latency_us, 99) / 1000));
    }
    int rc = 0;
    if (json_dump_file(j, o->records, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) != 0) {
        fprintf(stderr, "aleph load: cannot write %s\n", o->records);
        rc = 1;
    }
    json_decref(j);
    return rc;
}

static void load_run_free(load_run *r)
{
    frame_reader_free(&r->reader);
    samples_free(&r->latency_us);
    loadgen_free(&r->lg);
    free(r);
}

/* The load until --duration has passed and the answers are in (or SIGINT). */
static void run_load(load_run *r)
{
    uv_timer_init(&r->loop, &r->control);
    r->control.data = r;
    uv_signal_init(&r->loop, &r->sigint);
    r->sigint.data = r;
    uv_signal_start(&r->sigint, on_sigint, SIGINT);
    r->start_ns = clock_mono_ns();
    loadgen_start(&r->lg);
    uv_timer_start(&r->control, on_control, 20, 20);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
}

int command_load(int argc, char **argv)
{
    load_cli o = {.rate = 1000, .duration = 10, .tx_size = 512, .client_id = UINT64_MAX};
    opts_extra x = {.no_config = 1};
    if (opts_parse(load_table, &o, "load", argc, argv, 1, &x) != 0) return 2;
    if (x.help) {
        load_usage(stdout);
        return 0;
    }
    if (!o.to) {
        fprintf(stderr, "aleph load: --to HOST:PORT[,HOST:PORT...] is required (see aleph load --help)\n");
        return 2;
    }
    uint32_t client_id = (uint32_t)o.client_id;
    if (o.client_id == UINT64_MAX) {
        if (getrandom(&client_id, sizeof client_id, 0) != sizeof client_id)
            client_id = (uint32_t)clock_real_ns();
        client_id %= UINT32_MAX - TARGETS_MAX;
    }
    static char host_store[TARGETS_MAX][HOST_MAX];
    static uint16_t ports[TARGETS_MAX];
    uint32_t n = parse_targets(o.to, host_store, ports);
    if (!n) return 2;
    signal(SIGPIPE, SIG_IGN);
    load_run *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "aleph load: out of memory\n");
        return 2;
    }
    uv_loop_init(&r->loop);
    r->duration_s = o.duration;
    r->client_base = client_id;
    r->targets = n;
    loadgen_init(&r->lg, &r->loop, n, o.rate, o.tx_size, client_id);
    r->lg.on_target_gone = on_gone;
    r->lg.ack_durable = o.ack_durable;
    r->lg.ctx = r;
    for (uint32_t i = 0; i < n; i++) loadgen_target(&r->lg, i, host_store[i], ports[i]);
    if (connect_targets(r, n) == 0) {
        fprintf(stderr, "aleph load: no target could be reached\n");
        loadgen_close(&r->lg);
        uv_run(&r->loop, UV_RUN_DEFAULT);
        uv_loop_close(&r->loop);
        load_run_free(r);
        return 1;
    }
    if (o.subscribe) start_subscription(r, host_store[0], ports[0]);
    run_load(r);
    load_totals t = count_totals(r);
    print_report(r, &o, &t);
    int rc = o.records ? write_records(r, &o, &t) : 0;
    load_run_free(r);
    return rc;
}

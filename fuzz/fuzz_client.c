/* libFuzzer target: the client port (src/node/client.c) as a client reaches it: the input is
 * what one client sends over a real loopback TCP connection to a client port on a libuv
 * loop, in pieces, and the answers are read back. Whatever the bytes, nothing crashes or
 * leaks, the connection ends when the client closes (or at once after an oversized frame),
 * and the answers are exactly what the protocol of client.h says, one per submit, in order
 * (checked against a reference reader here), the submit's own status or 4 once durable.
 *
 * Input: byte 0: piece size (byte 0 % 61 + 1), byte 1: the statuses the node's submit
 * returns, 2 bits per transaction in turn (0 accepted, 1 pool full, 2 too large, 3 halted),
 * byte 2 bit 0: a batch is published to subscribers at the end (the answers are then not
 * compared: the stream shares the connection; nor after a resume request); then the bytes
 * sent. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "base/log.h"
#include "node/client.h"

#define TX_BYTES_MAX 64u

static uv_loop_t loop;
static client_port port;
static node_log quiet_log;
static struct sockaddr_in addr;
static uint8_t statuses;
static uint32_t submits;

static aleph_submit_status submit(void *ctx, const uint8_t *tx, size_t len)
{
    if (len == 0 || len > TX_BYTES_MAX) abort(); /* the port sends only what fits */
    return (aleph_submit_status)((statuses >> (2 * (submits++ % 4))) & 3);
}

static void setup(void)
{
    uv_loop_init(&loop);
    char err[256];
    if (log_open(&quiet_log, "/dev/null", 0, LOG_ERROR, err, sizeof err) != 0) abort();
    client_limits limits;
    client_limits_defaults(&limits);
    if (client_port_start(&port, &loop, "127.0.0.1", 0, &limits, TX_BYTES_MAX, 1u << 20, submit,
                          NULL, NULL, &quiet_log, err, sizeof err) != 0)
        abort();
    int len = sizeof addr;
    if (uv_tcp_getsockname(&port.listener, (struct sockaddr *)&addr, &len) != 0) abort();
}

/* The answers client.h promises for these bytes: one status per transaction frame; *exact
 * is 0 when they cannot be told here (a resume request). */
static size_t reference(const uint8_t *p, size_t len, uint8_t *want, size_t cap, int *closes,
                        int *exact)
{
    size_t n = 0, off = 0;
    uint32_t k = 0;
    int durable = 0;
    *closes = 0;
    *exact = 1;
    while (len - off >= 4 && n < cap) {
        uint32_t h = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
                     (uint32_t)p[off + 3] << 24;
        off += 4;
        if (h == CLIENT_SUBSCRIBE) continue;
        if (h == CLIENT_RESUME) {
            *exact = 0; /* answered from the output files, which this port has none of */
            break;
        }
        if (h == CLIENT_ACK_DURABLE) {
            durable = 1;
            continue;
        }
        if (h > CLIENT_FRAME_HARD_MAX) {
            want[n++] = ALEPH_SUBMIT_TOO_LARGE;
            *closes = 1;
            break;
        }
        if (h == 0) {
            want[n++] = ALEPH_SUBMIT_TOO_LARGE;
            continue;
        }
        if (len - off < h) break; /* never completed */
        off += h;
        if (h > TX_BYTES_MAX) {
            want[n++] = ALEPH_SUBMIT_TOO_LARGE;
            continue;
        }
        uint8_t s = (statuses >> (2 * (k++ % 4))) & 3;
        want[n++] = s == ALEPH_SUBMIT_OK && durable ? CLIENT_STATUS_DURABLE : s;
    }
    return n;
}

/* Reads what the port sent; returns 1 at the end of the connection. */
static int drain(int fd, uint8_t *got, size_t *got_len, size_t cap)
{
    for (;;) {
        uint8_t buf[4096];
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0) return 1;
        if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
        size_t take = (size_t)r < cap - *got_len ? (size_t)r : cap - *got_len;
        memcpy(got + *got_len, buf, take);
        *got_len += take;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 3 || size > 1u << 16) return 0;
    size_t piece = data[0] % 61 + 1;
    statuses = data[1];
    submits = 0;
    int publish = data[2] & 1;
    const uint8_t *send_bytes = data + 3;
    size_t send_len = size - 3;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) abort();
    static uint8_t got[1u << 17];
    size_t got_len = 0;
    int ended = 0;
    for (size_t off = 0; off < send_len && !ended;) {
        size_t n = send_len - off < piece ? send_len - off : piece;
        ssize_t w = send(fd, send_bytes + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) off += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break; /* closed by the port */
        uv_run(&loop, UV_RUN_NOWAIT);
        ended = drain(fd, got, &got_len, sizeof got);
    }
    /* Everything sent is accepted or refused: make the accepted durable, publish, close. */
    for (int i = 0; i < 4; i++) uv_run(&loop, UV_RUN_NOWAIT);
    client_port_durable(&port, port.counters.txs_ok);
    if (publish) {
        static const uint8_t payload[] = {3, 0, 0, 0, 'a', 'b', 'c'};
        aleph_ordered_unit u = {.payload = payload, .payload_len = sizeof payload, .txs_len = 1};
        aleph_batch b = {.units_len = 1, .units = &u};
        client_port_publish(&port, &b, 0, 0);
    }
    shutdown(fd, SHUT_WR);
    for (int spins = 0; !ended; spins++) {
        if (spins > 200000) abort(); /* the port never closed the connection */
        client_port_durable(&port, port.counters.txs_ok); /* what it read late */
        uv_run(&loop, UV_RUN_NOWAIT);
        ended = drain(fd, got, &got_len, sizeof got);
    }
    close(fd);
    for (int i = 0; i < 4 || port.count; i++) {
        if (i > 200000) abort(); /* the port never let the connection go */
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    if (!publish) {
        static uint8_t want[1u << 17];
        int closes, exact;
        size_t want_len = reference(send_bytes, send_len, want, sizeof want, &closes, &exact);
        if (exact && (got_len != want_len || memcmp(got, want, got_len) != 0)) abort();
    }
    return 0;
}

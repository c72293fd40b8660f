/* The client port's answers under --ack durable (src/node/client.c), on a real loopback
 * connection to a port on this process's libuv loop (an ephemeral port, no fixed one):
 *   - transactions sent before the ACK_DURABLE request, in the same write as it and as
 *     transactions after it, are answered 0 at once; those after it 4, and only once
 *     durable (client_port_durable) up to their own number;
 *   - with more answers in one read than one batch of answers holds (4,096), the numbering
 *     of the later durable transactions still counts the earlier accepted ones, so none is
 *     answered durable before it is;
 *   - a frame over the hard limit closes the connection only after the answers still
 *     waiting for durability went out, in order;
 *   - a client that half-closes after its last transaction still gets the answer held for
 *     durability, and then the end.
 * Found by fuzz/fuzz_client. Seen to fail before the fix: in the first case the early
 * transaction's answer waited for durability (no answer at once where 0 was due); in the
 * second only the first 4,096 answers came at once (the rest of the read was taken as
 * durable); the third closed the connection once the first answer was written, with the
 * held answer and the last 2 never sent; the fourth closed at the client's end of input
 * with the answer unsent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

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

typedef struct fixture {
    uv_loop_t loop;
    client_port port;
    node_log log;
    int fd;
} fixture;

static aleph_submit_status accept_all(void *ctx, const uint8_t *tx, size_t len)
{
    return ALEPH_SUBMIT_OK;
}

static fixture *start(void)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    char err[256];
    assert_int_equal(log_open(&f->log, "/dev/null", 0, LOG_ERROR, err, sizeof err), 0);
    client_limits limits;
    client_limits_defaults(&limits);
    assert_int_equal(client_port_start(&f->port, &f->loop, "127.0.0.1", 0, &limits, 1024,
                                       1u << 20, accept_all, NULL, NULL, &f->log, err,
                                       sizeof err),
                     0);
    struct sockaddr_in addr;
    int len = sizeof addr;
    assert_int_equal(uv_tcp_getsockname(&f->port.listener, (struct sockaddr *)&addr, &len), 0);
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->fd >= 0);
    assert_int_equal(connect(f->fd, (struct sockaddr *)&addr, sizeof addr), 0);
    return f;
}

static void stop(fixture *f)
{
    close(f->fd);
    client_port_close(&f->port);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    log_close(&f->log);
    free(f);
}

/* Runs the loop until `want` answer bytes came (or the end; a generous bound in turns, no
 * clock), then a little longer to see that no more come. Returns how many came. */
static size_t answers(fixture *f, uint8_t *got, size_t cap, size_t want, int *ended)
{
    size_t n = 0;
    *ended = 0;
    for (int turns = 0; turns < 200000 && !*ended && (n < want || turns < 2000); turns++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        ssize_t r = recv(f->fd, got + n, cap - n, MSG_DONTWAIT);
        if (r > 0) n += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) *ended = 1;
        if (n >= want && turns > 2000) break;
    }
    return n;
}

static size_t put_tx(uint8_t *p, uint32_t len)
{
    p[0] = (uint8_t)len;
    p[1] = (uint8_t)(len >> 8);
    p[2] = p[3] = 0;
    memset(p + 4, 'x', len);
    return 4 + len;
}

static size_t put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
    return 4;
}

static void test_before_and_after_ack_durable(void **state)
{
    fixture *f = start();
    uint8_t msg[64], got[16];
    size_t len = put_tx(msg, 5);
    len += put_u32(msg + len, CLIENT_ACK_DURABLE);
    len += put_tx(msg + len, 5);
    assert_int_equal(send(f->fd, msg, len, 0), (ssize_t)len);
    int ended;
    size_t n = answers(f, got, sizeof got, 1, &ended);
    assert_int_equal(n, 1); /* the first at once, the second waits */
    assert_int_equal(got[0], ALEPH_SUBMIT_OK);
    client_port_durable(&f->port, f->port.counters.txs_ok);
    n = answers(f, got, sizeof got, 1, &ended);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], CLIENT_STATUS_DURABLE);
    stop(f);
}

static void test_many_answers_then_durable(void **state)
{
    fixture *f = start();
    enum { EARLY = 5000 };
    static uint8_t msg[EARLY * 5 + 16], got[EARLY + 16];
    size_t len = 0;
    for (int i = 0; i < EARLY; i++) len += put_tx(msg + len, 1);
    len += put_u32(msg + len, CLIENT_ACK_DURABLE);
    len += put_tx(msg + len, 1);
    assert_int_equal(send(f->fd, msg, len, 0), (ssize_t)len);
    int ended;
    size_t n = answers(f, got, sizeof got, EARLY, &ended);
    assert_int_equal(n, EARLY);
    for (size_t i = 0; i < n; i++) assert_int_equal(got[i], ALEPH_SUBMIT_OK);
    /* Durable up to the early ones only: the last is not answered yet. */
    assert_int_equal(f->port.counters.txs_ok, EARLY + 1);
    client_port_durable(&f->port, EARLY);
    n = answers(f, got, sizeof got, 0, &ended);
    assert_int_equal(n, 0);
    client_port_durable(&f->port, EARLY + 1);
    n = answers(f, got, sizeof got, 1, &ended);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], CLIENT_STATUS_DURABLE);
    stop(f);
}

static void test_oversized_frame_after_held_answer(void **state)
{
    fixture *f = start();
    uint8_t msg[64], got[16];
    size_t len = put_u32(msg, CLIENT_ACK_DURABLE);
    len += put_tx(msg + len, 0); /* empty: refused, answered at once */
    len += put_tx(msg + len, 5);
    len += put_u32(msg + len, CLIENT_FRAME_HARD_MAX + 1);
    assert_int_equal(send(f->fd, msg, len, 0), (ssize_t)len);
    int ended;
    size_t n = answers(f, got, sizeof got, 1, &ended);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], ALEPH_SUBMIT_TOO_LARGE);
    assert_false(ended); /* the last 2 waits behind the held answer, and so does the close */
    client_port_durable(&f->port, f->port.counters.txs_ok);
    n = answers(f, got, sizeof got, 2, &ended);
    assert_int_equal(n, 2);
    assert_int_equal(got[0], CLIENT_STATUS_DURABLE);
    assert_int_equal(got[1], ALEPH_SUBMIT_TOO_LARGE);
    n = answers(f, got, sizeof got, 0, &ended);
    assert_true(ended); /* then closed */
    stop(f);
}

static void test_half_close_waits_for_held_answers(void **state)
{
    fixture *f = start();
    uint8_t msg[64], got[16];
    size_t len = put_u32(msg, CLIENT_ACK_DURABLE);
    len += put_tx(msg + len, 5);
    assert_int_equal(send(f->fd, msg, len, 0), (ssize_t)len);
    assert_int_equal(shutdown(f->fd, SHUT_WR), 0); /* done sending, waiting for the answer */
    int ended;
    size_t n = answers(f, got, sizeof got, 0, &ended);
    assert_int_equal(n, 0);
    assert_false(ended);
    client_port_durable(&f->port, f->port.counters.txs_ok);
    n = answers(f, got, sizeof got, 1, &ended);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], CLIENT_STATUS_DURABLE);
    n = answers(f, got, sizeof got, 0, &ended);
    assert_true(ended);
    stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before_and_after_ack_durable),
        cmocka_unit_test(test_many_answers_then_durable),
        cmocka_unit_test(test_oversized_frame_after_held_answer),
        cmocka_unit_test(test_half_close_waits_for_held_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

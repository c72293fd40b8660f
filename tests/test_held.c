/* The node's queue of messages held until the backup is durable (src/node/held.c): frames
 * come out in order, only once their persist sequence is durable, never early; over the
 * byte bound a new frame is dropped and counted (the caller does not send it), and the
 * bytes come back as frames are released. Checked to fail with the bound test removed from
 * held_push (the 65th frame is kept) and with release ignoring the sequence (frames of
 * sequence 2 come out at durable 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/held.h"

typedef struct sent_log {
    uint32_t to[1024];
    size_t len;
} sent_log;

static void record(void *ctx, uint32_t to, out_frame *f)
{
    sent_log *log = ctx;
    assert_true(f->refs >= 1);
    log->to[log->len++] = to;
}

static void held_in_order_and_bounded(void **state)
{
    (void)state;
    uint8_t msg[1000];
    memset(msg, 7, sizeof msg);
    out_frame *probe = out_frame_new(msg, sizeof msg, 0);
    size_t frame_bytes = probe->len;
    out_frame_unref(probe);
    held_queue q;
    held_init(&q, 64 * frame_bytes);
    sent_log log = {.len = 0};
    for (uint32_t i = 0; i < 64; i++) {
        out_frame *f = out_frame_new(msg, sizeof msg, 0);
        assert_int_equal(held_push(&q, i < 32 ? 1 : 2, i, f), 0);
        out_frame_unref(f); /* the queue keeps its own reference */
    }
    out_frame *extra = out_frame_new(msg, sizeof msg, 1);
    assert_int_equal(held_push(&q, 2, 99, extra), -1);
    out_frame_unref(extra);
    assert_int_equal(q.dropped, 1);
    assert_int_equal(q.bytes, 64 * frame_bytes);

    held_release(&q, 0, record, &log);
    assert_int_equal(log.len, 0); /* nothing durable yet: nothing goes out */
    held_release(&q, 1, record, &log);
    assert_int_equal(log.len, 32);
    for (uint32_t i = 0; i < 32; i++) assert_int_equal(log.to[i], i);
    /* Room again for what was released. */
    out_frame *f = out_frame_new(msg, sizeof msg, 0);
    assert_int_equal(held_push(&q, 3, 64, f), 0);
    out_frame_unref(f);
    held_release(&q, 3, record, &log);
    assert_int_equal(log.len, 65);
    for (uint32_t i = 32; i < 65; i++) assert_int_equal(log.to[i], i);
    assert_int_equal(q.bytes, 0);
    assert_int_equal(q.len_max, 64);
    held_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(held_in_order_and_bounded)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The backup's persist sequence numbers: what backup_submit returns is not durable until
 * on_durable reports it, whether the write starts at once (idle worker) or waits behind one
 * in flight. node.c holds every message sent after a persist until then ("durable before
 * sent"), so a number that is already durable would let a unit go out before its fdatasync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

#include "node/backup.h"

static uint64_t durable;

static void on_durable(void *ctx, uint64_t seq)
{
    durable = seq;
}

static void run_until_durable(uv_loop_t *loop, backup_file *b, uint64_t seq)
{
    for (int i = 0; i < 100000 && durable < seq; i++) uv_run(loop, UV_RUN_ONCE);
    assert_true(durable >= seq);
    assert_false(backup_busy(b));
}

static void test_submitted_is_not_yet_durable(void **state)
{
    char dir[] = "/tmp/aleph-test-backup.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/backup-0.bin", dir);
    backup_file b;
    backup_header h = {.member = 1, .session = 2};
    assert_int_equal(backup_open(&b, dir, path, &h, err, sizeof err), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    durable = 0;
    backup_start(&b, &loop, on_durable, NULL, NULL);
    uint8_t unit[100] = {1, 2, 3};
    aleph_blob blob = {.data = unit, .len = sizeof unit};

    /* idle: the write starts at once */
    uint64_t s1 = backup_submit(&b, &blob, 1);
    assert_true(s1 > b.durable_seq);
    run_until_durable(&loop, &b, s1);

    uint64_t s2 = backup_submit(&b, &blob, 1);
    assert_true(s2 > s1);
    assert_true(s2 > b.durable_seq);
    /* behind a write in flight: grouped into the next one */
    uint64_t s3 = backup_submit(&b, &blob, 1);
    uint64_t s4 = backup_submit(&b, &blob, 1);
    assert_true(s3 > s2 && s4 > s3);
    assert_true(s4 > b.durable_seq);
    run_until_durable(&loop, &b, s4);
    assert_int_equal(b.units, 4);

    backup_close(&b);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submitted_is_not_yet_durable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The backup's persist sequence numbers: what backup_submit returns is not durable until
 * on_durable reports it, whether the write starts at once (idle worker) or waits behind one
 * in flight. node.c holds every message sent after a persist until then ("durable before
 * sent"), so a number that is already durable would let a unit go out before its fdatasync.
 * The syncs are counted through the backup's test seam (backup_sync_fn) and the file is read
 * back. Checked to fail with the sync call removed from write_and_sync (syncs 0) and with a
 * record's byte changed before the write (the read-back record differs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "node/backup.h"

static uint64_t durable;
static int syncs_called; /* written on the worker thread, read after it reported */

/* The real fdatasync, counted (backup_sync_fn: the test seam). */
static int counting_sync(int fd)
{
    syncs_called++;
    return fdatasync(fd);
}

typedef struct read_back {
    int records;
    uint8_t first[100];
} read_back;

static int on_record(void *ctx, uint8_t kind, const uint8_t *body, size_t len, char *err,
                     size_t cap)
{
    read_back *rb = ctx;
    assert_int_equal(kind, BACKUP_UNIT);
    assert_int_equal(len, 100);
    /* Record k holds the blob as it was at its k-th submit (byte 3 = k). */
    assert_int_equal(body[3], rb->records + 1);
    if (rb->records == 0) memcpy(rb->first, body, len);
    rb->records++;
    return 0;
}

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
    syncs_called = 0;
    backup_sync_fn = counting_sync;
    backup_start(&b, &loop, on_durable, NULL, NULL);
    uint8_t unit[100] = {1, 2, 3};
    aleph_blob blob = {.data = unit, .len = sizeof unit};

    /* idle: the write starts at once */
    unit[3] = 1;
    uint64_t s1 = backup_submit(&b, &blob, 1);
    assert_true(s1 > b.durable_seq);
    run_until_durable(&loop, &b, s1);
    assert_int_equal(syncs_called, 1); /* durable means synced */

    unit[3] = 2;
    uint64_t s2 = backup_submit(&b, &blob, 1);
    assert_true(s2 > s1);
    assert_true(s2 > b.durable_seq);
    /* behind a write in flight: grouped into the next one */
    unit[3] = 3;
    uint64_t s3 = backup_submit(&b, &blob, 1);
    unit[3] = 4;
    uint64_t s4 = backup_submit(&b, &blob, 1);
    assert_true(s3 > s2 && s4 > s3);
    assert_true(s4 > b.durable_seq);
    run_until_durable(&loop, &b, s4);
    assert_int_equal(b.units, 4);
    /* Every durable report came after a sync: s1 alone, s2 alone, s3 and s4 together. */
    assert_int_equal(syncs_called, 3);
    assert_int_equal(b.syncs, 3);

    backup_close(&b);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    backup_sync_fn = fdatasync;

    /* The file holds the four records, in submit order, each the blob as it was submitted. */
    read_back rb = {0};
    backup_read_info info;
    assert_int_equal(backup_read(path, &h, on_record, &rb, &info, err, sizeof err), 0);
    assert_int_equal(rb.records, 4);
    assert_int_equal(info.records, 4);
    assert_false(info.cut);
    unit[3] = 1;
    assert_memory_equal(rb.first, unit, sizeof unit);
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

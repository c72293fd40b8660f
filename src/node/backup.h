/* The member's backup (DATA_DIR/backup.bin): every own unit, appended as u32 little-endian
 * length + the unit's bytes and made durable (fdatasync) before the unit is sent anywhere.
 *
 * Writing and syncing happen on a libuv worker thread so that the event loop never waits for
 * the disk (a sync can take tens of milliseconds while other files are being written back).
 * Persists submitted while a sync is running are written together by the next one (group
 * commit). The node holds back every message it produces after a persist until that persist
 * is durable (node.c), which keeps "durable before sent" without blocking the loop.
 *
 * Restart from the backup is not implemented yet (the core has no way to load one), so a
 * node refuses to start on a non-empty backup: starting afresh with the same key could sign
 * a second unit for a round it already signed, which is a fork. */
#ifndef ALEPH_NODE_BACKUP_H
#define ALEPH_NODE_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aleph/aleph.h"

typedef void (*backup_durable_fn)(void *ctx, uint64_t durable_seq);
typedef void (*backup_failed_fn)(void *ctx, int err);

typedef struct backup_batch {
    uint8_t *data;
    size_t len, cap;
    uint64_t units;
    uint64_t seq;          /* highest persist sequence number in it */
} backup_batch;

typedef struct backup_file {
    int fd;
    uv_loop_t *loop;
    uv_work_t work;
    int in_flight;
    int work_error;
    uint64_t work_sync_ns;
    backup_batch pending, writing;
    uint64_t submitted_seq, durable_seq;
    backup_durable_fn on_durable;
    backup_failed_fn on_failed;
    void *ctx;
    uint64_t units, bytes, syncs;
    uint64_t sync_ns_total, sync_ns_max;
    int failed;
} backup_file;

int backup_open(backup_file *b, const char *path, char *err, size_t cap);
void backup_start(backup_file *b, uv_loop_t *loop, backup_durable_fn on_durable,
                  backup_failed_fn on_failed, void *ctx);
/* Copies the blobs for writing; returns the persist's sequence number (durable once
 * on_durable reports a number at least as high). */
uint64_t backup_submit(backup_file *b, const aleph_blob *blobs, size_t n);
/* Whether a write is still going on (the loop keeps running until it ends). */
int backup_busy(const backup_file *b);
void backup_close(backup_file *b);

#endif

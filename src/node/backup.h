/* The member's backup (DATA_DIR/backup.bin): every own unit, appended as u32 little-endian
 * length + the unit's bytes and made durable (fdatasync) before the unit is sent anywhere,
 * one fdatasync per step however many units it persisted. Restart from the backup is not
 * implemented yet (the core has no way to load one), so a node refuses to start on a
 * non-empty backup: starting afresh with the same key could sign a second unit for a round
 * it already signed, which is a fork. */
#ifndef ALEPH_NODE_BACKUP_H
#define ALEPH_NODE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"

typedef struct backup_file {
    int fd;
    uint64_t units, bytes, syncs;
    uint64_t sync_ns_total, sync_ns_max;
} backup_file;

int backup_open(backup_file *b, const char *path, char *err, size_t cap);
/* Appends the blobs and syncs once; -1 with errno on failure. */
int backup_append(backup_file *b, const aleph_blob *blobs, size_t n);
void backup_close(backup_file *b);

#endif

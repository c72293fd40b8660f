/* A simulated member's backup disk and the messages held until it is durable, as the node
 * does it (src/node/backup.c, node.c): the records (units, alerts, certificates) an update
 * says to persist are appended, in order, to one log; one sync at a time makes everything appended before it started durable
 * after the fsync latency (group commit: appends made while a sync runs wait for the next);
 * every message produced after an update with persist_before_send waits until that update's
 * records are durable, then goes out in order.
 *
 * A crash keeps the durable records and a seeded prefix of the rest (the OS may have written
 * some of what was not yet synced; a torn record is cut by the reader), and loses every held
 * message (nothing that waited for the disk was ever sent).
 *
 * With epochs the log stands for the backup files, one per epoch (src/node/backup.c): an
 * epoch marker record (SIM_DISK_EPOCH: the new file's header and EPOCH_CARRY record) starts
 * the next file, appended after the old epoch's last records, in the node's write order. Once
 * the marker is durable the files beyond the newest epochs_kept finished ones are deleted
 * (their records dropped); a crash before that keeps the old files, and with them, when the
 * OS wrote it, the new one. A restart restores the finished epochs' files into the kept
 * chain (aleph_member_restore_finished) and the newest, from its marker on
 * (sim_disk_epoch_start), as the current epoch. */
#ifndef ALEPH_SIM_DISK_H
#define ALEPH_SIM_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"
#include "sim_rng.h"

/* The kind of an epoch marker record: body u32 LE epoch, u64 LE epoch session, the carry. */
#define SIM_DISK_EPOCH ((aleph_persist_kind)0x100)
#define SIM_DISK_EPOCH_HEADER 12u

typedef struct sim_disk_record {
    uint8_t *data;
    uint32_t len;
    aleph_persist_kind kind; /* a unit, an alert or a certificate, as the update said */
} sim_disk_record;

typedef struct sim_disk_held {
    uint64_t wait_len; /* records that must be durable first */
    uint32_t to;
    uint32_t len;
    uint8_t *data;
} sim_disk_held;

typedef struct sim_disk {
    sim_disk_record *records;
    size_t len, cap;      /* appended */
    size_t durable;       /* records [0, durable) survive any crash */
    size_t syncing;       /* a sync in flight covers [0, syncing); 0: none */
    uint64_t hold_until;  /* messages wait until this many records are durable */
    sim_disk_held *held;  /* FIFO */
    size_t held_head, held_len, held_cap;
    uint32_t finished_kept; /* finished epochs' files kept besides the newest (epochs_kept) */
    uint32_t epoch_durable; /* the epoch of the newest durable marker (0: none) */
    /* counters */
    uint64_t syncs, held_total, lost_records, lost_held, epoch_files_deleted;
} sim_disk;

void sim_disk_init(sim_disk *d);
void sim_disk_free(sim_disk *d);

/* Appends an update's persists; when before_send, later messages wait for them. Returns 0,
 * -1 when out of memory. */
int sim_disk_append(sim_disk *d, const aleph_blob *blobs, size_t n, int before_send);
/* 1 when a message produced now must wait (sim_disk_hold). */
int sim_disk_must_hold(const sim_disk *d);
int sim_disk_hold(sim_disk *d, uint32_t to, const uint8_t *data, size_t len);
/* Starts a sync when none runs and records are not durable: returns 1 (the caller completes
 * it with sim_disk_synced after the fsync latency), else 0. */
int sim_disk_sync_start(sim_disk *d);
/* The sync in flight is done; returns the first record that became durable (the caller
 * looks at [that, d->durable)). */
size_t sim_disk_synced(sim_disk *d);
/* The next held message whose records are durable, in order: returns 1 and fills *out (the
 * caller frees out->data), 0 when none. */
int sim_disk_release(sim_disk *d, sim_disk_held *out);
/* The member moved to `epoch` (session, carry): the marker of its new backup file. Returns
 * 0, -1 when out of memory. */
int sim_disk_begin_epoch(sim_disk *d, uint32_t epoch, uint64_t session, const uint8_t *carry,
                         size_t carry_len);
/* The newest file's start among the records: the index of the last marker (its epoch, session
 * and carry filled in), or SIZE_MAX when there is none (epoch 0, from records[0]). */
size_t sim_disk_epoch_start(const sim_disk *d, uint32_t *epoch, uint64_t *session,
                            const uint8_t **carry, size_t *carry_len);
/* The newest durable marker's file is complete: the files older than it and the
 * `finished_kept` before it are deleted (their records dropped, the indices above shifted
 * down); epoch_durable is its epoch. */
void sim_disk_delete_old_files(sim_disk *d, uint32_t finished_kept);
/* The process died: keeps the durable records and a random prefix (maybe empty) of the
 * others; drops held messages and the sync in flight. */
void sim_disk_crash(sim_disk *d, sim_rng *rng);
/* The process exited: every record stays (the OS has them), held messages are dropped. */
void sim_disk_exit(sim_disk *d);
/* The backup was deleted: no record left. */
void sim_disk_wipe(sim_disk *d);

#endif

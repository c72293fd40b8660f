/* The member's backup: DATA_DIR/backup-EPOCH.bin (EPOCH a decimal u32; 0 until epochs), one
 * append-only log per epoch, little-endian:
 *
 *   header (40 bytes): "ALEPHBK1" | u32 format version (2) | u32 member index |
 *                      u64 committee session | u32 epoch | u64 epoch session |
 *                      u32 checksum of the 36 bytes before it
 *   record:            u32 body length | u32 checksum | u8 kind | body
 *
 * A checksum is the first 4 bytes (little-endian) of BLAKE2b-256 over the record's length,
 * kind and body (the header's: over its first 36 bytes), except for a UNIT record whose body
 * is long enough to be a unit (aleph_unit_signed_parts): over its length, kind, the unit's
 * hash (what its signature covers, computed from the body) and its last 64 bytes (the
 * signature). The writer takes the hash from the core (aleph_blob.hash), so that no unit is
 * hashed twice; the reader computes it from the bytes it read, so that a record's every byte
 * is still checked (docs/PROTOCOL.md, "The backup file"). Format version 1 (a checksum over
 * every UNIT body) is refused with its version named. Kinds: UNIT (a unit's bytes: every
 * unit the member added to its DAG, in DAG order, parents before children), EPOCH_CARRY
 * (first in an epoch's file after epoch 0: the own transactions carried into the epoch, in
 * the payload format; empty when none), ALERT (an alert the member keeps: its own, one it
 * signed, or one a certificate showed complete) and ALERT_CERT (the certificate of a kept
 * alert), both in the order the core persisted them, before the units they let in. Readers
 * refuse kinds they do not know.
 *
 * Writing and syncing happen on a libuv worker thread so that the event loop never waits for
 * the disk (a sync can take tens of milliseconds while other files are being written back).
 * Persists submitted while a sync is running are written together by the next one (group
 * commit). The node holds back every message it produces after a persist that holds an own
 * unit until that persist is durable (node.c), which keeps "durable before sent" without
 * blocking the loop. A new file is created with its header, fsynced, and the data dir is
 * fsynced too, so that the file's directory entry survives a power loss.
 *
 * Reading: a truncated last record (power loss mid-write), or a last record whose checksum
 * fails and that ends exactly at the end of the file (a torn write), is cut off with
 * ftruncate and reported; a bad record anywhere else is an error naming the file and the
 * byte offset, never skipped. A record that was never completely written was never synced,
 * so no unit in it was ever sent. */
#ifndef ALEPH_NODE_BACKUP_H
#define ALEPH_NODE_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aleph/aleph.h"

#define BACKUP_MAGIC "ALEPHBK1"
#define BACKUP_VERSION 2u
#define BACKUP_HEADER_BYTES 40u
#define BACKUP_RECORD_HEADER_BYTES 9u
#define BACKUP_RECORD_BYTES_MAX (ALEPH_MESSAGE_BYTES_MAX)

/* BACKUP_SWITCH and BACKUP_UNIT_SUMMED are never on disk: in the write queue the first marks
 * where the next epoch's file begins (backup_begin_epoch), the second a UNIT record whose
 * checksum backup_submit has written (from the unit's hash; the worker writes BACKUP_UNIT). */
enum backup_kind {
    BACKUP_UNIT = 1,
    BACKUP_EPOCH_CARRY = 2,
    BACKUP_ALERT = 3,      /* ALEPH_PERSIST_ALERT: an alert body, as the core keeps it */
    BACKUP_ALERT_CERT = 4, /* ALEPH_PERSIST_ALERT_CERT: a certificate body */
    BACKUP_UNIT_SUMMED = 0xFD,
    BACKUP_SWITCH = 0xFE,
};
/* The core's record kinds on disk and back: the record kind; 0 with *out, or -1 when kind is
 * not one the core persists. */
uint8_t backup_kind_of(aleph_persist_kind kind);
int backup_kind_persist(uint8_t kind, aleph_persist_kind *out);
#define BACKUP_SWITCH_BYTES 16u /* u32 epoch | u64 epoch session | int output fd */

typedef struct backup_header {
    uint32_t version, member, epoch;
    uint64_t session, epoch_session;
} backup_header;

/* One record read back; returns 0, or -1 with a reason in err (the reader adds the file and
 * the offset). */
typedef int (*backup_record_fn)(void *ctx, uint8_t kind, const uint8_t *body, size_t len,
                                char *err, size_t cap);

typedef struct backup_read_info {
    uint64_t records, bytes;     /* complete records read (bytes: the file after the cut) */
    int cut;                     /* a torn tail was cut off */
    backup_header header;        /* the file's */
    uint64_t cut_offset, cut_bytes;
} backup_read_info;

/* Reads DATA_DIR's backup file at path: checks its header against `expect` (member and
 * committee session; a file of another member or committee is refused with one line), then
 * hands every record to fn in order. Returns 1 when there is no file (or an empty one): a
 * first start; 0 when read; -1 with err set otherwise. */
int backup_read(const char *path, const backup_header *expect, backup_record_fn fn, void *ctx,
                backup_read_info *info, char *err, size_t cap);
/* Work on the records read ahead, in batches of up to BACKUP_AHEAD_RECORDS records or about
 * BACKUP_AHEAD_BYTES: `units` gets a batch's UNIT records (bodies, lengths; the memory stays
 * as it is until `end`) before fn sees any of them; `hash` may then give a UNIT record's hash
 * (of its signed part at exactly that body) for its checksum; `end` follows the batch's last
 * record given to fn. Each may be NULL. */
typedef struct backup_ahead {
    int (*units)(void *ctx, const uint8_t *const *bodies, const size_t *lens, size_t n);
    int (*hash)(void *ctx, const uint8_t *body, size_t signed_len, uint8_t out[ALEPH_HASH_BYTES]);
    void (*end)(void *ctx);
    void *ctx;
} backup_ahead;
#define BACKUP_AHEAD_RECORDS 512u
#define BACKUP_AHEAD_BYTES (32u << 20)
/* backup_read with `ahead` (NULL: none), same checks, same order, same errors. */
int backup_read_ahead(const char *path, const backup_header *expect, backup_record_fn fn,
                      void *ctx, const backup_ahead *ahead, backup_read_info *info, char *err,
                      size_t cap);

/* The checksum of a record (length, kind, body): a UNIT record long enough to be a unit is
 * hashed here (its signed part) to find its unit hash. */
uint32_t backup_record_checksum(uint32_t len, uint8_t kind, const uint8_t *body);
/* A UNIT record's checksum from its unit hash and signature (its last ALEPH_SIGNATURE_BYTES):
 * equal to backup_record_checksum when hash is the hash of the body's signed part. */
uint32_t backup_unit_checksum(uint32_t len, const uint8_t hash[ALEPH_HASH_BYTES],
                              const uint8_t *signature);
/* The file header for h (format BACKUP_VERSION; h->version is not read), checksum included. */
void backup_header_encode(const backup_header *h, uint8_t out[BACKUP_HEADER_BYTES]);

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
    char dir[4096], path[4200];  /* the current file (the worker changes it at a switch) */
    backup_header header;
    uint64_t switches, files_deleted;
    uint32_t finished_kept;      /* finished epochs' files kept beside the current one (the
                                    core's epochs_kept: a restart restores them to answer
                                    members still in those epochs); set after backup_open */
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

/* Opens the backup for appending; creates it with its header when it does not exist (or is
 * empty), fsyncs it and the directory `dir` that holds it. Call backup_read first on an
 * existing file: it cuts a torn tail. */
int backup_open(backup_file *b, const char *dir, const char *path, const backup_header *h,
                char *err, size_t cap);
void backup_start(backup_file *b, uv_loop_t *loop, backup_durable_fn on_durable,
                  backup_failed_fn on_failed, void *ctx);
/* Copies the blobs for writing as records of their kinds; returns the persist's sequence number (durable once
 * on_durable reports a number at least as high). */
uint64_t backup_submit(backup_file *b, const aleph_blob *blobs, size_t n);
/* The next epoch begins (PROTOCOL.md, "Epochs"): in the write order, after everything
 * submitted so far, the worker makes the current file durable and output_fd (a dup of the
 * output's descriptor, closed by the worker; -1: none) too, creates DIR/backup-EPOCH.bin
 * with its header and one EPOCH_CARRY record (the carried transactions, possibly none),
 * syncs it and the directory, then deletes the old file. Later submits go to the new file.
 * Returns the switch's sequence number (durable like a persist). */
uint64_t backup_begin_epoch(backup_file *b, uint32_t epoch, uint64_t epoch_session,
                            const uint8_t *carry, size_t carry_len, int output_fd);
/* Whether a write is still going on (the loop keeps running until it ends). */
int backup_busy(const backup_file *b);
void backup_close(backup_file *b);

/* The call that makes written records durable: fdatasync. A test seam, and nothing more: a
 * test may point it, before backup_start, at a function that calls fdatasync and records or
 * delays it (tests/test_backup_seq.c counts the syncs; tests/test_node_hostile.c slows them
 * to show that no own unit leaves a node before its record is synced). Called on the worker
 * thread; returns 0 or -1 with errno, like fdatasync. */
extern int (*backup_sync_fn)(int fd);

#endif

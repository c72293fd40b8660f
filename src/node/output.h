/* The ordered output of a member: DATA_DIR/output.bin, the file being written, and the
 * rotated files DATA_DIR/output-SEQ.bin before it (SEQ: the global batch sequence number of
 * the file's first batch, 20 decimal digits). Append-only, binary, little-endian.
 *
 *   file header (72 bytes): "ALEPHOUT" | u32 version (2) | u32 member index | u64 session |
 *                u64 first seq | u32 mode (0 full, 1 chain) | u32 0 | 32-byte chain value
 *                before the file's first batch (zeros before batch 0)
 *   per batch (120 bytes):  u32 magic 0x48435442 ("BTCH") | u64 seq (global batch sequence:
 *                0, 1, 2, ... across epochs and files) | u32 epoch | u32 index of the batch
 *                within its epoch | u32 head round | u32 head creator | 32-byte head hash |
 *                u32 head depth | u64 output time (CLOCK_REALTIME ns, when the member
 *                delivered the batch) | u32 unit count | u32 transaction count | u64 payload
 *                bytes | 32-byte chain value after this batch
 *   full mode, per unit of the batch: u32 round | u32 creator | 32-byte unit hash |
 *                u32 payload length | payload = the unit's transactions, each u32 length +
 *                bytes. Chain mode writes no units: the batch header alone.
 *
 * The chain: c(seq) = BLAKE2b-256(c(seq-1) | u32 epoch | u32 index | u32 head round | u32
 * head creator | u32 unit count | head hash | per unit: u32 round | u32 creator | u32
 * payload length | unit hash). Unit hashes cover the payloads, so two members with the same
 * chain value at a seq output the same transactions up to it: a member in chain mode records
 * enough for the agreement check (aleph local's default for members other than the first)
 * at ~120 bytes per batch. Readers recompute the chain of full-mode batches and refuse a
 * mismatch.
 *
 * Version 1 files (24-byte header "ALEPHOUT" | u32 1 | u32 member | u64 session; 60-byte
 * batch headers without seq, epoch, index, counts and chain) are still read (old run
 * directories); seq is then the position in the file and the epoch 0.
 *
 * Units come in the batch's order (round, then hash). The output time lets end-to-end
 * latency be computed from a transaction's embedded send time on one host. */
#ifndef ALEPH_NODE_OUTPUT_H
#define ALEPH_NODE_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sodium.h>

#include "aleph/aleph.h"

#define OUTPUT_MAGIC "ALEPHOUT"
#define OUTPUT_VERSION 2u
#define OUTPUT_FILE_HEADER_BYTES 72u
#define OUTPUT_V1_FILE_HEADER_BYTES 24u
#define OUTPUT_BATCH_MAGIC 0x48435442u
#define OUTPUT_BATCH_HEADER_BYTES 120u
#define OUTPUT_V1_BATCH_HEADER_BYTES (4u + 4u + 4u + 32u + 4u + 8u + 4u)
#define OUTPUT_UNIT_HEADER_BYTES (4u + 4u + 32u + 4u)
#define OUTPUT_CHAIN_BYTES 32u
#define OUTPUT_NAME "output.bin"

typedef enum output_mode { OUTPUT_FULL = 0, OUTPUT_CHAIN = 1 } output_mode;

/* What to write and how much to keep. */
typedef struct output_policy {
    output_mode mode;
    uint64_t rotate_bytes;  /* a new file once the current one holds this many (0: never) */
    int rotate_epoch;       /* a new file at the first batch of every epoch */
    uint32_t keep_files;    /* rotated files kept, newest first (0: all) */
    uint64_t keep_bytes;    /* bytes of rotated files kept, newest first (0: all) */
} output_policy;

/* A batch's place in the output. */
typedef struct output_position {
    int any;                /* 0: nothing written yet */
    uint64_t seq;
    uint32_t epoch, index, round;
    uint8_t head_hash[32];
} output_position;

typedef struct output_file {
    int fd;
    char dir[4096];
    output_policy policy;
    uint32_t member;
    uint64_t session;
    uint8_t *buf;            /* headers of the batch being written */
    size_t len, cap;
    struct iovec *iov;       /* headers and payloads (in place, not copied) */
    int iov_len;
    uint64_t file_first_seq, file_bytes; /* the current file */
    uint64_t written_kick, written_drop; /* of the current file: handed to writeback up to
                                          * kick, dropped from the page cache up to drop */
    uint64_t next_seq;       /* of the next batch written */
    uint8_t chain[32];       /* after the last batch written */
    output_position last;    /* the last batch in the files (restart: skip up to it) */
    uint32_t cur_epoch, cur_index; /* the next batch the member hands over */
    uint64_t batches, units, bytes; /* written since open */
    uint64_t rotations, files_deleted, bytes_deleted;
    int failed;              /* a write failed: errno_saved tells why */
    int errno_saved;
    /* restart: what the files held when opened */
    uint64_t resumed_batches;     /* batches of the current file kept */
    uint64_t resume_cut_bytes;    /* a torn tail cut off */
    int resume_corrupt;           /* what was cut did not parse (not only incomplete) */
} output_file;

/* Creates DIR/output.bin, or continues the files of the same member and committee (a
 * restart): the current file's torn tail is cut, the last batch becomes `last`, and the
 * sequence and the chain go on from it (from the newest rotated file when output.bin is
 * missing: a crash between a rotation's rename and the new file). A file of another member
 * or committee, or of an older format, is refused with one line. Applies the retention. */
int output_open(output_file *o, const char *dir, uint32_t member, uint64_t session,
                const output_policy *policy, char *err, size_t cap);

enum { OUTPUT_WRITTEN = 0, OUTPUT_HELD = 1, OUTPUT_MISMATCH = -1 };
/* Appends one batch of `epoch` (its index within the epoch is counted here: the member
 * hands every batch of an epoch over in order, a restarted one from the epoch's first
 * again). OUTPUT_HELD: the files already hold it (a restart re-derives them), nothing
 * written; OUTPUT_MISMATCH: they hold a different batch at its place (never, while
 * ordering is deterministic and the backup is this member's). Headers are gathered in a
 * buffer and written with the payloads, which are not copied, in one writev; the file
 * rotates after the batch when the policy says so. `gap` is set when the batch does not
 * follow the last one held (batches lost for good in these files). */
int output_batch(output_file *o, const aleph_batch *b, uint32_t epoch, uint64_t output_real_ns,
                 int *gap);
/* Writes what is buffered; -1 when a write failed. */
int output_flush(output_file *o);
/* Makes everything written durable (fdatasync); -1 on failure. */
int output_sync(output_file *o);
void output_close(output_file *o);
/* Path of the rotated file whose first batch is seq. */
void output_rotated_path(char *out, size_t cap, const char *dir, uint64_t first_seq);
/* The rotated files of dir, by first seq ascending (malloc'd; *n of them). 0, or -1. */
int output_rotated_list(const char *dir, uint64_t **first_seqs, size_t *n);

/* ---- the chain (output_chain.c) -------------------------------------------------------------- */

typedef crypto_generichash_state output_chain_state;

void output_chain_begin(output_chain_state *st, const uint8_t prev[32], uint32_t epoch,
                        uint32_t index, uint32_t round, uint32_t head_creator, uint32_t units,
                        const uint8_t head_hash[32]);
void output_chain_unit(output_chain_state *st, uint32_t round, uint32_t creator,
                       uint32_t payload_len, const uint8_t hash[32]);
void output_chain_end(output_chain_state *st, uint8_t out[32]);

/* ---- reading (aleph local, aleph analyze, subscribers, tests): output_read.c ---------------- */

typedef struct output_batch_view {
    uint64_t seq;
    uint32_t epoch, index;
    uint32_t round, head_creator, head_depth, units;
    uint32_t txs;                   /* transactions (version 1: counted) */
    uint64_t payload_bytes;
    const uint8_t *head_hash;
    const uint8_t *chain;           /* 32 bytes: after this batch */
    int has_units;                  /* full mode: the units follow */
    uint64_t output_real_ns;
} output_batch_view;

struct output_unit_view {
    uint32_t round, creator;
    const uint8_t *hash;
    const uint8_t *payload;
    uint32_t payload_len;
};
typedef struct output_unit_view output_unit_view;

/* Follows one growing output file: each call reads what was appended since the last one and
 * hands over every complete batch. */
typedef struct output_tail {
    FILE *f;
    uint8_t *buf;
    size_t len, cap, pos;  /* buf[pos..len) read but not handed over */
    int header_done;
    uint32_t version;
    uint32_t member;
    uint64_t session;
    uint64_t first_seq;
    output_mode mode;
    uint8_t chain[32];     /* after the last batch handed over */
    int corrupt;           /* the file did not parse: stops reading */
    char why[160];         /* what did not parse */
    int at_eof;            /* the last read found no more bytes */
    uint64_t batches;
    uint64_t consumed;     /* file bytes up to the end of the last complete batch */
    struct output_unit_view *units; /* scratch for one batch */
    size_t units_cap;
} output_tail;

typedef void (*output_batch_fn)(void *ctx, const output_batch_view *b,
                                const output_unit_view *units);

int output_tail_open(output_tail *t, const char *path);
/* Hands over at most max batches (0: all there are). Returns the number handed over, or -1
 * when the file is corrupt (t->why). */
long output_tail_poll_max(output_tail *t, output_batch_fn fn, void *ctx, uint64_t max);
long output_tail_poll(output_tail *t, output_batch_fn fn, void *ctx);
void output_tail_close(output_tail *t);

/* Follows a member's whole output, DIR/output-*.bin then DIR/output.bin, across rotations
 * (a rotated file is read to its end before the next), from a batch on. Batches are handed
 * over in seq order; a batch missing in between is a gap and stops the reading. */
typedef struct output_follow {
    char dir[4096];
    output_tail t;
    int open;
    int live;              /* t is DIR/output.bin (it may be renamed under us) */
    ino_t live_ino;
    uint64_t want;         /* the first seq to hand over */
    uint64_t next_seq;     /* the next seq expected (after the first batch handed) */
    int started;           /* a batch was handed over */
    int from_oldest;       /* begin at the oldest batch kept */
    int corrupt;
    char why[4400];
    output_batch_fn fn;
    void *ctx;
    uint64_t handed;
} output_follow;

/* path: DIR/output.bin (or any file in DIR). from_seq: the first batch wanted, or
 * OUTPUT_FROM_OLDEST. */
#define OUTPUT_FROM_OLDEST UINT64_MAX
void output_follow_init(output_follow *f, const char *path, uint64_t from_seq);
/* Hands over what is new, at most max batches (0: all). Returns the number, or -1 when a
 * file is corrupt or a batch is missing (f->why); -2 when from_seq is older than the oldest
 * batch kept (*oldest tells which that is). */
long output_follow_poll(output_follow *f, output_batch_fn fn, void *ctx, uint64_t max,
                        uint64_t *oldest);
void output_follow_close(output_follow *f);
/* The output mode of the files in dir (from the newest file's header); -1 when none. */
int output_dir_mode(const char *dir);

#endif

/* The ordered output file of a member (DATA_DIR/output.bin): append-only, binary,
 * little-endian.
 *
 *   file header (24 bytes): "ALEPHOUT" | u32 version (1) | u32 member index | u64 session
 *   per batch (one head):   u32 magic 0x48435442 ("BTCH") | u32 round | u32 head creator |
 *                           32-byte head hash | u32 head depth | u64 output time (CLOCK_REALTIME,
 *                           ns, when the member delivered the batch) | u32 unit count
 *   per unit of the batch:  u32 round | u32 creator | 32-byte unit hash | u32 payload length |
 *                           payload = the unit's transactions, each u32 length + bytes
 *
 * Units come in the batch's order (round, then hash). The output time lets end-to-end
 * latency be computed from a transaction's embedded send time on one host. */
#ifndef ALEPH_NODE_OUTPUT_H
#define ALEPH_NODE_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include "aleph/aleph.h"

#define OUTPUT_MAGIC "ALEPHOUT"
#define OUTPUT_FILE_HEADER_BYTES 24u
#define OUTPUT_BATCH_MAGIC 0x48435442u
#define OUTPUT_BATCH_HEADER_BYTES (4u + 4u + 4u + 32u + 4u + 8u + 4u)
#define OUTPUT_UNIT_HEADER_BYTES (4u + 4u + 32u + 4u)

typedef struct output_file {
    int fd;
    uint8_t *buf;            /* headers of the batch being written */
    size_t len, cap;
    struct iovec *iov;       /* headers and payloads (in place, not copied) */
    int iov_len;
    uint64_t batches, units, bytes;
    int failed;          /* a write failed: errno_saved tells why */
    int errno_saved;
    /* restart: what the file held when opened */
    uint64_t resumed_batches;     /* complete batches: the node skips that many */
    uint32_t last_head_round;
    uint8_t last_head_hash[32];   /* of the last of them, to check the re-derived one */
    uint64_t resume_cut_bytes;    /* a torn tail cut off */
    int resume_corrupt;           /* what was cut did not parse (not only incomplete) */
} output_file;

/* Creates the output file with its header, or continues an existing one of the same member
 * and committee (a restart): its complete batches are counted (resumed_batches) and a torn
 * tail is cut; a file of another member or committee is refused with one line. Batches are
 * numbered from 0 in file order; a restarted node skips the first resumed_batches batches
 * the restored member orders again. */
int output_open(output_file *o, const char *path, uint32_t member, uint64_t session, char *err,
                size_t cap);
/* Appends one batch: headers are gathered in a buffer and written with the payloads, which
 * are not copied, in one writev. */
void output_batch(output_file *o, const aleph_batch *b, uint64_t output_real_ns);
/* Writes what is buffered; -1 when a write failed. */
int output_flush(output_file *o);
void output_close(output_file *o);

/* ---- reading (aleph local, tests) ------------------------------------------------------------ */

typedef struct output_batch_view {
    uint32_t round, head_creator, head_depth, units;
    const uint8_t *head_hash;
    uint64_t output_real_ns;
} output_batch_view;

struct output_unit_view {
    uint32_t round, creator;
    const uint8_t *hash;
    const uint8_t *payload;
    uint32_t payload_len;
};
typedef struct output_unit_view output_unit_view;

/* Follows a growing output file: each call reads what was appended since the last one and
 * hands over every complete batch. */
typedef struct output_tail {
    FILE *f;
    uint8_t *buf;
    size_t len, cap;
    int header_done;
    uint32_t member;
    uint64_t session;
    int corrupt;          /* the file did not parse: stops reading */
    uint64_t batches;
    uint64_t consumed;    /* file bytes up to the end of the last complete batch */
    struct output_unit_view *units; /* scratch for one batch */
    size_t units_cap;
} output_tail;

typedef void (*output_batch_fn)(void *ctx, const output_batch_view *b,
                                const output_unit_view *units);

int output_tail_open(output_tail *t, const char *path);
/* Returns the number of batches handed over, or -1 when the file is corrupt. */
long output_tail_poll(output_tail *t, output_batch_fn fn, void *ctx);
void output_tail_close(output_tail *t);

#endif

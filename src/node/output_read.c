/* Reading output files (output.h): one growing file (output_tail, formats 1 and 2, chains
 * checked) and a member's whole output across rotations (output_follow). */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

int output_tail_open(output_tail *t, const char *path)
{
    memset(t, 0, sizeof *t);
    t->f = fopen(path, "rb");
    if (!t->f) return -1;
    t->cap = 1u << 20;
    t->buf = malloc(t->cap);
    if (!t->buf) {
        fclose(t->f);
        t->f = NULL;
        return -1;
    }
    return 0;
}

void output_tail_close(output_tail *t)
{
    if (t->f) fclose(t->f);
    free(t->buf);
    free(t->units);
    memset(t, 0, sizeof *t);
}

static long corrupt(output_tail *t, const char *why)
{
    snprintf(t->why, sizeof t->why, "%s", why);
    t->corrupt = 1;
    return -1;
}

/* The file header: 1 parsed, 0 incomplete, -1 corrupt. */
static int parse_file_header(output_tail *t)
{
    const uint8_t *p = t->buf + t->pos;
    size_t len = t->len - t->pos;
    if (len < 12) return 0;
    if (memcmp(p, OUTPUT_MAGIC, 8) != 0) return (int)corrupt(t, "not an aleph output file");
    t->version = le32_get(p + 8);
    size_t need = t->version == 1 ? OUTPUT_V1_FILE_HEADER_BYTES
                  : t->version == 2 ? OUTPUT_FILE_HEADER_BYTES
                                    : 0;
    if (!need) return (int)corrupt(t, "unknown output format version");
    if (len < need) return 0;
    t->member = le32_get(p + 12);
    t->session = le64_get(p + 16);
    if (t->version == 2) {
        t->first_seq = le64_get(p + 24);
        uint32_t mode = le32_get(p + 32);
        if (mode > OUTPUT_CHAIN) return (int)corrupt(t, "unknown output mode");
        t->mode = (output_mode)mode;
        memcpy(t->chain, p + 40, 32);
    }
    t->header_done = 1;
    t->pos += need;
    t->consumed = need;
    return 1;
}

static int grow_units(output_tail *t, uint32_t n)
{
    if (n <= t->units_cap) return 0;
    size_t cap = n + 64;
    output_unit_view *grown = realloc(t->units, cap * sizeof *grown);
    if (!grown) return -1;
    t->units = grown;
    t->units_cap = cap;
    return 0;
}

/* The units after a batch header (at p + off): the offset after them, 0 incomplete, -1
 * corrupt. Counts transactions and payload bytes. */
static long parse_units(output_tail *t, const uint8_t *p, size_t len, size_t off,
                        uint32_t count, uint64_t *txs, uint64_t *bytes)
{
    if (grow_units(t, count) != 0) return -1;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < OUTPUT_UNIT_HEADER_BYTES) return 0;
        output_unit_view *u = &t->units[i];
        u->round = le32_get(p + off);
        u->creator = le32_get(p + off + 4);
        u->hash = p + off + 8;
        u->payload_len = le32_get(p + off + 40);
        if (u->payload_len > ALEPH_PAYLOAD_BYTES_MAX) return -1;
        off += OUTPUT_UNIT_HEADER_BYTES;
        if (len - off < u->payload_len) return 0;
        u->payload = p + off;
        off += u->payload_len;
        size_t at = 0;
        const uint8_t *tx;
        size_t tx_len;
        while (aleph_payload_next(u->payload, u->payload_len, &at, &tx, &tx_len) == 1) (*txs)++;
        *bytes += u->payload_len;
    }
    return (long)off;
}

static void chain_of(const output_tail *t, const output_batch_view *b, uint8_t out[32])
{
    output_chain_state st;
    output_chain_begin(&st, t->chain, b->epoch, b->index, b->round, b->head_creator, b->units,
                       b->head_hash);
    for (uint32_t i = 0; i < b->units; i++)
        output_chain_unit(&st, t->units[i].round, t->units[i].creator, t->units[i].payload_len,
                          t->units[i].hash);
    output_chain_end(&st, out);
}

/* One batch at buf[pos]: its size, 0 when incomplete, -1 when corrupt. */
static long parse_batch(output_tail *t, output_batch_view *b, uint8_t chain_v1[32])
{
    const uint8_t *p = t->buf + t->pos;
    size_t len = t->len - t->pos;
    int v1 = t->version == 1;
    size_t hb = v1 ? OUTPUT_V1_BATCH_HEADER_BYTES : OUTPUT_BATCH_HEADER_BYTES;
    if (len < hb) return 0;
    if (le32_get(p) != OUTPUT_BATCH_MAGIC) return corrupt(t, "bad batch magic");
    memset(b, 0, sizeof *b);
    const uint8_t *q = v1 ? p + 4 : p + 20;
    if (!v1) {
        b->seq = le64_get(p + 4);
        b->epoch = le32_get(p + 12);
        b->index = le32_get(p + 16);
    } else {
        b->seq = t->batches;
        b->index = (uint32_t)t->batches;
    }
    b->round = le32_get(q);
    b->head_creator = le32_get(q + 4);
    b->head_hash = q + 8;
    b->head_depth = le32_get(q + 40);
    b->output_real_ns = le64_get(q + 44);
    b->units = le32_get(q + 52);
    if (b->units > 1u << 24) return corrupt(t, "batch unit count out of range");
    if (b->seq != t->first_seq + t->batches) return corrupt(t, "batch out of sequence");
    b->has_units = v1 || t->mode == OUTPUT_FULL;
    uint64_t txs = 0, bytes = 0;
    long end = (long)hb;
    if (b->has_units) {
        end = parse_units(t, p, len, hb, b->units, &txs, &bytes);
        if (end <= 0) return end < 0 ? corrupt(t, "unit out of range") : 0;
    }
    if (v1) {
        b->txs = (uint32_t)txs;
        b->payload_bytes = bytes;
        chain_of(t, b, chain_v1);
        b->chain = chain_v1;
        return end;
    }
    b->txs = le32_get(p + 76);
    b->payload_bytes = le64_get(p + 80);
    b->chain = p + 88;
    if (b->has_units) {
        uint8_t c[32];
        chain_of(t, b, c);
        if (memcmp(c, b->chain, 32) != 0 || txs != b->txs || bytes != b->payload_bytes)
            return corrupt(t, "batch does not match its chain value or counts");
    }
    return end;
}

/* Hands over the complete batches in the buffer, at most max (0: all). */
static long hand_over(output_tail *t, output_batch_fn fn, void *ctx, uint64_t max)
{
    long handed = 0;
    while (!max || (uint64_t)handed < max) {
        output_batch_view b;
        uint8_t chain_v1[32];
        long n = parse_batch(t, &b, chain_v1);
        if (n < 0) return -1;
        if (n == 0) break;
        memcpy(t->chain, b.chain, 32);
        fn(ctx, &b, b.has_units ? t->units : NULL);
        handed++;
        t->batches++;
        t->pos += (size_t)n;
        t->consumed += (uint64_t)n;
    }
    return handed;
}

long output_tail_poll_max(output_tail *t, output_batch_fn fn, void *ctx, uint64_t max)
{
    if (!t->f || t->corrupt) return -1;
    long handed = 0;
    for (;;) {
        if (!t->header_done && parse_file_header(t) < 0) return -1;
        if (t->header_done) {
            long got = hand_over(t, fn, ctx, max ? max - (uint64_t)handed : 0);
            if (got < 0) return -1;
            handed += got;
            if (max && (uint64_t)handed >= max) return handed;
        }
        memmove(t->buf, t->buf + t->pos, t->len - t->pos);
        t->len -= t->pos;
        t->pos = 0;
        if (t->cap - t->len < (1u << 16)) {
            /* A batch can be large (a member that lagged many rounds gets them all ordered
             * by one head): grow until it fits; each unit is bounded, so is the batch. */
            size_t cap = t->cap * 2;
            uint8_t *grown = realloc(t->buf, cap);
            if (!grown) return -1;
            t->buf = grown;
            t->cap = cap;
        }
        clearerr(t->f);
        size_t got = fread(t->buf + t->len, 1, t->cap - t->len, t->f);
        t->len += got;
        t->at_eof = got == 0;
        if (got == 0) return handed;
    }
}

long output_tail_poll(output_tail *t, output_batch_fn fn, void *ctx)
{
    return output_tail_poll_max(t, fn, ctx, 0);
}

/* ---- a member's whole output ------------------------------------------------------------------ */

void output_follow_init(output_follow *f, const char *path, uint64_t from_seq)
{
    memset(f, 0, sizeof *f);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) snprintf(f->dir, sizeof f->dir, "%s", path);
    else snprintf(f->dir, sizeof f->dir, "%s", dirname(tmp));
    f->from_oldest = from_seq == OUTPUT_FROM_OLDEST;
    f->want = f->from_oldest ? 0 : from_seq;
}

void output_follow_close(output_follow *f)
{
    if (f->open) output_tail_close(&f->t);
    f->open = 0;
}

/* A file's first seq, inode and mode from its header; -1 when absent or without one. */
static int header_of(const char *path, uint64_t *first_seq, ino_t *ino, int *mode)
{
    FILE *in = fopen(path, "rb");
    if (!in) return -1;
    uint8_t h[OUTPUT_FILE_HEADER_BYTES];
    size_t got = fread(h, 1, sizeof h, in);
    struct stat st;
    int ok = fstat(fileno(in), &st) == 0;
    fclose(in);
    if (!ok || got < OUTPUT_V1_FILE_HEADER_BYTES || memcmp(h, OUTPUT_MAGIC, 8) != 0) return -1;
    uint32_t version = le32_get(h + 8);
    if (version == 2 && got < OUTPUT_FILE_HEADER_BYTES) return -1;
    *first_seq = version == 2 ? le64_get(h + 24) : 0;
    if (mode) *mode = version == 2 ? (int)le32_get(h + 32) : OUTPUT_FULL;
    *ino = st.st_ino;
    return 0;
}

/* The same of DIR/output.bin. */
static int live_header(const output_follow *f, uint64_t *first_seq, ino_t *ino, int *mode)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", f->dir, OUTPUT_NAME);
    return header_of(path, first_seq, ino, mode);
}

/* Opens the file that holds seq `want` (the newest file beginning at or before it). 1
 * opened, 0 nothing to read yet, -2 want is older than every file (*oldest). */
static int open_file(output_follow *f, uint64_t want, uint64_t *oldest)
{
    uint64_t *seqs;
    size_t n;
    if (output_rotated_list(f->dir, &seqs, &n) != 0) return 0;
    uint64_t live_first;
    ino_t ino;
    int live = live_header(f, &live_first, &ino, NULL) == 0;
    int found = 0, pick_live = 0;
    uint64_t pick = 0, least = UINT64_MAX;
    for (size_t k = 0; k < n; k++) {
        if (seqs[k] < least) least = seqs[k];
        if (seqs[k] <= want) {
            pick = seqs[k];
            found = 1;
        }
    }
    if (live && live_first < least) least = live_first;
    if (live && live_first <= want && (!found || live_first > pick)) pick_live = found = 1;
    free(seqs);
    if (!found && least != UINT64_MAX && !f->from_oldest) {
        if (oldest) *oldest = least;
        return -2;
    }
    if (!found && least == UINT64_MAX) return 0;
    if (!found) pick_live = live && live_first == least, pick = least;
    char path[4200];
    if (pick_live) snprintf(path, sizeof path, "%s/%s", f->dir, OUTPUT_NAME);
    else output_rotated_path(path, sizeof path, f->dir, pick);
    if (output_tail_open(&f->t, path) != 0) return 0;
    struct stat st;
    f->live_ino = fstat(fileno(f->t.f), &st) == 0 ? st.st_ino : 0;
    f->live = pick_live;
    f->open = 1;
    return 1;
}

static void follow_batch(void *ctx, const output_batch_view *b, const output_unit_view *units)
{
    output_follow *f = ctx;
    if (f->corrupt || b->seq < f->want) return;
    if ((f->started && b->seq != f->next_seq) ||
        (!f->started && !f->from_oldest && b->seq != f->want)) {
        snprintf(f->why, sizeof f->why, "%s: batch %" PRIu64 " is missing (next found: %" PRIu64 ")",
                 f->dir, f->started ? f->next_seq : f->want, b->seq);
        f->corrupt = 1;
        return;
    }
    f->started = 1;
    f->next_seq = b->seq + 1;
    f->handed++;
    f->fn(f->ctx, b, units);
}

/* At the end of the file held: 1 when the next one exists (the held file is complete). */
static int successor(output_follow *f)
{
    uint64_t next = f->started ? f->next_seq : f->t.first_seq + f->t.batches;
    if (next < f->want) next = f->want;
    char path[4200];
    output_rotated_path(path, sizeof path, f->dir, f->t.first_seq + f->t.batches);
    struct stat st;
    if (f->t.batches && stat(path, &st) == 0 && st.st_ino != f->live_ino) return 1;
    uint64_t live_first;
    ino_t ino;
    if (live_header(f, &live_first, &ino, NULL) == 0 && ino != f->live_ino) {
        if (live_first == f->t.first_seq + f->t.batches) return 1;
        if (live_first > next && !f->live) {
            snprintf(f->why, sizeof f->why,
                     "%s: batches %" PRIu64 " to %" PRIu64 " were deleted (retention) while read",
                     f->dir, next, live_first - 1);
            f->corrupt = 1;
        }
    }
    return 0;
}

long output_follow_poll(output_follow *f, output_batch_fn fn, void *ctx, uint64_t max,
                        uint64_t *oldest)
{
    if (f->corrupt) return -1;
    f->fn = fn;
    f->ctx = ctx;
    uint64_t before = f->handed;
    for (int files = 0; files < 1024; files++) {
        if (!f->open) {
            int r = open_file(f, f->started ? f->next_seq : f->want, oldest);
            if (r == -2) return -2;
            if (r == 0) break;
        }
        uint64_t left = max ? max - (f->handed - before) : 0;
        long got = output_tail_poll_max(&f->t, follow_batch, f, left);
        if (got < 0) {
            snprintf(f->why, sizeof f->why, "%s: %s", f->dir, f->t.why);
            f->corrupt = 1;
        }
        if (f->corrupt) return -1;
        if (max && f->handed - before >= max) break;
        if (!f->t.at_eof || !successor(f)) break;
        output_tail_close(&f->t);
        f->open = 0;
    }
    if (f->corrupt) return -1;
    return (long)(f->handed - before);
}

int output_dir_mode(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, OUTPUT_NAME);
    uint64_t first;
    ino_t ino;
    int mode;
    if (header_of(path, &first, &ino, &mode) == 0) return mode;
    uint64_t *seqs;
    size_t n;
    if (output_rotated_list(dir, &seqs, &n) != 0 || !n) return -1;
    output_rotated_path(path, sizeof path, dir, seqs[n - 1]);
    free(seqs);
    return header_of(path, &first, &ino, &mode) == 0 ? mode : -1;
}

#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

#define OUTPUT_BUF_BYTES (64u << 10)
#define OUTPUT_IOV_MAX 512

static void count_batch(void *ctx, const output_batch_view *b, const output_unit_view *units)
{
    (void)units;
    output_file *o = ctx;
    o->resumed_batches++;
    o->last_head_round = b->round;
    memcpy(o->last_head_hash, b->head_hash, 32);
}

/* An existing file: checks whose it is, counts its complete batches and cuts what follows
 * them (a torn tail; the batches are derived again from the DAG and written anew). */
static int resume(output_file *o, const char *path, uint32_t member, uint64_t session,
                  uint64_t size, char *err, size_t cap)
{
    output_tail t;
    if (output_tail_open(&t, path) != 0) {
        snprintf(err, cap, "cannot read output file %s: %s", path, strerror(errno));
        return -1;
    }
    long got = output_tail_poll(&t, count_batch, o);
    if (t.header_done && (t.member != member || t.session != session)) {
        snprintf(err, cap,
                 "%s belongs to member %u of committee %016" PRIx64 ", not to member %u of "
                 "committee %016" PRIx64 ": use this member's own --data-dir",
                 path, t.member, t.session, member, session);
        output_tail_close(&t);
        return -1;
    }
    if (!t.header_done && size >= OUTPUT_FILE_HEADER_BYTES) {
        snprintf(err, cap, "%s is not an aleph output file: move it away", path);
        output_tail_close(&t);
        return -1;
    }
    uint64_t keep = t.header_done ? t.consumed : 0;
    o->resume_corrupt = got < 0;
    output_tail_close(&t);
    if (keep < size) {
        o->resume_cut_bytes = size - keep;
        if (ftruncate(o->fd, (off_t)keep) != 0) {
            snprintf(err, cap, "cannot cut the torn tail of %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return keep == 0 ? 1 : 0;
}

int output_open(output_file *o, const char *path, uint32_t member, uint64_t session, char *err,
                size_t cap)
{
    memset(o, 0, sizeof *o);
    uint64_t size;
    o->fd = file_open_append(path, 0644, "output", &size, err, cap);
    if (o->fd < 0) return -1;
    int fresh = 1;
    if (size > 0) {
        fresh = resume(o, path, member, session, size, err, cap);
        if (fresh < 0) {
            close(o->fd);
            o->fd = -1;
            return -1;
        }
    }
    o->cap = OUTPUT_BUF_BYTES;
    o->buf = malloc(o->cap);
    o->iov = malloc(OUTPUT_IOV_MAX * sizeof *o->iov);
    if (!o->buf || !o->iov) {
        snprintf(err, cap, "out of memory");
        close(o->fd);
        return -1;
    }
    if (!fresh) return 0;
    memcpy(o->buf, OUTPUT_MAGIC, 8);
    le32_put(o->buf + 8, 1);
    le32_put(o->buf + 12, member);
    le64_put(o->buf + 16, session);
    o->len = OUTPUT_FILE_HEADER_BYTES;
    return output_flush(o) == 0 ? 0 : (snprintf(err, cap, "cannot write %s: %s", path,
                                                strerror(o->errno_saved)),
                                       -1);
}

static void write_iov(output_file *o)
{
    struct iovec *iov = o->iov;
    int cnt = o->iov_len;
    while (cnt > 0 && !o->failed) {
        ssize_t w = writev(o->fd, iov, cnt);
        if (w < 0) {
            if (errno == EINTR) continue;
            o->failed = 1;
            o->errno_saved = errno;
            break;
        }
        o->bytes += (uint64_t)w;
        size_t left = (size_t)w;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    o->iov_len = 0;
    o->len = 0;
}

int output_flush(output_file *o)
{
    if (o->len && o->iov_len == 0) {
        /* only the file header is pending */
        o->iov[0] = (struct iovec){o->buf, o->len};
        o->iov_len = 1;
    }
    if (o->iov_len) write_iov(o);
    return o->failed ? -1 : 0;
}

/* Adds bytes to the current header run (copied into buf). */
static void add_header(output_file *o, const void *data, size_t len)
{
    if (o->cap - o->len < len || o->iov_len >= OUTPUT_IOV_MAX - 1) write_iov(o);
    uint8_t *at = o->buf + o->len;
    memcpy(at, data, len);
    o->len += len;
    if (o->iov_len && (uint8_t *)o->iov[o->iov_len - 1].iov_base +
                              o->iov[o->iov_len - 1].iov_len == at)
        o->iov[o->iov_len - 1].iov_len += len; /* extends the previous header run */
    else
        o->iov[o->iov_len++] = (struct iovec){at, len};
}

static void add_payload(output_file *o, const uint8_t *data, size_t len)
{
    if (o->iov_len >= OUTPUT_IOV_MAX) write_iov(o);
    o->iov[o->iov_len++] = (struct iovec){(void *)data, len};
}

void output_batch(output_file *o, const aleph_batch *b, uint64_t output_real_ns)
{
    uint8_t h[OUTPUT_BATCH_HEADER_BYTES];
    le32_put(h, OUTPUT_BATCH_MAGIC);
    le32_put(h + 4, b->round);
    le32_put(h + 8, b->head_creator);
    memcpy(h + 12, b->head_hash, 32);
    le32_put(h + 44, b->head_depth);
    le64_put(h + 48, output_real_ns);
    le32_put(h + 56, (uint32_t)b->units_len);
    add_header(o, h, sizeof h);
    for (size_t i = 0; i < b->units_len; i++) {
        const aleph_ordered_unit *u = &b->units[i];
        uint8_t uh[OUTPUT_UNIT_HEADER_BYTES];
        le32_put(uh, u->round);
        le32_put(uh + 4, u->creator);
        memcpy(uh + 8, u->hash, 32);
        le32_put(uh + 40, (uint32_t)u->payload_len);
        add_header(o, uh, sizeof uh);
        if (u->payload_len) add_payload(o, u->payload, u->payload_len);
    }
    /* Payloads belong to the member and are valid only until its next step: write now. */
    write_iov(o);
    o->batches++;
    o->units += b->units_len;
}

void output_close(output_file *o)
{
    if (o->fd >= 0) {
        output_flush(o);
        close(o->fd);
    }
    o->fd = -1;
    free(o->buf);
    free(o->iov);
    o->buf = NULL;
    o->iov = NULL;
}

/* ---- reading --------------------------------------------------------------------------------- */

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

/* Parses one batch at p (len bytes available). Returns its size, 0 when incomplete, -1 when
 * corrupt. units must hold room for the batch's units (grown by the caller). */
static long parse_batch(const uint8_t *p, size_t len, output_batch_view *b,
                        output_unit_view **units, size_t *units_cap)
{
    if (len < OUTPUT_BATCH_HEADER_BYTES) return 0;
    if (le32_get(p) != OUTPUT_BATCH_MAGIC) return -1;
    b->round = le32_get(p + 4);
    b->head_creator = le32_get(p + 8);
    b->head_hash = p + 12;
    b->head_depth = le32_get(p + 44);
    b->output_real_ns = le64_get(p + 48);
    b->units = le32_get(p + 56);
    if (b->units > 1u << 24) return -1;
    if (b->units > *units_cap) {
        size_t cap = b->units + 64;
        output_unit_view *grown = realloc(*units, cap * sizeof *grown);
        if (!grown) return -1;
        *units = grown;
        *units_cap = cap;
    }
    size_t off = OUTPUT_BATCH_HEADER_BYTES;
    for (uint32_t i = 0; i < b->units; i++) {
        if (len - off < OUTPUT_UNIT_HEADER_BYTES) return 0;
        output_unit_view *u = &(*units)[i];
        u->round = le32_get(p + off);
        u->creator = le32_get(p + off + 4);
        u->hash = p + off + 8;
        u->payload_len = le32_get(p + off + 40);
        if (u->payload_len > ALEPH_PAYLOAD_BYTES_MAX) return -1;
        off += OUTPUT_UNIT_HEADER_BYTES;
        if (len - off < u->payload_len) return 0;
        u->payload = p + off;
        off += u->payload_len;
    }
    return (long)off;
}

long output_tail_poll(output_tail *t, output_batch_fn fn, void *ctx)
{
    if (!t->f) return -1;
    if (t->corrupt) return -1;
    long handed = 0;
    for (;;) {
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
        size_t pos = 0;
        if (!t->header_done) {
            if (t->len < OUTPUT_FILE_HEADER_BYTES) return handed;
            if (memcmp(t->buf, OUTPUT_MAGIC, 8) != 0 || le32_get(t->buf + 8) != 1) {
                t->corrupt = 1;
                return -1;
            }
            t->member = le32_get(t->buf + 12);
            t->session = le64_get(t->buf + 16);
            t->header_done = 1;
            pos = OUTPUT_FILE_HEADER_BYTES;
            t->consumed = OUTPUT_FILE_HEADER_BYTES;
        }
        for (;;) {
            output_batch_view b;
            long n = parse_batch(t->buf + pos, t->len - pos, &b, &t->units, &t->units_cap);
            if (n < 0) {
                t->corrupt = 1;
                return -1;
            }
            if (n == 0) break;
            fn(ctx, &b, t->units);
            handed++;
            t->batches++;
            pos += (size_t)n;
            t->consumed += (uint64_t)n;
        }
        memmove(t->buf, t->buf + pos, t->len - pos);
        t->len -= pos;
        if (got == 0) return handed;
    }
}

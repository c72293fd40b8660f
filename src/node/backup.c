#include "backup.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

uint32_t backup_record_checksum(uint32_t len, uint8_t kind, const uint8_t *body)
{
    uint8_t head[5], out[32];
    le32_put(head, len);
    head[4] = kind;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof out);
    crypto_generichash_update(&st, head, sizeof head);
    if (len) crypto_generichash_update(&st, body, len);
    crypto_generichash_final(&st, out, sizeof out);
    return le32_get(out);
}

static uint32_t header_checksum(const uint8_t *h)
{
    uint8_t out[32];
    crypto_generichash(out, sizeof out, h, BACKUP_HEADER_BYTES - 4, NULL, 0);
    return le32_get(out);
}

static void header_encode(const backup_header *h, uint8_t out[BACKUP_HEADER_BYTES])
{
    memcpy(out, BACKUP_MAGIC, 8);
    le32_put(out + 8, BACKUP_VERSION);
    le32_put(out + 12, h->member);
    le64_put(out + 16, h->session);
    le32_put(out + 24, h->epoch);
    le64_put(out + 28, h->epoch_session);
    le32_put(out + 36, header_checksum(out));
}

static int fsync_path(const char *path, int dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* The header of an open file; returns 0, or -1 with err. */
static int header_check(FILE *f, const char *path, const backup_header *expect, char *err,
                        size_t cap)
{
    uint8_t h[BACKUP_HEADER_BYTES];
    if (fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, BACKUP_MAGIC, 8) != 0 ||
        le32_get(h + 36) != header_checksum(h)) {
        snprintf(err, cap, "%s is not an aleph backup (bad or torn header): move it away", path);
        return -1;
    }
    uint32_t version = le32_get(h + 8), member = le32_get(h + 12);
    uint64_t session = le64_get(h + 16);
    if (version != BACKUP_VERSION) {
        snprintf(err, cap, "%s has backup format version %u; this aleph reads version %u", path,
                 version, BACKUP_VERSION);
        return -1;
    }
    if (member != expect->member || session != expect->session) {
        snprintf(err, cap,
                 "%s belongs to member %u of committee %016" PRIx64 ", not to member %u of "
                 "committee %016" PRIx64 " (this key and committee file): use this member's "
                 "own --data-dir",
                 path, member, session, expect->member, expect->session);
        return -1;
    }
    return 0;
}

/* Cuts the file at `offset` (a torn last record) and makes the cut durable. */
static int cut_tail(const char *path, uint64_t offset, char *err, size_t cap)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)offset) != 0 || fsync(fd) != 0) {
        snprintf(err, cap, "cannot cut the torn tail of %s at byte %" PRIu64 ": %s", path, offset,
                 strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int backup_read(const char *path, const backup_header *expect, backup_record_fn fn, void *ctx,
                backup_read_info *info, char *err, size_t cap)
{
    memset(info, 0, sizeof *info);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return 1;
        snprintf(err, cap, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0) return 1;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = header_check(f, path, expect, err, cap);
    uint8_t *body = rc == 0 ? malloc(BACKUP_RECORD_BYTES_MAX) : NULL;
    if (rc == 0 && !body) {
        snprintf(err, cap, "out of memory reading %s", path);
        rc = -1;
    }
    uint64_t off = BACKUP_HEADER_BYTES;
    while (rc == 0 && off < size) {
        uint8_t h[BACKUP_RECORD_HEADER_BYTES];
        if (size - off < sizeof h || fread(h, 1, sizeof h, f) != sizeof h) break; /* torn */
        uint32_t len = le32_get(h), sum = le32_get(h + 4);
        uint8_t kind = h[8];
        uint64_t end = off + sizeof h + len;
        if (end > size) break; /* torn: the length promises more than was written */
        if (len > BACKUP_RECORD_BYTES_MAX) {
            snprintf(err, cap, "%s: record at byte %" PRIu64 " claims %u bytes, over the limit",
                     path, off, len);
            rc = -1;
            break;
        }
        if (fread(body, 1, len, f) != len) {
            snprintf(err, cap, "%s: cannot read the record at byte %" PRIu64, path, off);
            rc = -1;
            break;
        }
        if (backup_record_checksum(len, kind, body) != sum) {
            if (end == size) break; /* a torn last write */
            snprintf(err, cap,
                     "%s: the record at byte %" PRIu64 " is corrupt (checksum mismatch) and "
                     "records follow it: the backup cannot be used as it is",
                     path, off);
            rc = -1;
            break;
        }
        char why[256] = "";
        if (fn(ctx, kind, body, len, why, sizeof why) != 0) {
            snprintf(err, cap, "%s: record at byte %" PRIu64 ": %s", path, off, why);
            rc = -1;
            break;
        }
        info->records++;
        off = end;
    }
    free(body);
    fclose(f);
    if (rc != 0) return rc;
    if (off < size) {
        info->cut = 1;
        info->cut_offset = off;
        info->cut_bytes = size - off;
        if (cut_tail(path, off, err, cap) != 0) return -1;
    }
    info->bytes = off;
    return 0;
}

int backup_open(backup_file *b, const char *dir, const char *path, const backup_header *h,
                char *err, size_t cap)
{
    memset(b, 0, sizeof *b);
    uint64_t size;
    b->fd = file_open_append(path, 0600, "backup", &size, err, cap);
    if (b->fd < 0) return -1;
    if (size == 0) {
        uint8_t hd[BACKUP_HEADER_BYTES];
        header_encode(h, hd);
        /* The header and the file's directory entry are durable before any unit is. */
        if (write_all(b->fd, hd, sizeof hd) != 0 || fsync(b->fd) != 0 ||
            fsync_path(dir, 1) != 0) {
            snprintf(err, cap, "cannot create backup file %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    return 0;
fail:
    close(b->fd);
    b->fd = -1;
    return -1;
}

void backup_start(backup_file *b, uv_loop_t *loop, backup_durable_fn on_durable,
                  backup_failed_fn on_failed, void *ctx)
{
    b->loop = loop;
    b->on_durable = on_durable;
    b->on_failed = on_failed;
    b->ctx = ctx;
    b->work.data = b;
}

/* The records' checksums (a BLAKE2b pass over every byte) are computed here, on the worker
 * thread, rather than by backup_submit on the event loop, which also runs the protocol. */
static void checksum_records(backup_batch *t)
{
    for (size_t off = 0; off + BACKUP_RECORD_HEADER_BYTES <= t->len;) {
        uint8_t *at = t->data + off;
        uint32_t len = le32_get(at);
        le32_put(at + 4, backup_record_checksum(len, at[8], at + BACKUP_RECORD_HEADER_BYTES));
        off += BACKUP_RECORD_HEADER_BYTES + len;
    }
}

int (*backup_sync_fn)(int fd) = fdatasync;

/* worker thread: touches only b->fd and b->writing */
static void write_and_sync(uv_work_t *w)
{
    backup_file *b = w->data;
    b->work_error = 0;
    checksum_records(&b->writing);
    if (write_all(b->fd, b->writing.data, b->writing.len) != 0) {
        b->work_error = errno;
        return;
    }
    uint64_t t0 = clock_mono_ns();
    if (backup_sync_fn(b->fd) != 0) b->work_error = errno;
    b->work_sync_ns = clock_mono_ns() - t0;
}

static void kick(backup_file *b);

static void after_sync(uv_work_t *w, int status)
{
    backup_file *b = w->data;
    b->in_flight = 0;
    if (status != 0 || b->work_error) {
        b->failed = 1;
        if (b->on_failed) b->on_failed(b->ctx, b->work_error ? b->work_error : EIO);
        return;
    }
    b->units += b->writing.units;
    b->bytes += b->writing.len;
    b->syncs++;
    b->sync_ns_total += b->work_sync_ns;
    if (b->work_sync_ns > b->sync_ns_max) b->sync_ns_max = b->work_sync_ns;
    b->durable_seq = b->writing.seq;
    b->writing.len = 0;
    b->writing.units = 0;
    kick(b);
    if (b->on_durable) b->on_durable(b->ctx, b->durable_seq);
}

static void kick(backup_file *b)
{
    if (b->in_flight || b->failed || b->pending.len == 0) return;
    backup_batch t = b->writing;
    b->writing = b->pending;
    b->pending = t;
    b->pending.len = 0;
    b->pending.units = 0;
    b->in_flight = 1;
    if (uv_queue_work(b->loop, &b->work, write_and_sync, after_sync) != 0) {
        b->in_flight = 0;
        b->failed = 1;
        if (b->on_failed) b->on_failed(b->ctx, EIO);
    }
}

uint64_t backup_submit(backup_file *b, const aleph_blob *blobs, size_t n)
{
    size_t need = 0;
    for (size_t i = 0; i < n; i++) need += BACKUP_RECORD_HEADER_BYTES + blobs[i].len;
    backup_batch *p = &b->pending;
    if (p->len + need > p->cap) {
        size_t cap = p->cap ? p->cap : 1u << 16;
        while (cap < p->len + need) cap *= 2;
        uint8_t *grown = realloc(p->data, cap);
        if (!grown) {
            b->failed = 1;
            if (b->on_failed) b->on_failed(b->ctx, ENOMEM);
            return ++b->submitted_seq;
        }
        p->data = grown;
        p->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *at = p->data + p->len;
        uint32_t len = (uint32_t)blobs[i].len;
        le32_put(at, len);
        le32_put(at + 4, 0); /* the checksum: filled in by the worker (checksum_records) */
        at[8] = BACKUP_UNIT;
        memcpy(at + BACKUP_RECORD_HEADER_BYTES, blobs[i].data, len);
        p->len += BACKUP_RECORD_HEADER_BYTES + len;
    }
    p->units += n;
    uint64_t seq = p->seq = ++b->submitted_seq;
    kick(b); /* may swap `pending` into `writing`: p then points at the older batch */
    return seq;
}

int backup_busy(const backup_file *b)
{
    return b->in_flight;
}

void backup_close(backup_file *b)
{
    if (b->fd >= 0) close(b->fd);
    b->fd = -1;
    free(b->pending.data);
    free(b->writing.data);
    b->pending.data = b->writing.data = NULL;
}

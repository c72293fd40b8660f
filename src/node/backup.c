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

uint8_t backup_kind_of(aleph_persist_kind kind)
{
    return kind == ALEPH_PERSIST_ALERT        ? BACKUP_ALERT
           : kind == ALEPH_PERSIST_ALERT_CERT ? BACKUP_ALERT_CERT
                                              : BACKUP_UNIT;
}

int backup_kind_persist(uint8_t kind, aleph_persist_kind *out)
{
    switch (kind) {
    case BACKUP_UNIT: *out = ALEPH_PERSIST_UNIT; return 0;
    case BACKUP_ALERT: *out = ALEPH_PERSIST_ALERT; return 0;
    case BACKUP_ALERT_CERT: *out = ALEPH_PERSIST_ALERT_CERT; return 0;
    default: return -1;
    }
}

uint32_t backup_unit_checksum(uint32_t len, const uint8_t hash[ALEPH_HASH_BYTES],
                              const uint8_t *signature)
{
    uint8_t in[5 + ALEPH_HASH_BYTES + ALEPH_SIGNATURE_BYTES], out[32];
    le32_put(in, len);
    in[4] = BACKUP_UNIT;
    memcpy(in + 5, hash, ALEPH_HASH_BYTES);
    memcpy(in + 5 + ALEPH_HASH_BYTES, signature, ALEPH_SIGNATURE_BYTES);
    crypto_generichash(out, sizeof out, in, sizeof in, NULL, 0);
    return le32_get(out);
}

uint32_t backup_record_checksum(uint32_t len, uint8_t kind, const uint8_t *body)
{
    uint32_t creator;
    uint8_t hash[ALEPH_HASH_BYTES];
    const uint8_t *signature;
    if (kind == BACKUP_UNIT && aleph_unit_signed_parts(body, len, &creator, hash, &signature))
        return backup_unit_checksum(len, hash, signature);
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

void backup_header_encode(const backup_header *h, uint8_t out[BACKUP_HEADER_BYTES])
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
static int header_check(FILE *f, const char *path, const backup_header *expect,
                        backup_header *got, char *err, size_t cap)
{
    uint8_t h[BACKUP_HEADER_BYTES];
    if (fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, BACKUP_MAGIC, 8) != 0 ||
        le32_get(h + 36) != header_checksum(h)) {
        snprintf(err, cap, "%s is not an aleph backup (bad or torn header): move it away", path);
        return -1;
    }
    uint32_t version = le32_get(h + 8), member = le32_get(h + 12);
    uint64_t session = le64_get(h + 16);
    *got = (backup_header){.version = version, .member = member, .session = session,
                           .epoch = le32_get(h + 24), .epoch_session = le64_get(h + 28)};
    if (version != BACKUP_VERSION) {
        snprintf(err, cap,
                 "%s has backup format version %u; this aleph reads version %u only%s: restart "
                 "it with the aleph that wrote it (a member started without its backup may sign "
                 "a second unit for a round it signed)",
                 path, version, BACKUP_VERSION,
                 version == 1 ? " (version 1 checksummed units over their whole body)" : "");
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

/* A batch of records read ahead: bodies in data (at), in file order. */
typedef struct read_rec {
    uint64_t off;
    size_t at;
    uint32_t len, sum;
    uint8_t kind;
} read_rec;

typedef struct reader {
    FILE *f;
    const char *path;
    uint64_t size, next; /* next: the offset of the first record not read */
    int stop;            /* 0: more to read; 1: the end, or a torn tail at next; -1: err */
    uint8_t *data;
    size_t len, cap, n;
    read_rec recs[BACKUP_AHEAD_RECORDS];
    const uint8_t *bodies[BACKUP_AHEAD_RECORDS];
    size_t lens[BACKUP_AHEAD_RECORDS];
} reader;

static int reader_room(reader *r, size_t need)
{
    if (r->len + need <= r->cap) return 0;
    size_t cap = r->cap ? r->cap : 1u << 20;
    while (cap < r->len + need) cap *= 2;
    uint8_t *grown = realloc(r->data, cap);
    if (!grown) return -1;
    r->data = grown;
    r->cap = cap;
    return 0;
}

/* The next record into the batch; 0, or sets r->stop (with err when -1). */
static int read_one(reader *r, char *err, size_t cap)
{
    uint64_t off = r->next;
    uint8_t h[BACKUP_RECORD_HEADER_BYTES];
    if (off >= r->size || r->size - off < sizeof h || fread(h, 1, sizeof h, r->f) != sizeof h)
        return r->stop = 1; /* the end, or torn */
    uint32_t len = le32_get(h);
    uint64_t end = off + sizeof h + len;
    if (end > r->size) return r->stop = 1; /* torn: the length promises more than was written */
    if (len > BACKUP_RECORD_BYTES_MAX) {
        snprintf(err, cap, "%s: record at byte %" PRIu64 " claims %u bytes, over the limit",
                 r->path, off, len);
        return r->stop = -1;
    }
    if (reader_room(r, len) != 0) {
        snprintf(err, cap, "out of memory reading %s", r->path);
        return r->stop = -1;
    }
    if (fread(r->data + r->len, 1, len, r->f) != len) {
        snprintf(err, cap, "%s: cannot read the record at byte %" PRIu64, r->path, off);
        return r->stop = -1;
    }
    r->recs[r->n++] = (read_rec){.off = off, .at = r->len, .len = len, .sum = le32_get(h + 4),
                                 .kind = h[8]};
    r->len += len;
    r->next = end;
    return 0;
}

/* Reads a batch, then hands its UNIT records to the read-ahead. */
static void read_batch(reader *r, const backup_ahead *ahead, char *err, size_t cap)
{
    r->n = r->len = 0;
    while (r->n < BACKUP_AHEAD_RECORDS && r->len < BACKUP_AHEAD_BYTES &&
           read_one(r, err, cap) == 0) {
    }
    if (!ahead || !ahead->units) return;
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->recs[i].kind != BACKUP_UNIT) continue;
        r->bodies[k] = r->data + r->recs[i].at;
        r->lens[k++] = r->recs[i].len;
    }
    ahead->units(ahead->ctx, r->bodies, r->lens, k); /* without it the member checks alone */
}

static int checksum_ok(const read_rec *rec, const uint8_t *body, const backup_ahead *ahead)
{
    uint8_t hash[ALEPH_HASH_BYTES];
    size_t signed_len = rec->len - ALEPH_SIGNATURE_BYTES;
    if (ahead && ahead->hash && rec->kind == BACKUP_UNIT && rec->len >= ALEPH_UNIT_BYTES_MIN &&
        ahead->hash(ahead->ctx, body, signed_len, hash))
        return backup_unit_checksum(rec->len, hash, body + signed_len) == rec->sum;
    return backup_record_checksum(rec->len, rec->kind, body) == rec->sum;
}

/* The batch's records to fn in order, each after its checksum; *off follows the records
 * taken. Returns 0, 1 at a torn last record, -1 with err. */
static int give_batch(const reader *r, backup_record_fn fn, void *ctx, const backup_ahead *ahead,
                      backup_read_info *info, uint64_t *off, char *err, size_t cap)
{
    for (size_t i = 0; i < r->n; i++) {
        const read_rec *rec = &r->recs[i];
        const uint8_t *body = r->data + rec->at;
        if (!checksum_ok(rec, body, ahead)) {
            if (rec->off + BACKUP_RECORD_HEADER_BYTES + rec->len == r->size) return 1; /* torn */
            snprintf(err, cap,
                     "%s: the record at byte %" PRIu64 " is corrupt (checksum mismatch) and "
                     "records follow it: the backup cannot be used as it is",
                     r->path, rec->off);
            return -1;
        }
        char why[256] = "";
        if (fn(ctx, rec->kind, body, rec->len, why, sizeof why) != 0) {
            snprintf(err, cap, "%s: record at byte %" PRIu64 ": %s", r->path, rec->off, why);
            return -1;
        }
        info->records++;
        *off = rec->off + BACKUP_RECORD_HEADER_BYTES + rec->len;
    }
    return 0;
}

/* The records after the header; returns 0 (*off: where the records taken end), -1 with err. */
static int read_records(reader *r, backup_record_fn fn, void *ctx, const backup_ahead *ahead,
                        backup_read_info *info, uint64_t *off, char *err, size_t cap)
{
    for (;;) {
        read_batch(r, ahead, err, cap);
        int given = give_batch(r, fn, ctx, ahead, info, off, err, cap);
        if (ahead && ahead->end) ahead->end(ahead->ctx);
        if (given < 0) return -1;
        if (given > 0 || r->stop > 0) return 0;
        if (r->stop < 0) return -1;
    }
}

int backup_read(const char *path, const backup_header *expect, backup_record_fn fn, void *ctx,
                backup_read_info *info, char *err, size_t cap)
{
    return backup_read_ahead(path, expect, fn, ctx, NULL, info, err, cap);
}

int backup_read_ahead(const char *path, const backup_header *expect, backup_record_fn fn,
                      void *ctx, const backup_ahead *ahead, backup_read_info *info, char *err,
                      size_t cap)
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
    int rc = header_check(f, path, expect, &info->header, err, cap);
    reader *r = rc == 0 ? calloc(1, sizeof *r) : NULL;
    if (rc == 0 && !r) {
        snprintf(err, cap, "out of memory reading %s", path);
        rc = -1;
    }
    uint64_t off = BACKUP_HEADER_BYTES;
    if (r) {
        r->f = f, r->path = path, r->size = size, r->next = off;
        rc = read_records(r, fn, ctx, ahead, info, &off, err, cap);
        free(r->data);
        free(r);
    }
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
    snprintf(b->dir, sizeof b->dir, "%s", dir);
    snprintf(b->path, sizeof b->path, "%s", path);
    b->header = *h;
    uint64_t size;
    b->fd = file_open_append(path, 0600, "backup", &size, err, cap);
    if (b->fd < 0) return -1;
    if (size == 0) {
        uint8_t hd[BACKUP_HEADER_BYTES];
        backup_header_encode(h, hd);
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

/* The checksums of records other than units with their hash known (a BLAKE2b pass over
 * every byte: alerts, certificates, units submitted without a hash) are computed here, on
 * the worker thread, rather than by backup_submit on the event loop, which also runs the
 * protocol; a unit's from its hash are computed by backup_submit (a pass over ~100 bytes). */
static void checksum_records(backup_batch *t)
{
    for (size_t off = 0; off + BACKUP_RECORD_HEADER_BYTES <= t->len;) {
        uint8_t *at = t->data + off;
        uint32_t len = le32_get(at);
        if (at[8] == BACKUP_UNIT_SUMMED)
            at[8] = BACKUP_UNIT;
        else
            le32_put(at + 4, backup_record_checksum(len, at[8], at + BACKUP_RECORD_HEADER_BYTES));
        off += BACKUP_RECORD_HEADER_BYTES + len;
    }
}

int (*backup_sync_fn)(int fd) = fdatasync;

/* worker thread: the next epoch's file, after everything before the switch is durable in
 * the old one and the output (its fd in the marker) holds the old epoch's last batch:
 * header and EPOCH_CARRY record, synced with the directory; then the finished epoch's file
 * finished_kept + 1 epochs back goes (with finished_kept 0: the old one). */
static int switch_file(backup_file *b, const uint8_t *body, uint32_t len)
{
    int out_fd;
    memcpy(&out_fd, body + 12, sizeof out_fd);
    int rc = backup_sync_fn(b->fd);
    if (rc == 0 && out_fd >= 0) rc = fdatasync(out_fd);
    if (out_fd >= 0) close(out_fd);
    if (rc != 0) return -1;
    backup_header h = b->header;
    h.epoch = le32_get(body);
    h.epoch_session = le64_get(body + 4);
    char path[sizeof b->path];
    snprintf(path, sizeof path, "%s/backup-%u.bin", b->dir, h.epoch);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    uint32_t carry_len = len - BACKUP_SWITCH_BYTES;
    const uint8_t *carry = body + BACKUP_SWITCH_BYTES;
    uint8_t hd[BACKUP_HEADER_BYTES + BACKUP_RECORD_HEADER_BYTES];
    backup_header_encode(&h, hd);
    le32_put(hd + BACKUP_HEADER_BYTES, carry_len);
    le32_put(hd + BACKUP_HEADER_BYTES + 4, backup_record_checksum(carry_len, BACKUP_EPOCH_CARRY, carry));
    hd[BACKUP_HEADER_BYTES + 8] = BACKUP_EPOCH_CARRY;
    if (write_all(fd, hd, sizeof hd) != 0 || write_all(fd, carry, carry_len) != 0 ||
        fsync(fd) != 0 || fsync_path(b->dir, 1) != 0) {
        close(fd);
        return -1;
    }
    if (h.epoch > b->finished_kept) { /* the oldest finished file beyond finished_kept goes */
        char old[sizeof b->path];
        snprintf(old, sizeof old, "%s/backup-%u.bin", b->dir, h.epoch - 1 - b->finished_kept);
        if (unlink(old) == 0) b->files_deleted++;
    }
    fsync_path(b->dir, 1);
    close(b->fd);
    b->fd = fd;
    b->header = h;
    snprintf(b->path, sizeof b->path, "%s", path);
    b->switches++;
    return 0;
}

/* worker thread: touches only b->fd, b->path, b->header and b->writing */
static void write_and_sync(uv_work_t *w)
{
    backup_file *b = w->data;
    b->work_error = 0;
    checksum_records(&b->writing);
    const uint8_t *data = b->writing.data;
    size_t run = 0, off = 0, len = b->writing.len;
    while (off < len) {
        uint32_t rl = le32_get(data + off);
        if (data[off + 8] == BACKUP_SWITCH) {
            if ((run < off && write_all(b->fd, data + run, off - run) != 0) ||
                switch_file(b, data + off + BACKUP_RECORD_HEADER_BYTES, rl) != 0) {
                b->work_error = errno ? errno : EIO;
                return;
            }
            run = off + BACKUP_RECORD_HEADER_BYTES + rl;
        }
        off += BACKUP_RECORD_HEADER_BYTES + rl;
    }
    if (run < len && write_all(b->fd, data + run, len - run) != 0) {
        b->work_error = errno;
        return;
    }
    uint64_t t0 = clock_mono_ns();
    if (backup_sync_fn(b->fd) != 0) b->work_error = errno;
    /* Durable now, so clean: its pages leave the page cache (only a restart reads the file
     * back), and the next writes take recycled pages, several times cheaper on this
     * machine than fresh ones (output.c, drop_written). A hint: an error changes nothing. */
    else (void)posix_fadvise(b->fd, 0, 0, POSIX_FADV_DONTNEED);
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

/* Room for need more bytes in the pending batch; -1 (the backup failed) without memory. */
static int pending_room(backup_file *b, size_t need)
{
    backup_batch *p = &b->pending;
    if (p->len + need <= p->cap) return 0;
    size_t cap = p->cap ? p->cap : 1u << 16;
    while (cap < p->len + need) cap *= 2;
    uint8_t *grown = realloc(p->data, cap);
    if (!grown) {
        b->failed = 1;
        if (b->on_failed) b->on_failed(b->ctx, ENOMEM);
        return -1;
    }
    p->data = grown;
    p->cap = cap;
    return 0;
}

static void put_record(backup_batch *p, uint8_t kind, const uint8_t *body, size_t len,
                       const uint8_t *more, size_t more_len)
{
    uint8_t *at = p->data + p->len;
    le32_put(at, (uint32_t)(len + more_len));
    le32_put(at + 4, 0); /* the checksum: filled in by the worker (checksum_records) */
    at[8] = kind;
    memcpy(at + BACKUP_RECORD_HEADER_BYTES, body, len);
    if (more_len) memcpy(at + BACKUP_RECORD_HEADER_BYTES + len, more, more_len);
    p->len += BACKUP_RECORD_HEADER_BYTES + len + more_len;
}

uint64_t backup_submit(backup_file *b, const aleph_blob *blobs, size_t n)
{
    size_t need = 0;
    for (size_t i = 0; i < n; i++) need += BACKUP_RECORD_HEADER_BYTES + blobs[i].len;
    if (pending_room(b, need) != 0) return ++b->submitted_seq;
    backup_batch *p = &b->pending;
    for (size_t i = 0; i < n; i++) {
        const aleph_blob *bl = &blobs[i];
        uint8_t *at = p->data + p->len;
        put_record(p, backup_kind_of(bl->kind), bl->data, bl->len, NULL, 0);
        p->units += bl->kind == ALEPH_PERSIST_UNIT;
        if (bl->kind == ALEPH_PERSIST_UNIT && bl->hash && bl->len >= ALEPH_UNIT_BYTES_MIN) {
            le32_put(at + 4, backup_unit_checksum((uint32_t)bl->len, bl->hash,
                                                  bl->data + bl->len - ALEPH_SIGNATURE_BYTES));
            at[8] = BACKUP_UNIT_SUMMED;
        }
    }
    uint64_t seq = p->seq = ++b->submitted_seq;
    kick(b); /* may swap `pending` into `writing`: p then points at the older batch */
    return seq;
}

uint64_t backup_begin_epoch(backup_file *b, uint32_t epoch, uint64_t epoch_session,
                            const uint8_t *carry, size_t carry_len, int output_fd)
{
    if (carry_len > BACKUP_RECORD_BYTES_MAX - BACKUP_SWITCH_BYTES) {
        /* never written: a reader would refuse it (the node stops rather than lose it) */
        b->failed = 1;
        if (b->on_failed) b->on_failed(b->ctx, EFBIG);
    }
    if (b->failed ||
        pending_room(b, BACKUP_RECORD_HEADER_BYTES + BACKUP_SWITCH_BYTES + carry_len) != 0) {
        if (output_fd >= 0) close(output_fd);
        return ++b->submitted_seq;
    }
    uint8_t body[BACKUP_SWITCH_BYTES];
    le32_put(body, epoch);
    le64_put(body + 4, epoch_session);
    memcpy(body + 12, &output_fd, sizeof output_fd); /* in memory only: never written */
    put_record(&b->pending, BACKUP_SWITCH, body, sizeof body, carry, carry_len);
    uint64_t seq = b->pending.seq = ++b->submitted_seq;
    kick(b);
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

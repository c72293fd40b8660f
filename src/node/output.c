/* The output writer (output.h): batches appended to DIR/output.bin, rotation into
 * DIR/output-SEQ.bin, retention, and the restart's continuation of the sequence. */
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

#define OUTPUT_BUF_BYTES (64u << 10)
#define OUTPUT_IOV_MAX 512
/* Every this many bytes written, the file's pages written before are handed to the kernel's
 * writeback and those of the step before are dropped from the page cache (see
 * drop_written). */
#define OUTPUT_DROP_BYTES (8u << 20)

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int rotate(output_file *o, char *err, size_t cap);
static void retain(output_file *o);

/* ---- restart: what the files hold ------------------------------------------------------------- */

typedef struct scan {
    output_position last;
    uint8_t chain[32];
} scan;

static void note_last(void *ctx, const output_batch_view *b, const output_unit_view *units)
{
    (void)units;
    scan *s = ctx;
    s->last = (output_position){.any = 1, .seq = b->seq, .epoch = b->epoch, .index = b->index,
                                .round = b->round};
    memcpy(s->last.head_hash, b->head_hash, 32);
    memcpy(s->chain, b->chain, 32);
}

/* Reads a file of this member: its header and last complete batch. -1 with err when it is
 * another's or unreadable; *keep: the bytes up to the end of its last complete batch. */
static int scan_file(const char *path, uint32_t member, uint64_t session, scan *s,
                     output_tail *hdr, uint64_t *keep, int *corrupt, char *err, size_t cap)
{
    output_tail t;
    if (output_tail_open(&t, path) != 0) {
        snprintf(err, cap, "cannot read output file %s: %s", path, strerror(errno));
        return -1;
    }
    long got = output_tail_poll(&t, note_last, s);
    int rc = 0;
    if (t.header_done && t.version != OUTPUT_VERSION) {
        snprintf(err, cap, "%s was written by an older aleph (output format %u): move it away",
                 path, t.version);
        rc = -1;
    } else if (t.header_done && (t.member != member || t.session != session)) {
        snprintf(err, cap,
                 "%s belongs to member %u of committee %016" PRIx64 ", not to member %u of "
                 "committee %016" PRIx64 ": use this member's own --data-dir",
                 path, t.member, t.session, member, session);
        rc = -1;
    } else if (!t.header_done && t.corrupt) {
        snprintf(err, cap, "%s is not an aleph output file: move it away", path);
        rc = -1;
    }
    if (rc == 0 && t.header_done && !s->last.any) memcpy(s->chain, t.chain, 32);
    *keep = t.header_done ? t.consumed : 0;
    *corrupt = got < 0;
    if (hdr) *hdr = t;
    else output_tail_close(&t);
    if (rc != 0 && hdr) output_tail_close(hdr);
    return rc;
}

static int write_header(output_file *o, char *err, size_t cap)
{
    uint8_t h[OUTPUT_FILE_HEADER_BYTES] = {0};
    memcpy(h, OUTPUT_MAGIC, 8);
    le32_put(h + 8, OUTPUT_VERSION);
    le32_put(h + 12, o->member);
    le64_put(h + 16, o->session);
    le64_put(h + 24, o->next_seq);
    le32_put(h + 32, (uint32_t)o->policy.mode);
    memcpy(h + 40, o->chain, 32);
    if (write_all(o->fd, h, sizeof h) != 0) {
        snprintf(err, cap, "cannot write %s/%s: %s", o->dir, OUTPUT_NAME, strerror(errno));
        return -1;
    }
    o->file_first_seq = o->next_seq;
    o->file_bytes = sizeof h;
    o->written_kick = o->written_drop = 0;
    return 0;
}

/* A new, empty DIR/output.bin beginning at next_seq, durable with its directory entry. */
static int create_current(output_file *o, char *err, size_t cap)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", o->dir, OUTPUT_NAME);
    o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        snprintf(err, cap, "cannot create output file %s: %s", path, strerror(errno));
        return -1;
    }
    if (write_header(o, err, cap) != 0) return -1;
    if (fdatasync(o->fd) != 0 || sync_dir(o->dir) != 0) {
        snprintf(err, cap, "cannot sync output file %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Continues from the newest rotated file (output.bin missing or empty). */
static int resume_rotated(output_file *o, char *err, size_t cap)
{
    uint64_t *seqs;
    size_t n;
    if (output_rotated_list(o->dir, &seqs, &n) != 0) {
        snprintf(err, cap, "cannot list %s: %s", o->dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    if (n) {
        char path[4200];
        output_rotated_path(path, sizeof path, o->dir, seqs[n - 1]);
        scan s = {0};
        uint64_t keep;
        int corrupt;
        rc = scan_file(path, o->member, o->session, &s, NULL, &keep, &corrupt, err, cap);
        if (rc == 0) {
            o->last = s.last;
            o->next_seq = s.last.any ? s.last.seq + 1 : seqs[n - 1];
            memcpy(o->chain, s.chain, 32);
        }
    }
    free(seqs);
    return rc;
}

/* Continues DIR/output.bin (size bytes). 1: it holds no header (start it anew). */
static int resume_current(output_file *o, const char *path, uint64_t size, char *err,
                          size_t cap)
{
    scan s = {0};
    output_tail t;
    uint64_t keep;
    int corrupt;
    if (scan_file(path, o->member, o->session, &s, &t, &keep, &corrupt, err, cap) != 0)
        return -1;
    int have_header = t.header_done;
    o->file_first_seq = t.first_seq;
    o->resumed_batches = t.batches;
    output_mode mode = t.mode;
    output_tail_close(&t);
    o->resume_corrupt = corrupt;
    if (keep < size) {
        o->resume_cut_bytes = size - keep;
        if (ftruncate(o->fd, (off_t)keep) != 0 || fdatasync(o->fd) != 0) {
            snprintf(err, cap, "cannot cut the torn tail of %s: %s", path, strerror(errno));
            return -1;
        }
    }
    if (!have_header) return 1;
    /* no batch here yet: the last one is in the newest rotated file */
    if (!s.last.any && resume_rotated(o, err, cap) != 0) return -1;
    if (s.last.any) o->last = s.last;
    o->next_seq = s.last.any ? s.last.seq + 1 : o->file_first_seq;
    memcpy(o->chain, s.chain, 32);
    o->file_bytes = keep;
    o->written_kick = o->written_drop = keep;
    /* A file of the other mode is finished: the policy's mode begins a new one. */
    return mode != o->policy.mode ? 2 : 0;
}


int output_open(output_file *o, const char *dir, uint32_t member, uint64_t session,
                const output_policy *policy, char *err, size_t cap)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    snprintf(o->dir, sizeof o->dir, "%s", dir);
    o->policy = *policy;
    o->member = member;
    o->session = session;
    o->cur_epoch = UINT32_MAX;
    o->cap = OUTPUT_BUF_BYTES;
    o->buf = malloc(o->cap);
    o->iov = malloc(OUTPUT_IOV_MAX * sizeof *o->iov);
    if (!o->buf || !o->iov) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, OUTPUT_NAME);
    struct stat st;
    int rc = 1;
    if (stat(path, &st) == 0 && st.st_size > 0) {
        uint64_t size;
        o->fd = file_open_append(path, 0644, "output", &size, err, cap);
        if (o->fd < 0) return -1;
        rc = resume_current(o, path, size, err, cap);
        if (rc < 0) return -1;
        if (rc == 1) {
            close(o->fd);
            o->fd = -1;
        }
    }
    if (rc == 1) {
        if (resume_rotated(o, err, cap) != 0 || create_current(o, err, cap) != 0) return -1;
    } else if (rc == 2 && rotate(o, err, cap) != 0) {
        return -1;
    }
    retain(o);
    return 0;
}

/* ---- writing ---------------------------------------------------------------------------------- */

/* The member never reads back what it wrote (a subscriber behind reads it, from the disk if it
 * must), and a write into fresh page-cache pages costs several times one into pages freed a
 * moment ago (docs/BENCHMARKS.md: 600 MB written in 1.1-1.6 s of system time, 0.23-0.26 s
 * when the pages are recycled; a member catching up writes ~300 MB of output). So every
 * OUTPUT_DROP_BYTES the range written since the last step is handed to writeback
 * (sync_file_range without waiting: no durability is claimed by it, output_sync still
 * makes the file durable), and the range handed over one step earlier, by then clean, is
 * dropped from the cache (POSIX_FADV_DONTNEED drops only clean pages; one still dirty
 * stays). Both are hints: an error changes nothing that is written. */
static void drop_written(output_file *o)
{
    if (o->file_bytes - o->written_kick < OUTPUT_DROP_BYTES) return;
    if (o->written_kick > o->written_drop)
        (void)posix_fadvise(o->fd, (off_t)o->written_drop,
                            (off_t)(o->written_kick - o->written_drop), POSIX_FADV_DONTNEED);
    (void)sync_file_range(o->fd, (off_t)o->written_kick,
                          (off_t)(o->file_bytes - o->written_kick), SYNC_FILE_RANGE_WRITE);
    o->written_drop = o->written_kick;
    o->written_kick = o->file_bytes;
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
        o->file_bytes += (uint64_t)w;
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
    if (!o->failed) drop_written(o);
}

int output_flush(output_file *o)
{
    if (o->iov_len) write_iov(o);
    return o->failed ? -1 : 0;
}

int output_sync(output_file *o)
{
    if (output_flush(o) != 0) return -1;
    if (o->fd >= 0 && fdatasync(o->fd) != 0) {
        o->failed = 1;
        o->errno_saved = errno;
        return -1;
    }
    return 0;
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

/* The file is finished: DIR/output.bin becomes DIR/output-FIRST.bin (durable first) and a
 * new DIR/output.bin begins at next_seq. A crash in between leaves no output.bin, and
 * output_open continues from the rotated file. */
static int rotate(output_file *o, char *err, size_t cap)
{
    char from[4200], to[4200];
    snprintf(from, sizeof from, "%s/%s", o->dir, OUTPUT_NAME);
    output_rotated_path(to, sizeof to, o->dir, o->file_first_seq);
    if (output_sync(o) != 0 || rename(from, to) != 0 || sync_dir(o->dir) != 0) {
        snprintf(err, cap, "cannot rotate %s into %s: %s", from, to,
                 strerror(o->failed ? o->errno_saved : errno));
        return -1;
    }
    close(o->fd);
    o->fd = -1;
    o->rotations++;
    o->resumed_batches = 0;
    return create_current(o, err, cap);
}

/* Deletes the oldest rotated files beyond keep_files / keep_bytes. */
static void retain(output_file *o)
{
    if (!o->policy.keep_files && !o->policy.keep_bytes) return;
    uint64_t *seqs;
    size_t n;
    if (output_rotated_list(o->dir, &seqs, &n) != 0) return;
    uint64_t *sizes = calloc(n ? n : 1, sizeof *sizes);
    if (!sizes) {
        free(seqs);
        return;
    }
    char path[4200];
    uint64_t total = 0;
    for (size_t k = 0; k < n; k++) {
        struct stat st;
        output_rotated_path(path, sizeof path, o->dir, seqs[k]);
        sizes[k] = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
        total += sizes[k];
    }
    size_t first = 0;
    while (first < n && ((o->policy.keep_files && n - first > o->policy.keep_files) ||
                         (o->policy.keep_bytes && total > o->policy.keep_bytes))) {
        output_rotated_path(path, sizeof path, o->dir, seqs[first]);
        if (unlink(path) == 0) {
            o->files_deleted++;
            o->bytes_deleted += sizes[first];
        }
        total -= sizes[first];
        first++;
    }
    if (first) sync_dir(o->dir);
    free(sizes);
    free(seqs);
}

static void put_batch_header(output_file *o, const aleph_batch *b, uint32_t epoch,
                             uint32_t index, uint64_t output_real_ns)
{
    uint64_t txs = 0, bytes = 0;
    output_chain_state st;
    output_chain_begin(&st, o->chain, epoch, index, b->round, b->head_creator,
                       (uint32_t)b->units_len, b->head_hash);
    for (size_t i = 0; i < b->units_len; i++) {
        const aleph_ordered_unit *u = &b->units[i];
        txs += u->txs_len;
        bytes += u->payload_len;
        output_chain_unit(&st, u->round, u->creator, (uint32_t)u->payload_len, u->hash);
    }
    output_chain_end(&st, o->chain);
    uint8_t h[OUTPUT_BATCH_HEADER_BYTES];
    le32_put(h, OUTPUT_BATCH_MAGIC);
    le64_put(h + 4, o->next_seq);
    le32_put(h + 12, epoch);
    le32_put(h + 16, index);
    le32_put(h + 20, b->round);
    le32_put(h + 24, b->head_creator);
    memcpy(h + 28, b->head_hash, 32);
    le32_put(h + 60, b->head_depth);
    le64_put(h + 64, output_real_ns);
    le32_put(h + 72, (uint32_t)b->units_len);
    le32_put(h + 76, (uint32_t)txs);
    le64_put(h + 80, bytes);
    memcpy(h + 88, o->chain, 32);
    add_header(o, h, sizeof h);
}

/* Where this batch stands against what the files hold. */
static int held_already(output_file *o, const aleph_batch *b, uint32_t epoch, uint32_t index)
{
    const output_position *l = &o->last;
    if (!l->any || epoch > l->epoch || (epoch == l->epoch && index > l->index))
        return OUTPUT_WRITTEN;
    if (epoch == l->epoch && index == l->index &&
        (b->round != l->round || memcmp(b->head_hash, l->head_hash, 32) != 0))
        return OUTPUT_MISMATCH;
    return OUTPUT_HELD;
}

int output_batch(output_file *o, const aleph_batch *b, uint32_t epoch, uint64_t output_real_ns,
                 int *gap)
{
    if (epoch != o->cur_epoch) {
        o->cur_epoch = epoch;
        o->cur_index = 0;
    }
    uint32_t index = o->cur_index++;
    *gap = 0;
    int held = held_already(o, b, epoch, index);
    if (held != OUTPUT_WRITTEN) return held;
    const output_position *l = &o->last;
    if (l->any) *gap = epoch == l->epoch ? index != l->index + 1 : index != 0;
    char err[512];
    if (o->fd >= 0 && o->policy.rotate_epoch && index == 0 && o->next_seq > o->file_first_seq) {
        if (rotate(o, err, sizeof err) == 0) {
            retain(o);
        } else if (!o->failed) {
            o->failed = 1;
            o->errno_saved = errno ? errno : EIO;
        }
    }
    if (o->fd < 0 || o->failed) return OUTPUT_WRITTEN;
    put_batch_header(o, b, epoch, index, output_real_ns);
    if (o->policy.mode == OUTPUT_FULL)
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
    o->last = (output_position){.any = 1, .seq = o->next_seq, .epoch = epoch, .index = index,
                                .round = b->round};
    memcpy(o->last.head_hash, b->head_hash, 32);
    o->next_seq++;
    o->batches++;
    o->units += b->units_len;
    if (o->policy.rotate_bytes && o->file_bytes >= o->policy.rotate_bytes && !o->failed) {
        if (rotate(o, err, sizeof err) != 0) {
            if (!o->failed) {
                o->failed = 1;
                o->errno_saved = errno ? errno : EIO;
            }
        } else {
            retain(o);
        }
    }
    return OUTPUT_WRITTEN;
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

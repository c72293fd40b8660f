#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

int backup_open(backup_file *b, const char *path, char *err, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (b->fd < 0) {
        snprintf(err, cap, "cannot open backup file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(b->fd, &st) == 0 && st.st_size > 0) {
        snprintf(err, cap,
                 "%s holds units of an earlier run; restart from a backup is not supported yet, "
                 "and starting afresh with the same key could fork: use a new committee "
                 "(aleph keygen) and an empty --data-dir",
                 path);
        close(b->fd);
        b->fd = -1;
        return -1;
    }
    return 0;
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

/* worker thread: touches only b->fd and b->writing */
static void write_and_sync(uv_work_t *w)
{
    backup_file *b = w->data;
    b->work_error = 0;
    if (write_all(b->fd, b->writing.data, b->writing.len) != 0) {
        b->work_error = errno;
        return;
    }
    uint64_t t0 = clock_mono_ns();
    if (fdatasync(b->fd) != 0) b->work_error = errno;
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
    for (size_t i = 0; i < n; i++) need += 4 + blobs[i].len;
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
        le32_put(p->data + p->len, (uint32_t)blobs[i].len);
        memcpy(p->data + p->len + 4, blobs[i].data, blobs[i].len);
        p->len += 4 + blobs[i].len;
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

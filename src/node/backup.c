#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

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

int backup_append(backup_file *b, const aleph_blob *blobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t len[4];
        le32_put(len, (uint32_t)blobs[i].len);
        struct iovec iov[2] = {{len, 4}, {(void *)blobs[i].data, blobs[i].len}};
        size_t want = 4 + blobs[i].len;
        ssize_t w;
        do {
            w = writev(b->fd, iov, 2);
        } while (w < 0 && errno == EINTR);
        if (w < 0) return -1;
        if ((size_t)w != want) {
            /* Short write: finish byte by byte through write_all. */
            size_t done = (size_t)w;
            if (done < 4) {
                if (write_all(b->fd, len + done, 4 - done) != 0) return -1;
                done = 4;
            }
            if (write_all(b->fd, blobs[i].data + (done - 4), blobs[i].len - (done - 4)) != 0)
                return -1;
        }
        b->units++;
        b->bytes += want;
    }
    if (n) {
        uint64_t t0 = clock_mono_ns();
        if (fdatasync(b->fd) != 0) return -1;
        uint64_t dt = clock_mono_ns() - t0;
        b->syncs++;
        b->sync_ns_total += dt;
        if (dt > b->sync_ns_max) b->sync_ns_max = dt;
    }
    return 0;
}

void backup_close(backup_file *b)
{
    if (b->fd >= 0) close(b->fd);
    b->fd = -1;
}

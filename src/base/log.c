#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define LOG_BUF_BYTES (1024u * 1024u)
/* A stats line carries one entry per peer: room for the largest committee. */
#define LOG_LINE_MAX (256u * 1024u)

static const char *level_names[] = {"debug", "info", "warn", "error"};

int log_open(node_log *l, const char *path, uint32_t member, int level_min, char *err,
             size_t cap)
{
    memset(l, 0, sizeof *l);
    l->member = member;
    l->level_min = level_min;
    if (strcmp(path, "-") == 0) {
        l->fd = STDERR_FILENO;
    } else {
        l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (l->fd < 0) {
            snprintf(err, cap, "cannot open log file %s: %s", path, strerror(errno));
            return -1;
        }
        l->own_fd = 1;
    }
    l->cap = LOG_BUF_BYTES;
    l->buf = malloc(l->cap);
    if (!l->buf) {
        snprintf(err, cap, "out of memory");
        if (l->own_fd) close(l->fd);
        return -1;
    }
    return 0;
}

void log_flush(node_log *l)
{
    if (l->len && l->fd >= 0) (void)write_all(l->fd, l->buf, l->len);
    l->len = 0;
}

void log_line(node_log *l, int level, const char *event, const char *fields, ...)
{
    if (!l->buf || level < l->level_min) return;
    l->lines[level]++;
    if (l->cap - l->len < LOG_LINE_MAX) log_flush(l);
    char ts[40];
    clock_iso8601(ts, sizeof ts, clock_real_ns());
    char *p = l->buf + l->len;
    size_t room = LOG_LINE_MAX - 2;
    int w = snprintf(p, room, "{\"ts\":\"%s\",\"level\":\"%s\",\"member\":%u,\"event\":\"%s\"", ts,
                     level_names[level], l->member, event);
    if (w < 0 || (size_t)w >= room) return;
    size_t used = (size_t)w;
    if (fields) {
        p[used++] = ',';
        va_list ap;
        va_start(ap, fields);
        w = vsnprintf(p + used, room - used, fields, ap);
        va_end(ap);
        if (w < 0 || (size_t)w >= room - used) {
            used--; /* drop the over-long fields, keep the line valid */
        } else {
            used += (size_t)w;
        }
    }
    p[used++] = '}';
    p[used++] = '\n';
    l->len += used;
    if (level >= LOG_WARN || l->fd == STDERR_FILENO) log_flush(l);
}

void log_close(node_log *l)
{
    log_flush(l);
    if (l->own_fd && l->fd >= 0) close(l->fd);
    free(l->buf);
    l->buf = NULL;
    l->fd = -1;
}

char *log_escape(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}

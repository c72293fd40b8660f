/* JSON-lines log of a node: one object per line, readable by a person too:
 *   {"ts":"2024-05-01T12:00:00.123Z","level":"info","member":0,"event":"unit_created",...}
 * Levels: "debug", "info", "warn", "error". "warn" is kept for input that was dropped (a
 * faulty or hostile peer or client), so a run with only honest members has no warn line.
 * Lines are buffered and written on a timer, when the buffer fills, and at shutdown. */
#ifndef ALEPH_NODE_LOG_H
#define ALEPH_NODE_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

typedef struct node_log {
    int fd;
    int own_fd;          /* close fd at the end */
    uint32_t member;
    int level_min;
    char *buf;
    size_t len, cap;
    uint64_t lines[4];   /* per level */
} node_log;

/* path "-" logs to stderr. Returns 0, or -1 with a message in err. */
int log_open(node_log *l, const char *path, uint32_t member, int level_min, char *err,
             size_t cap);
/* `fields` is a printf format for the rest of the object, e.g. "\"round\":%u"; may be NULL. */
void log_line(node_log *l, int level, const char *event, const char *fields, ...)
    __attribute__((format(printf, 4, 5)));
void log_flush(node_log *l);
void log_close(node_log *l);
/* Writes s as a JSON string body (escaped, no quotes) into out; returns out. */
char *log_escape(char *out, size_t cap, const char *s);

#endif

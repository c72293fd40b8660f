/* Small helpers shared by the node and its tools: hex, little-endian integers, clocks, file
 * writing. (Options: base/options.h.) */
#ifndef ALEPH_NODE_UTIL_H
#define ALEPH_NODE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- hex ---------------------------------------------------------------------------------- */

/* Writes 2*len lowercase hex digits and a NUL into out. */
void hex_encode(char *out, const uint8_t *in, size_t len);
/* Decodes exactly len bytes from a string of exactly 2*len hex digits; -1 otherwise. */
int hex_decode(uint8_t *out, size_t len, const char *hex);

/* ---- little-endian -------------------------------------------------------------------------- */

static inline void le16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void le32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t le32_get(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void le64_put(uint8_t *p, uint64_t v)
{
    le32_put(p, (uint32_t)v);
    le32_put(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t le64_get(const uint8_t *p)
{
    return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

/* ---- clocks --------------------------------------------------------------------------------- */

uint64_t clock_mono_ns(void);
uint64_t clock_mono_ms(void);
/* Wall clock: shared by every process on one host, so send and output times compare. */
uint64_t clock_real_ns(void);
/* "2024-05-01T12:00:00.123Z" into out (at least 32 bytes). */
void clock_iso8601(char *out, size_t cap, uint64_t real_ns);

/* This process's resident set size in bytes (from /proc/self/statm); 0 when unknown. */
double process_rss_bytes(void);

/* ---- files ---------------------------------------------------------------------------------- */

/* write() until done or an error other than EINTR; 0 or -1 (errno set). */
int write_all(int fd, const void *buf, size_t len);
/* Opens PATH for appending (created with mode when absent; WHAT names it in messages, e.g.
 * "backup"); the file's size in *size. The descriptor, or -1 with a message in err. */
int file_open_append(const char *path, int mode, const char *what, uint64_t *size, char *err,
                     size_t errcap);
/* mkdir -p; 0 or -1 with a message in err. */
int make_dirs(const char *path, int mode, char *err, size_t errcap);
/* Bytes the files under a directory take on disk (allocated blocks), 0 when unreadable. */
uint64_t dir_disk_bytes(const char *path);

/* Prints each line of a (possibly multi-line) message as "PREFIX: line" on stderr. */
void print_error_lines(const char *prefix, const char *msg);

/* 1 when every port first..first+count-1 can be bound on 127.0.0.1 right now. */
int loopback_ports_free(uint32_t first, uint32_t count);

#endif

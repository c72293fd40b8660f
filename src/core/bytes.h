/* Bounded little-endian readers and writers. Every read checks the remaining length first,
 * so decoders built on them cannot run past their input. */
#ifndef ALEPH_BYTES_H
#define ALEPH_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct byte_reader {
    const uint8_t *p;
    size_t left;
    int failed; /* set by any read past the end; sticky */
} byte_reader;

static inline void reader_init(byte_reader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->left = len;
    r->failed = 0;
}

static inline const uint8_t *reader_take(byte_reader *r, size_t n)
{
    if (r->failed || r->left < n) {
        r->failed = 1;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    r->left -= n;
    return at;
}

static inline uint64_t reader_uint(byte_reader *r, size_t n)
{
    const uint8_t *at = reader_take(r, n);
    uint64_t v = 0;
    if (!at) return 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)at[i] << (8 * i);
    return v;
}

static inline uint8_t reader_u8(byte_reader *r)
{
    return (uint8_t)reader_uint(r, 1);
}
static inline uint16_t reader_u16(byte_reader *r)
{
    return (uint16_t)reader_uint(r, 2);
}
static inline uint32_t reader_u32(byte_reader *r)
{
    return (uint32_t)reader_uint(r, 4);
}
static inline uint64_t reader_u64(byte_reader *r)
{
    return reader_uint(r, 8);
}

static inline void put_uint(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A writer into a caller-sized buffer; the caller computes the size first. */
typedef struct byte_writer {
    uint8_t *p;
    size_t left;
    int failed;
} byte_writer;

static inline void writer_init(byte_writer *w, uint8_t *p, size_t cap)
{
    w->p = p;
    w->left = cap;
    w->failed = 0;
}

static inline void writer_bytes(byte_writer *w, const void *src, size_t n)
{
    if (w->failed || w->left < n) {
        w->failed = 1;
        return;
    }
    if (n) memcpy(w->p, src, n);
    w->p += n;
    w->left -= n;
}

static inline void writer_uint(byte_writer *w, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    put_uint(tmp, v, n);
    writer_bytes(w, tmp, n);
}

#endif

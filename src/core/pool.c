/* The local transaction pool: a bounded ring of [u32 length][bytes] records. When it is full
 * a submit is refused, which is the back-pressure a client sees. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "member.h"

int pool_init(tx_pool *p, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->buf = core_malloc(cap ? cap : 1);
    p->cap = cap;
    return p->buf ? 0 : -1;
}

void pool_free(tx_pool *p)
{
    core_free(p->buf);
    memset(p, 0, sizeof *p);
}

static void ring_write(tx_pool *p, size_t at, const uint8_t *src, size_t n)
{
    at %= p->cap;
    size_t first = n < p->cap - at ? n : p->cap - at;
    memcpy(p->buf + at, src, first);
    memcpy(p->buf, src + first, n - first);
}

static void ring_read(const tx_pool *p, size_t at, uint8_t *dst, size_t n)
{
    at %= p->cap;
    size_t first = n < p->cap - at ? n : p->cap - at;
    memcpy(dst, p->buf + at, first);
    memcpy(dst + first, p->buf, n - first);
}

aleph_submit_status pool_add(tx_pool *p, const uint8_t *tx, size_t len, size_t tx_bytes_max)
{
    if (len == 0 || len > tx_bytes_max) return ALEPH_SUBMIT_TOO_LARGE;
    if (p->cap - p->used < len + 4) return ALEPH_SUBMIT_POOL_FULL;
    uint8_t hdr[4];
    put_uint(hdr, len, 4);
    size_t tail = p->head + p->used;
    ring_write(p, tail, hdr, 4);
    ring_write(p, tail + 4, tx, len);
    p->used += len + 4;
    p->txs++;
    return ALEPH_SUBMIT_OK;
}

size_t pool_take(tx_pool *p, uint8_t *buf, size_t cap)
{
    size_t out = 0;
    while (p->used >= 4) {
        uint8_t hdr[4];
        ring_read(p, p->head, hdr, 4);
        size_t len =
            (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 24;
        if (out + 4 + len > cap) break;
        memcpy(buf + out, hdr, 4);
        ring_read(p, p->head + 4, buf + out + 4, len);
        out += 4 + len;
        p->head = (p->head + 4 + len) % p->cap;
        p->used -= 4 + len;
        p->txs--;
    }
    if (p->used == 0) p->head = 0;
    return out;
}

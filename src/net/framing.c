#include "framing.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Assembly buffers above this are released after use rather than kept for the next frame. */
#define BODY_KEEP_MAX (256u * 1024u)

void frame_reader_init(frame_reader *r, uint32_t body_bytes_max)
{
    memset(r, 0, sizeof *r);
    r->body_bytes_max = body_bytes_max;
}

void frame_reader_free(frame_reader *r)
{
    free(r->body);
    r->body = NULL;
    r->body_cap = 0;
}

int frame_reader_feed(frame_reader *r, const uint8_t *data, size_t len, frame_fn fn, void *ctx,
                      uint32_t *declared)
{
    while (len > 0 || (r->in_body && r->body_have == r->body_len)) {
        if (!r->in_body) {
            /* Fast path: a whole frame in the input, handed over in place. */
            if (r->header_have == 0 && len >= FRAME_HEADER_BYTES) {
                uint32_t n = le32_get(data);
                if (n > r->body_bytes_max) {
                    if (declared) *declared = n;
                    return FRAME_TOO_LARGE;
                }
                if (len - FRAME_HEADER_BYTES >= n) {
                    data += FRAME_HEADER_BYTES;
                    len -= FRAME_HEADER_BYTES;
                    if (fn(ctx, data, n) != 0) return FRAME_STOPPED;
                    data += n;
                    len -= n;
                    continue;
                }
            }
            uint32_t take = FRAME_HEADER_BYTES - r->header_have;
            if (take > len) take = (uint32_t)len;
            memcpy(r->header + r->header_have, data, take);
            r->header_have += take;
            data += take;
            len -= take;
            if (r->header_have < FRAME_HEADER_BYTES) return FRAME_OK;
            uint32_t n = le32_get(r->header);
            if (n > r->body_bytes_max) {
                if (declared) *declared = n;
                return FRAME_TOO_LARGE;
            }
            r->body_len = n;
            r->body_have = 0;
            r->in_body = 1;
            if (n > r->body_cap) {
                free(r->body);
                r->body = malloc(n);
                if (!r->body) {
                    r->body_cap = 0;
                    return FRAME_NO_MEMORY;
                }
                r->body_cap = n;
            }
        }
        uint32_t want = r->body_len - r->body_have;
        uint32_t take = want < len ? want : (uint32_t)len;
        if (take) memcpy(r->body + r->body_have, data, take);
        r->body_have += take;
        data += take;
        len -= take;
        if (r->body_have == r->body_len) {
            static const uint8_t empty[1];
            r->in_body = 0;
            r->header_have = 0;
            /* The reader stays valid inside fn: connections free it in their close callback. */
            int stop = fn(ctx, r->body ? r->body : empty, r->body_len);
            if (r->body_cap > BODY_KEEP_MAX) {
                free(r->body);
                r->body = NULL;
                r->body_cap = 0;
            }
            if (stop) return FRAME_STOPPED;
        }
    }
    return FRAME_OK;
}

uint8_t *frame_reader_direct(frame_reader *r, size_t min, size_t *len)
{
    if (!r->in_body || !r->body) return NULL;
    size_t missing = r->body_len - r->body_have;
    if (missing < min) return NULL;
    *len = missing;
    return r->body + r->body_have;
}

int frame_reader_direct_done(frame_reader *r, size_t n, frame_fn fn, void *ctx)
{
    r->body_have += (uint32_t)n;
    if (r->body_have < r->body_len) return FRAME_OK;
    r->in_body = 0;
    r->header_have = 0;
    int stop = fn(ctx, r->body, r->body_len);
    if (r->body_cap > BODY_KEEP_MAX) {
        free(r->body);
        r->body = NULL;
        r->body_cap = 0;
    }
    return stop ? FRAME_STOPPED : FRAME_OK;
}

/* libFuzzer target: the frame reader (src/net/framing.c) on an arbitrary byte stream cut into
 * arbitrary reads, some of them straight into the body (frame_reader_direct, as peer.c reads
 * large frames). Whatever the cuts, the frames handed over must be exactly those of the
 * stream read whole (a reference reader here: u32 length, body), the same error at the same
 * frame (a declared length over the limit), and a callback that asks to stop must stop it.
 *
 * Input: byte 0 picks the limit (HS_FRAME_MAX-sized to 1 MiB), byte 1 the frame after which
 * the callback stops (0: never), bytes 2-5 seed the cuts; the rest is the stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/framing.h"

typedef struct expect {
    const uint8_t *stream;
    size_t stream_len, off; /* the reference reader's position */
    uint32_t limit;
    uint32_t frames, stop_after;
} expect;

/* The reference: the next frame of the whole stream (0), none complete (1), too large (-1). */
static int reference_next(expect *e, const uint8_t **body, uint32_t *len)
{
    if (e->stream_len - e->off < 4) return 1;
    const uint8_t *p = e->stream + e->off;
    uint32_t n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (n > e->limit) return -1;
    if (e->stream_len - e->off - 4 < n) return 1;
    *body = p + 4;
    *len = n;
    e->off += 4 + (size_t)n;
    return 0;
}

static int on_frame(void *ctx, const uint8_t *data, size_t len)
{
    expect *e = ctx;
    const uint8_t *body;
    uint32_t want;
    if (reference_next(e, &body, &want) != 0 || want != len || memcmp(body, data, len) != 0)
        abort();
    e->frames++;
    return e->stop_after && e->frames == e->stop_after;
}

static uint32_t next_cut(uint32_t *rng)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 17;
    *rng ^= *rng << 5;
    return *rng;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6) return 0;
    static const uint32_t limits[] = {0, 1, 128, 4096, 65536, 1u << 20};
    expect e = {.stream = data + 6, .stream_len = size - 6,
                .limit = limits[data[0] % (sizeof limits / sizeof limits[0])],
                .stop_after = data[1]};
    uint32_t rng = ((uint32_t)data[2] | (uint32_t)data[3] << 8 | (uint32_t)data[4] << 16 |
                    (uint32_t)data[5] << 24) | 1u;
    frame_reader r;
    frame_reader_init(&r, e.limit);
    size_t off = 0;
    int rc = FRAME_OK;
    uint32_t declared = 0;
    while (off < e.stream_len && rc == FRAME_OK) {
        size_t left = e.stream_len - off;
        size_t direct_len;
        uint8_t *direct = frame_reader_direct(&r, 1 + next_cut(&rng) % 64, &direct_len);
        if (direct && next_cut(&rng) % 2) {
            /* As a socket read into the body: at most what the body still misses. */
            size_t n = 1 + next_cut(&rng) % direct_len;
            if (n > left) n = left;
            memcpy(direct, e.stream + off, n);
            off += n;
            rc = frame_reader_direct_done(&r, n, on_frame, &e);
            continue;
        }
        uint32_t cut = next_cut(&rng);
        size_t n = cut % 4 == 0 ? left : 1 + cut % (left < 300 ? left : 300);
        rc = frame_reader_feed(&r, e.stream + off, n, on_frame, &e, &declared);
        off += n;
    }
    const uint8_t *body;
    uint32_t len;
    if (rc == FRAME_STOPPED) {
        if (!e.stop_after || e.frames != e.stop_after) abort();
    } else if (rc == FRAME_TOO_LARGE) {
        /* The reference reaches the same frame and finds it too large, with that length. */
        if (reference_next(&e, &body, &len) != -1) abort();
        const uint8_t *p = e.stream + e.off;
        if (declared != ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                         (uint32_t)p[3] << 24))
            abort();
    } else if (rc == FRAME_OK) {
        /* Everything read: all the reference has left is an incomplete frame. */
        if (reference_next(&e, &body, &len) != 1) abort();
    } else if (rc != FRAME_NO_MEMORY) {
        abort();
    }
    frame_reader_free(&r);
    return 0;
}

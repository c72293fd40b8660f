/* Length-prefixed frames on a byte stream: u32 little-endian length, then that many bytes.
 * The same framing carries member messages, handshake messages and client transactions.
 *
 * The reader works in stages (header, then body) so a frame may arrive in any number of
 * pieces; a frame that arrives whole inside one read is handed over in place, without a
 * copy. A declared length above the reader's limit is an error the caller answers by
 * dropping the connection: nothing that large is ever allocated. */
#ifndef ALEPH_NODE_FRAMING_H
#define ALEPH_NODE_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER_BYTES 4u

typedef struct frame_reader {
    uint32_t body_bytes_max;      /* largest body accepted */
    uint8_t header[4];
    uint32_t header_have;
    int in_body;
    uint32_t body_len, body_have;
    uint8_t *body;         /* assembly buffer for frames split across reads */
    uint32_t body_cap;
} frame_reader;

/* Called per complete frame; returns 0 to go on, non-zero to stop (e.g. the connection was
 * closed inside the callback). */
typedef int (*frame_fn)(void *ctx, const uint8_t *data, size_t len);

enum frame_result {
    FRAME_OK = 0,
    FRAME_TOO_LARGE = -1, /* declared length over body_bytes_max */
    FRAME_STOPPED = -2,   /* the callback asked to stop */
    FRAME_NO_MEMORY = -3,
};

void frame_reader_init(frame_reader *r, uint32_t body_bytes_max);
void frame_reader_free(frame_reader *r);
/* Consumes len bytes; on FRAME_TOO_LARGE *declared holds the offending length. */
int frame_reader_feed(frame_reader *r, const uint8_t *data, size_t len, frame_fn fn, void *ctx,
                      uint32_t *declared);

/* While a large frame body is being assembled the next read can go straight into it, saving
 * a copy: returns where and how much may be read (only when at least `min` bytes of the body
 * are missing), else NULL. */
uint8_t *frame_reader_direct(frame_reader *r, size_t min, size_t *len);
/* Accounts for n bytes read straight into the body (n <= the *len given); calls fn when the
 * frame is complete. Returns FRAME_OK or FRAME_STOPPED. */
int frame_reader_direct_done(frame_reader *r, size_t n, frame_fn fn, void *ctx);

#endif

/* The bounded send queue of one peer. It holds frames (shared, reference-counted: a
 * broadcast is encoded once for all peers) and is bounded in bytes. When it would overflow,
 * the oldest queued broadcast unit copies are dropped first (anti-entropy heals what they
 * carried); if that is not enough the new message is dropped. Both are counted. */
#ifndef ALEPH_NET_SEND_QUEUE_H
#define ALEPH_NET_SEND_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define SEND_QUEUE_FRAMES_MAX (1u << 16)

/* A frame ready to send: u32 length + message, shared by every peer it goes to. */
typedef struct out_frame {
    uint32_t refs;
    uint32_t len;         /* bytes in data, header included */
    uint8_t droppable;    /* a broadcast copy of a unit: first to go under back-pressure */
    uint8_t data[];
} out_frame;

out_frame *out_frame_new(const uint8_t *msg, size_t len, int droppable);
void out_frame_unref(out_frame *f);

/* A ring of frames; NULL entries are frames dropped in place. */
typedef struct send_queue {
    out_frame **v;
    uint32_t cap, head, len;
    size_t bytes;
    uint64_t dropped;             /* messages dropped because the queue was full */
    uint64_t dropped_bytes;
} send_queue;

/* Queues f (takes its own reference), or drops it (counted) when bytes_max would be passed
 * even after dropping the oldest droppable frames. */
void send_queue_push(send_queue *q, out_frame *f, size_t bytes_max);
/* The oldest frame (the caller owns the queue's reference), or NULL when empty. */
out_frame *send_queue_pop(send_queue *q);
/* Drops (counted) every droppable frame: broadcast unit copies to a peer that is not
 * connected would be stale when it comes back, and it catches up by ranges instead. */
void send_queue_drop_droppable(send_queue *q);
void send_queue_free(send_queue *q);

#endif

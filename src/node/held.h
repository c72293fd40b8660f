/* Messages held until the backup is durable (durable-before-sent: an own unit, and every
 * message produced after it, go out only once the backup record is synced). A FIFO of
 * frames, each tagged with the persist sequence it waits for, bounded in bytes: when a slow
 * disk would make it grow without end, a new message beyond the bound is dropped and
 * counted, never sent early. Every member message is recoverable (requests, anti-entropy),
 * so a drop costs time, not safety. */
#ifndef ALEPH_NODE_HELD_H
#define ALEPH_NODE_HELD_H

#include <stddef.h>
#include <stdint.h>

#include "net/send_queue.h"

#define HELD_BYTES_MAX_DEFAULT (64u << 20)

typedef struct held_queue {
    struct held_msg {
        uint64_t seq;
        uint32_t to;
        out_frame *f;
    } * v;
    size_t head, len, cap;
    size_t bytes, bytes_max;
    uint64_t total, len_max, dropped, dropped_bytes;
} held_queue;

void held_init(held_queue *q, size_t bytes_max);
/* Takes a reference to f and keeps it until `seq` is durable. Returns 0, or -1 when it was
 * dropped (over the bound, or out of memory; counted): the caller then must not send it. */
int held_push(held_queue *q, uint64_t seq, uint32_t to, out_frame *f);
/* Calls send(ctx, to, f) for every held frame whose sequence is durable, in order, and
 * releases it. send may be NULL (stopping: release only). */
void held_release(held_queue *q, uint64_t durable_seq,
                  void (*send)(void *ctx, uint32_t to, out_frame *f), void *ctx);
void held_free(held_queue *q);

#endif

/* The queue of messages held until the backup is durable (held.h). */
#include "held.h"

#include <stdlib.h>
#include <string.h>

void held_init(held_queue *q, size_t bytes_max)
{
    memset(q, 0, sizeof *q);
    q->bytes_max = bytes_max;
}

static int grow(held_queue *q)
{
    size_t cap = q->cap ? q->cap * 2 : 256;
    struct held_msg *grown = malloc(cap * sizeof *grown);
    if (!grown) return -1;
    for (size_t i = 0; i < q->len; i++) grown[i] = q->v[(q->head + i) % q->cap];
    free(q->v);
    q->v = grown;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int held_push(held_queue *q, uint64_t seq, uint32_t to, out_frame *f)
{
    if (q->bytes + f->len > q->bytes_max || (q->len == q->cap && grow(q) != 0)) {
        q->dropped++;
        q->dropped_bytes += f->len;
        return -1;
    }
    f->refs++;
    q->v[(q->head + q->len) % q->cap] = (struct held_msg){.seq = seq, .to = to, .f = f};
    q->len++;
    q->bytes += f->len;
    q->total++;
    if (q->len > q->len_max) q->len_max = q->len;
    return 0;
}

void held_release(held_queue *q, uint64_t durable_seq,
                  void (*send)(void *ctx, uint32_t to, out_frame *f), void *ctx)
{
    while (q->len && q->v[q->head].seq <= durable_seq) {
        struct held_msg *h = &q->v[q->head];
        if (send) send(ctx, h->to, h->f);
        q->bytes -= h->f->len;
        out_frame_unref(h->f);
        q->head = (q->head + 1) % q->cap;
        q->len--;
    }
}

void held_free(held_queue *q)
{
    held_release(q, UINT64_MAX, NULL, NULL);
    free(q->v);
    memset(q, 0, sizeof *q);
}

/* The bounded send queue of one peer (send_queue.h). */
#include "send_queue.h"

#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "base/util.h"

out_frame *out_frame_new(const uint8_t *msg, size_t len, int droppable)
{
    out_frame *f = malloc(sizeof *f + FRAME_HEADER_BYTES + len);
    if (!f) return NULL;
    f->refs = 1;
    f->len = (uint32_t)(FRAME_HEADER_BYTES + len);
    f->droppable = (uint8_t)(droppable != 0);
    le32_put(f->data, (uint32_t)len);
    memcpy(f->data + FRAME_HEADER_BYTES, msg, len);
    return f;
}

void out_frame_unref(out_frame *f)
{
    if (f && --f->refs == 0) free(f);
}

static out_frame **queue_at(send_queue *q, uint32_t i)
{
    return &q->v[(q->head + i) & (q->cap - 1)];
}

static void queue_drop_at(send_queue *q, uint32_t i)
{
    out_frame **slot = queue_at(q, i);
    out_frame *f = *slot;
    q->bytes -= f->len;
    q->dropped++;
    q->dropped_bytes += f->len;
    out_frame_unref(f);
    *slot = NULL;
}

static void queue_trim_front(send_queue *q)
{
    while (q->len && *queue_at(q, 0) == NULL) {
        q->head = (q->head + 1) & (q->cap - 1);
        q->len--;
    }
}

static int queue_compact(send_queue *q)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < q->len; i++) {
        out_frame *f = *queue_at(q, i);
        if (f) *queue_at(q, w++) = f;
    }
    int freed = w < q->len;
    q->len = w;
    return freed;
}

void send_queue_push(send_queue *q, out_frame *f, size_t bytes_max)
{
    if (q->bytes + f->len > bytes_max) {
        /* Back-pressure: drop the oldest broadcast unit copies down to a low-water mark, so
         * that the scan is paid once per many messages. */
        size_t low = bytes_max / 4 * 3;
        for (uint32_t i = 0; i < q->len && q->bytes + f->len > low; i++) {
            out_frame *g = *queue_at(q, i);
            if (g && g->droppable) queue_drop_at(q, i);
        }
        queue_trim_front(q);
        if (q->bytes + f->len > bytes_max) {
            q->dropped++;
            q->dropped_bytes += f->len;
            return;
        }
    }
    if (q->len == q->cap) {
        if (q->cap < SEND_QUEUE_FRAMES_MAX) {
            uint32_t cap = q->cap ? q->cap * 2 : 64;
            out_frame **grown = malloc(cap * sizeof *grown);
            if (!grown) {
                q->dropped++;
                return;
            }
            for (uint32_t i = 0; i < q->len; i++) grown[i] = *queue_at(q, i);
            free(q->v);
            q->v = grown;
            q->cap = cap;
            q->head = 0;
        } else if (!queue_compact(q)) {
            q->dropped++;
            q->dropped_bytes += f->len;
            return;
        }
    }
    f->refs++;
    *queue_at(q, q->len++) = f;
    q->bytes += f->len;
}

out_frame *send_queue_pop(send_queue *q)
{
    queue_trim_front(q);
    if (!q->len) return NULL;
    out_frame *f = *queue_at(q, 0);
    q->head = (q->head + 1) & (q->cap - 1);
    q->len--;
    q->bytes -= f->len;
    return f;
}

void send_queue_free(send_queue *q)
{
    for (uint32_t i = 0; i < q->len; i++) out_frame_unref(*queue_at(q, i));
    free(q->v);
    q->v = NULL;
    q->len = q->cap = 0;
    q->bytes = 0;
}

void send_queue_drop_droppable(send_queue *q)
{
    for (uint32_t i = 0; i < q->len; i++) {
        out_frame *f = *queue_at(q, i);
        if (f && f->droppable) queue_drop_at(q, i);
    }
    queue_compact(q);
}

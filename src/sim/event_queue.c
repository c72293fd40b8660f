#include "event_queue.h"

#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

sim_msg *sim_msg_new(const uint8_t *data, size_t len)
{
    sim_msg *m = malloc(sizeof *m + (len ? len : 1));
    if (!m) return NULL;
    m->refs = 0;
    m->len = (uint32_t)len;
    m->hostile = 0;
    m->label = NULL;
    if (len) memcpy(m->data, data, len);
    return m;
}

void sim_msg_release(sim_msg *m)
{
    if (m && --m->refs == 0) free(m);
}

void sim_queue_init(sim_queue *q)
{
    memset(q, 0, sizeof *q);
}

void sim_queue_free(sim_queue *q)
{
    for (size_t i = 0; i < q->len; i++) sim_msg_release(q->heap[i].msg);
    free(q->heap);
    memset(q, 0, sizeof *q);
}

static int earlier(const sim_event *a, const sim_event *b)
{
    return a->at_ms < b->at_ms || (a->at_ms == b->at_ms && a->seq < b->seq);
}

int sim_queue_push(sim_queue *q, sim_event ev)
{
    if (q->len == q->cap) {
        sim_event *grown = array_grow(q->heap, &q->cap, q->len + 1, sizeof *grown, 1024);
        if (!grown) return -1;
        q->heap = grown;
    }
    ev.seq = q->next_seq++;
    size_t i = q->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(&ev, &q->heap[parent])) break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = ev;
    if (q->len > q->len_max) q->len_max = q->len;
    return 0;
}

int sim_queue_pop(sim_queue *q, sim_event *out)
{
    if (q->len == 0) return 0;
    *out = q->heap[0];
    sim_event last = q->heap[--q->len];
    size_t i = 0, n = q->len;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && earlier(&q->heap[child + 1], &q->heap[child])) child++;
        if (!earlier(&q->heap[child], &last)) break;
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (n) q->heap[i] = last;
    return 1;
}

uint64_t sim_queue_peek_ms(const sim_queue *q)
{
    return q->len ? q->heap[0].at_ms : UINT64_MAX;
}

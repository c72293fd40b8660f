/* The update handed back by a step. Message bodies live in one arena that grows during the
 * step; pointers are handed out only at the end, when the arena no longer moves. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "member.h"
#include "message.h"

static int reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    if (need > SIZE_MAX / 2 / elem) return -1;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) ncap *= 2;
    void *grown = core_realloc(*arr, ncap * elem);
    if (!grown) return -1;
    *arr = grown;
    *cap = ncap;
    return 0;
}

void outbox_reset(outbox *o)
{
    o->arena_len = 0;
    o->msgs_len = 0;
    o->persists_len = 0;
    o->persist_own = 0;
    o->batches_len = 0;
    o->ordered_len = 0;
    o->records_len = 0;
    o->notices_len = 0;
}

void outbox_free(outbox *o)
{
    core_free(o->arena);
    core_free(o->msgs);
    core_free(o->persists);
    core_free(o->out_msgs);
    core_free(o->batches);
    core_free(o->ordered);
    core_free(o->batch_first);
    core_free(o->records);
    core_free(o->record_first);
    core_free(o->notices);
    memset(o, 0, sizeof *o);
}

static long arena_alloc(outbox *o, size_t len)
{
    if (reserve((void **)&o->arena, &o->arena_cap, o->arena_len + len, 1) != 0) return -1;
    size_t off = o->arena_len;
    o->arena_len += len;
    return (long)off;
}

static uint8_t *send_reserve(outbox *o, uint32_t to, size_t len, int epoch_hdr)
{
    long off = -1;
    size_t extra = epoch_hdr ? 4 : 0;
    if (reserve((void **)&o->msgs, &o->msgs_cap, o->msgs_len + 1, sizeof *o->msgs) == 0)
        off = arena_alloc(o, len + extra);
    if (off < 0) {
        o->alloc_failed++;
        return NULL;
    }
    o->msgs[o->msgs_len].to = to;
    o->msgs[o->msgs_len].off = (size_t)off;
    o->msgs[o->msgs_len].len = len + extra;
    o->msgs[o->msgs_len].epoch = o->epoch;
    o->msgs[o->msgs_len].epoch_hdr = (uint8_t)epoch_hdr;
    o->msgs_len++;
    /* With an epoch header the writer fills [type][body] 4 bytes in; outbox_finish moves the
     * type byte to the front and writes the epoch in between: [type][epoch][body]. */
    return o->arena + off + extra;
}

uint8_t *outbox_send_reserve(outbox *o, uint32_t to, size_t len)
{
    return send_reserve(o, to, len, o->with_epoch);
}

int outbox_send_raw(outbox *o, uint32_t to, const uint8_t *data, size_t len)
{
    uint8_t *p = send_reserve(o, to, len, 0);
    if (!p) return -1;
    memcpy(p, data, len);
    return 0;
}

int outbox_send(outbox *o, uint32_t to, uint8_t type, const uint8_t *body, size_t len)
{
    uint8_t *p = outbox_send_reserve(o, to, len + 1);
    if (!p) return -1;
    p[0] = type;
    if (len) memcpy(p + 1, body, len);
    return 0;
}

int outbox_persist(outbox *o, aleph_persist_kind kind, const uint8_t *data, size_t len,
                   const uint8_t *hash)
{
    if (reserve((void **)&o->persists, &o->persists_cap, o->persists_len + 1,
                sizeof *o->persists) != 0)
        return -1;
    o->persists[o->persists_len].data = data;
    o->persists[o->persists_len].len = len;
    o->persists[o->persists_len].kind = kind;
    o->persists[o->persists_len].hash = hash;
    o->persists_len++;
    return 0;
}

void outbox_notice(outbox *o, const aleph_notice *n)
{
    if (reserve((void **)&o->notices, &o->notices_cap, o->notices_len + 1, sizeof *o->notices) != 0) {
        o->alloc_failed++;
        return;
    }
    o->notices[o->notices_len] = *n;
    o->notices[o->notices_len++].epoch = o->epoch;
}

aleph_ordered_unit *outbox_batch_begin(outbox *o, const aleph_batch *b, size_t units_len)
{
    size_t cap_before = o->batches_cap;
    if (reserve((void **)&o->batches, &o->batches_cap, o->batches_len + 1, sizeof *o->batches) != 0)
        return NULL;
    if (o->batches_cap != cap_before) {
        size_t *grown = core_realloc(o->batch_first, o->batches_cap * sizeof *grown);
        if (!grown) return NULL;
        o->batch_first = grown;
        size_t *records = core_realloc(o->record_first, o->batches_cap * sizeof *records);
        if (!records) return NULL;
        o->record_first = records;
    }
    if (reserve((void **)&o->ordered, &o->ordered_cap, o->ordered_len + units_len,
                sizeof *o->ordered) != 0)
        return NULL;
    o->batches[o->batches_len] = *b;
    o->batches[o->batches_len].candidates_len = 0;
    o->batches[o->batches_len].head_index = 0;
    o->batch_first[o->batches_len] = o->ordered_len;
    o->record_first[o->batches_len] = SIZE_MAX;
    o->batches_len++;
    aleph_ordered_unit *units = o->ordered + o->ordered_len;
    o->ordered_len += units_len;
    return units;
}

void outbox_batch_record(outbox *o, const uint8_t *const *hashes)
{
    if (o->batches_len == 0) return;
    aleph_batch *b = &o->batches[o->batches_len - 1];
    size_t len = b->candidates_len + b->head_index + 1;
    if (reserve((void **)&o->records, &o->records_cap, o->records_len + len,
                sizeof *o->records) != 0) {
        b->candidates_len = b->head_index = 0; /* no record: outside checks see none */
        o->alloc_failed++;
        return;
    }
    memcpy(o->records + o->records_len, hashes, len * sizeof *hashes);
    o->record_first[o->batches_len - 1] = o->records_len;
    o->records_len += len;
}

void outbox_finish_reserve(outbox *o)
{
    if (reserve((void **)&o->out_msgs, &o->out_cap_msgs, o->msgs_len, sizeof *o->out_msgs) != 0)
        o->alloc_failed++;
}

void outbox_finish(outbox *o, aleph_update *up)
{
    memset(up, 0, sizeof *up);
    if (o->out_cap_msgs >= o->msgs_len) {
        for (size_t i = 0; i < o->msgs_len; i++) {
            if (o->msgs[i].epoch_hdr) {
                uint8_t *p = o->arena + o->msgs[i].off;
                p[0] = p[4];
                put_uint(p + 1, o->msgs[i].epoch, 4);
                o->msgs[i].epoch_hdr = 0; /* once: finish may not run twice, but be sure */
            }
            o->out_msgs[i].to = o->msgs[i].to;
            o->out_msgs[i].data = o->arena + o->msgs[i].off;
            o->out_msgs[i].len = o->msgs[i].len;
            /* Before a message leaves: it has its type byte. */
            ALEPH_ASSERT(o->msgs[i].len >= 1 && o->arena[o->msgs[i].off] >= MSG_UNIT);
            int is_unit = o->msgs[i].len && o->arena[o->msgs[i].off] == MSG_UNIT;
            o->out_msgs[i].kind = o->msgs[i].to == ALEPH_TO_ALL && is_unit
                                      ? ALEPH_MESSAGE_UNIT_BROADCAST
                                      : ALEPH_MESSAGE_MUST_DELIVER;
        }
        up->messages = o->out_msgs;
        up->messages_len = o->msgs_len;
    }
    up->persist = o->persists;
    up->persist_len = o->persists_len;
    up->persist_before_send = o->persist_own;
    for (size_t i = 0; i < o->batches_len; i++) {
        aleph_batch *b = &o->batches[i];
        b->units = o->ordered + o->batch_first[i];
        size_t first = o->record_first[i];
        b->candidates = first == SIZE_MAX ? NULL : o->records + first;
        b->deciders = first == SIZE_MAX ? NULL : o->records + first + b->candidates_len;
        if (first == SIZE_MAX) b->candidates_len = b->head_index = 0;
    }
    up->batches = o->batches;
    up->batches_len = o->batches_len;
    up->notices = o->notices;
    up->notices_len = o->notices_len;
}

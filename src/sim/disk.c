#include "disk.h"

#include <assert.h>
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/util.h"

void sim_disk_init(sim_disk *d)
{
    memset(d, 0, sizeof *d);
}

static void drop_held(sim_disk *d)
{
    for (size_t k = 0; k < d->held_len; k++) free(d->held[(d->held_head + k) % d->held_cap].data);
    d->lost_held += d->held_len;
    d->held_head = d->held_len = 0;
}

void sim_disk_free(sim_disk *d)
{
    drop_held(d);
    for (size_t k = 0; k < d->len; k++) free(d->records[k].data);
    free(d->records);
    free(d->held);
    memset(d, 0, sizeof *d);
}

int sim_disk_append(sim_disk *d, const aleph_blob *blobs, size_t n, int before_send)
{
    if (d->len + n > d->cap) {
        sim_disk_record *grown = array_grow(d->records, &d->cap, d->len + n, sizeof *grown, 256);
        if (!grown) return -1;
        d->records = grown;
    }
    for (size_t k = 0; k < n; k++) {
        uint8_t *copy = malloc(blobs[k].len ? blobs[k].len : 1);
        if (!copy) return -1;
        if (blobs[k].len) memcpy(copy, blobs[k].data, blobs[k].len);
        d->records[d->len++] = (sim_disk_record){copy, (uint32_t)blobs[k].len, blobs[k].kind};
    }
    if (before_send && n) d->hold_until = d->len;
    return 0;
}

int sim_disk_must_hold(const sim_disk *d)
{
    return d->durable < d->hold_until;
}

int sim_disk_hold(sim_disk *d, uint32_t to, const uint8_t *data, size_t len)
{
    if (d->held_len == d->held_cap) {
        /* a ring: unroll it into a fresh array twice the size */
        size_t cap = d->held_cap ? d->held_cap * 2 : 64;
        sim_disk_held *grown = malloc(cap * sizeof *grown);
        if (!grown) return -1;
        for (size_t k = 0; k < d->held_len; k++) grown[k] = d->held[(d->held_head + k) % d->held_cap];
        free(d->held);
        d->held = grown;
        d->held_cap = cap;
        d->held_head = 0;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return -1;
    if (len) memcpy(copy, data, len);
    d->held[(d->held_head + d->held_len++) % d->held_cap] =
        (sim_disk_held){.wait_len = d->hold_until, .to = to, .len = (uint32_t)len, .data = copy};
    d->held_total++;
    return 0;
}

int sim_disk_sync_start(sim_disk *d)
{
    if (d->syncing || d->durable == d->len) return 0;
    d->syncing = d->len;
    return 1;
}

int sim_disk_begin_epoch(sim_disk *d, uint32_t epoch, uint64_t session, const uint8_t *carry,
                         size_t carry_len)
{
    uint8_t *body = malloc(SIM_DISK_EPOCH_HEADER + carry_len);
    if (!body) return -1;
    le32_put(body, epoch);
    le64_put(body + 4, session);
    if (carry_len) memcpy(body + SIM_DISK_EPOCH_HEADER, carry, carry_len);
    aleph_blob b = {.data = body, .len = SIM_DISK_EPOCH_HEADER + carry_len, .kind = SIM_DISK_EPOCH};
    int rc = sim_disk_append(d, &b, 1, 0);
    free(body);
    return rc;
}

size_t sim_disk_epoch_start(const sim_disk *d, uint32_t *epoch, uint64_t *session,
                            const uint8_t **carry, size_t *carry_len)
{
    for (size_t k = d->len; k-- > 0;) {
        const sim_disk_record *r = &d->records[k];
        if (r->kind != SIM_DISK_EPOCH) continue;
        assert(r->len >= SIM_DISK_EPOCH_HEADER); /* the simulator wrote it */
        *epoch = le32_get(r->data);
        *session = le64_get(r->data + 4);
        *carry = r->data + SIM_DISK_EPOCH_HEADER;
        *carry_len = r->len - SIM_DISK_EPOCH_HEADER;
        return k;
    }
    return SIZE_MAX;
}

static size_t less(size_t v, size_t by)
{
    return v > by ? v - by : 0;
}

void sim_disk_delete_old_files(sim_disk *d, uint32_t finished_kept)
{
    size_t k = d->durable, newest = SIZE_MAX, cut = SIZE_MAX;
    uint32_t seen = 0;
    while (k-- > 0) {
        if (d->records[k].kind != SIM_DISK_EPOCH) continue;
        if (newest == SIZE_MAX) newest = k;
        if (seen++ == finished_kept) { /* the oldest file kept begins here */
            cut = k;
            break;
        }
    }
    if (newest == SIZE_MAX) return;
    d->epoch_durable = le32_get(d->records[newest].data);
    if (cut == SIZE_MAX || cut == 0) return;
    for (size_t j = 0; j < cut; j++) free(d->records[j].data);
    memmove(d->records, d->records + cut, (d->len - cut) * sizeof *d->records);
    d->len -= cut;
    d->durable -= cut;
    d->syncing = d->syncing ? less(d->syncing, cut) : 0;
    d->hold_until = less((size_t)d->hold_until, cut);
    for (size_t j = 0; j < d->held_len; j++) {
        sim_disk_held *h = &d->held[(d->held_head + j) % d->held_cap];
        h->wait_len = less((size_t)h->wait_len, cut);
    }
    d->epoch_files_deleted++;
}

size_t sim_disk_synced(sim_disk *d)
{
    size_t first = d->durable;
    if (d->syncing > d->durable) d->durable = d->syncing;
    d->syncing = 0;
    d->syncs++;
    return first;
}

int sim_disk_release(sim_disk *d, sim_disk_held *out)
{
    if (!d->held_len) return 0;
    sim_disk_held *h = &d->held[d->held_head];
    if (h->wait_len > d->durable) return 0;
    *out = *h;
    d->held_head = (d->held_head + 1) % d->held_cap;
    d->held_len--;
    return 1;
}

static void truncate_to(sim_disk *d, size_t keep)
{
    for (size_t k = keep; k < d->len; k++) free(d->records[k].data);
    d->len = keep;
}

void sim_disk_crash(sim_disk *d, sim_rng *rng)
{
    drop_held(d);
    size_t keep = d->durable;
    /* Half the time nothing unsynced survives; otherwise a random part of it did. */
    if (d->len > d->durable && sim_rng_chance(rng, 0.5))
        keep += (size_t)sim_rng_range(rng, 1, d->len - d->durable);
    d->lost_records += d->len - keep;
    truncate_to(d, keep);
    /* What is on the disk now is what the restarted process reads: durable from here on. */
    d->durable = d->len;
    d->syncing = 0;
    d->hold_until = 0;
    sim_disk_delete_old_files(d, d->finished_kept); /* what is there now is durable */
}

void sim_disk_exit(sim_disk *d)
{
    drop_held(d);
    d->durable = d->len;
    d->syncing = 0;
    d->hold_until = 0;
}

void sim_disk_wipe(sim_disk *d)
{
    drop_held(d);
    truncate_to(d, 0);
    d->durable = d->syncing = 0;
    d->epoch_durable = 0;
    d->hold_until = 0;
}

/* The transactions a member carries from one epoch into the next (PROTOCOL.md, "Epochs"):
 * its own transactions that were in own units of the finished epoch and in no batch of it.
 * They go into own units before any pooled transaction, in the order they first left the
 * pool, so that the shell can tell which own units hold them (EPOCH-API). */
#include <string.h>

#include "alloc.h"
#include "member.h"

size_t carry_bytes_left(const aleph_member *m)
{
    return m->carry_len - m->carry_off;
}

static uint32_t carry_next_len(const aleph_member *m)
{
    const uint8_t *p = m->carry + m->carry_off;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t carry_take(aleph_member *m, uint8_t *buf, size_t cap)
{
    size_t out = 0;
    while (m->carry_off < m->carry_len) {
        size_t n = 4 + (size_t)carry_next_len(m);
        if (out + n > cap) break;
        memcpy(buf + out, m->carry + m->carry_off, n);
        out += n;
        m->carry_off += n;
        m->carry_left--;
    }
    return out;
}

void carry_restored(aleph_member *m, uint32_t txs)
{
    for (uint32_t i = 0; i < txs && m->carry_off < m->carry_len; i++) {
        m->carry_off += 4 + (size_t)carry_next_len(m);
        m->carry_left--;
    }
}

/* The transactions of the own units of this epoch that no batch holds, lowest round first
 * (the order they left the pool in). No member orders them: the epoch's last batch is its
 * last, and a batch holds only units below its head. */
int carry_collect(const aleph_member *m, uint8_t **buf, size_t *len, uint32_t *txs)
{
    size_t bytes = carry_bytes_left(m); /* carried in, never put in a unit: still carried */
    uint32_t self = m->secret.index, top = m->dag.highest_plus1[self];
    for (uint32_t r = 0; r < top; r++) {
        uint32_t id = dag_first_in_slot(m, self, r);
        if (id == NONE) continue;
        const unit *u = m->dag.units[id];
        if (u->batch_round == NONE && u->bytes) bytes += u->payload_len;
    }
    *buf = NULL;
    *len = 0;
    *txs = 0;
    if (bytes == 0) return 0;
    uint8_t *p = core_malloc(bytes);
    if (!p) return -1;
    size_t at = 0;
    for (uint32_t r = 0; r < top; r++) {
        uint32_t id = dag_first_in_slot(m, self, r);
        if (id == NONE) continue;
        const unit *u = m->dag.units[id];
        if (u->batch_round != NONE || !u->bytes) continue;
        memcpy(p + at, u->bytes + u->payload_off, u->payload_len);
        at += u->payload_len;
        *txs += u->txs_len;
    }
    if (carry_bytes_left(m)) memcpy(p + at, m->carry + m->carry_off, carry_bytes_left(m));
    *txs += m->carry_left;
    ALEPH_ASSERT(at + carry_bytes_left(m) == bytes);
    *buf = p;
    *len = bytes;
    return 0;
}


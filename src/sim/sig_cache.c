#include "sig_cache.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void sim_sig_cache_init(sim_sig_cache *c, size_t len_max)
{
    memset(c, 0, sizeof *c);
    c->len_max = len_max ? len_max : 1;
}

void sim_sig_cache_free(sim_sig_cache *c)
{
    free(c->fresh.entries);
    free(c->old.entries);
    memset(c, 0, sizeof *c);
}

static size_t slot_of(const uint8_t hash[32], const uint8_t sig[64], size_t cap)
{
    uint64_t a, b;
    memcpy(&a, hash, 8);
    memcpy(&b, sig, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull));
    h ^= h >> 31;
    return (size_t)(h & (cap - 1));
}

static int grow(sim_sig_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    sim_sig_entry *entries = calloc(cap, sizeof *entries);
    if (!entries) return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->entries[i].used) continue;
        size_t j = slot_of(t->entries[i].hash, t->entries[i].sig, cap);
        while (entries[j].used) j = (j + 1) & (cap - 1);
        entries[j] = t->entries[i];
    }
    free(t->entries);
    t->entries = entries;
    t->cap = cap;
    return 0;
}

static const sim_sig_entry *find(const sim_sig_table *t, const uint8_t hash[32],
                                 const uint8_t sig[64], const uint8_t public_key[32])
{
    if (!t->cap) return NULL;
    for (size_t i = slot_of(hash, sig, t->cap); t->entries[i].used; i = (i + 1) & (t->cap - 1)) {
        const sim_sig_entry *e = &t->entries[i];
        if (memcmp(e->hash, hash, 32) == 0 && memcmp(e->sig, sig, 64) == 0 &&
            memcmp(e->pk, public_key, 32) == 0)
            return e;
    }
    return NULL;
}

int sim_sig_cache_verify(void *ctx, const uint8_t hash[32], const uint8_t sig[64],
                         const uint8_t public_key[32])
{
    sim_sig_cache *c = ctx;
    c->checks++;
    const sim_sig_entry *hit = find(&c->fresh, hash, sig, public_key);
    if (!hit) hit = find(&c->old, hash, sig, public_key);
    if (hit) {
        c->hits++;
        return hit->valid;
    }
    int valid = crypto_sign_verify_detached(sig, hash, 32, public_key) == 0;
    sim_sig_table *t = &c->fresh;
    if (t->len >= c->len_max) { /* bounded: the fresh generation becomes the old one */
        sim_sig_table emptied = c->old;
        if (emptied.cap) memset(emptied.entries, 0, emptied.cap * sizeof *emptied.entries);
        emptied.len = 0;
        c->old = c->fresh;
        c->fresh = emptied;
    }
    if ((t->len + 1) * 2 > t->cap) {
        if (grow(t) != 0) return valid; /* still correct, just not cached */
    }
    size_t i;
    for (i = slot_of(hash, sig, t->cap); t->entries[i].used; i = (i + 1) & (t->cap - 1)) {
    }
    sim_sig_entry *e = &t->entries[i];
    memcpy(e->hash, hash, 32);
    memcpy(e->sig, sig, 64);
    memcpy(e->pk, public_key, 32);
    e->used = 1;
    e->valid = (uint8_t)valid;
    t->len++;
    return valid;
}

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
    free(c->entries);
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

static int grow(sim_sig_cache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 1024;
    sim_sig_entry *entries = calloc(cap, sizeof *entries);
    if (!entries) return -1;
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->entries[i].used) continue;
        size_t j = slot_of(c->entries[i].hash, c->entries[i].sig, cap);
        while (entries[j].used) j = (j + 1) & (cap - 1);
        entries[j] = c->entries[i];
    }
    free(c->entries);
    c->entries = entries;
    c->cap = cap;
    return 0;
}

int sim_sig_cache_verify(void *ctx, const uint8_t hash[32], const uint8_t sig[64],
                         const uint8_t public_key[32])
{
    sim_sig_cache *c = ctx;
    c->checks++;
    size_t i = 0;
    if (c->cap) {
        for (i = slot_of(hash, sig, c->cap); c->entries[i].used; i = (i + 1) & (c->cap - 1)) {
            sim_sig_entry *e = &c->entries[i];
            if (memcmp(e->hash, hash, 32) == 0 && memcmp(e->sig, sig, 64) == 0 &&
                memcmp(e->pk, public_key, 32) == 0) {
                c->hits++;
                return e->valid;
            }
        }
    }
    int valid = crypto_sign_verify_detached(sig, hash, 32, public_key) == 0;
    if (c->len >= c->len_max) { /* bounded: start over rather than grow without end */
        memset(c->entries, 0, c->cap * sizeof *c->entries);
        c->len = 0;
    }
    if ((c->len + 1) * 2 > c->cap) {
        if (grow(c) != 0) return valid; /* still correct, just not cached */
    }
    for (i = slot_of(hash, sig, c->cap); c->entries[i].used; i = (i + 1) & (c->cap - 1)) {
    }
    sim_sig_entry *e = &c->entries[i];
    memcpy(e->hash, hash, 32);
    memcpy(e->sig, sig, 64);
    memcpy(e->pk, public_key, 32);
    e->used = 1;
    e->valid = (uint8_t)valid;
    c->len++;
    return valid;
}

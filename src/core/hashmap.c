#include "hashmap.h"

#include "alloc.h"

#include <stdlib.h>
#include <string.h>

/* Keys are cryptographic hashes (or built from distinct fields), so their first bytes are
 * already well mixed; a multiplicative step spreads the structured keys too. */
static size_t slot_of(const hashmap *m, const uint8_t key[32])
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    uint64_t t;
    memcpy(&t, key + 8, sizeof t);
    h ^= t * 0x9e3779b97f4a7c15ull;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)h & (m->cap - 1);
}

int hashmap_init(hashmap *m, size_t initial_cap)
{
    size_t cap = 16;
    while (cap < initial_cap) cap <<= 1;
    m->entries = core_calloc(cap, sizeof *m->entries);
    m->cap = cap;
    m->len = 0;
    return m->entries ? 0 : -1;
}

void hashmap_free(hashmap *m)
{
    core_free(m->entries);
    m->entries = NULL;
    m->cap = m->len = 0;
}

static hashmap_entry *find(const hashmap *m, const uint8_t key[32])
{
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        hashmap_entry *e = &m->entries[i];
        if (!e->used) return NULL;
        if (memcmp(e->key, key, 32) == 0) return e;
    }
}

int hashmap_get(const hashmap *m, const uint8_t key[32], uint32_t *value)
{
    const hashmap_entry *e = find(m, key);
    if (!e) return 0;
    if (value) *value = e->value;
    return 1;
}

static int grow(hashmap *m)
{
    hashmap old = *m;
    if (hashmap_init(m, old.cap * 2) != 0) {
        *m = old;
        return -1;
    }
    for (size_t i = 0; i < old.cap; i++)
        if (old.entries[i].used) hashmap_put(m, old.entries[i].key, old.entries[i].value);
    core_free(old.entries);
    return 0;
}

int hashmap_put(hashmap *m, const uint8_t key[32], uint32_t value)
{
    if ((m->len + 1) * 2 > m->cap && grow(m) != 0) return -1;
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        hashmap_entry *e = &m->entries[i];
        if (!e->used) {
            memcpy(e->key, key, 32);
            e->value = value;
            e->used = 1;
            m->len++;
            return 0;
        }
        if (memcmp(e->key, key, 32) == 0) {
            e->value = value;
            return 0;
        }
    }
}

int hashmap_remove(hashmap *m, const uint8_t key[32])
{
    hashmap_entry *e = find(m, key);
    if (!e) return 0;
    size_t hole = (size_t)(e - m->entries);
    m->entries[hole].used = 0;
    m->len--;
    /* Backward shift: move later entries of the probe run into the hole when their home
     * slot allows it, so lookups never stop early at the hole. */
    for (size_t i = (hole + 1) & (m->cap - 1); m->entries[i].used; i = (i + 1) & (m->cap - 1)) {
        size_t home = slot_of(m, m->entries[i].key);
        int movable = (hole <= i) ? (home <= hole || home > i) : (home <= hole && home > i);
        if (movable) {
            m->entries[hole] = m->entries[i];
            m->entries[i].used = 0;
            hole = i;
        }
    }
    return 1;
}

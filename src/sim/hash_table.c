#include "hash_table.h"

#include <stdlib.h>
#include <string.h>

void sim_table_init(sim_table *t)
{
    memset(t, 0, sizeof *t);
}

void sim_table_free(sim_table *t)
{
    free(t->entries);
    memset(t, 0, sizeof *t);
}

static size_t slot_of(const uint8_t key[32], size_t cap)
{
    uint64_t h;
    memcpy(&h, key, 8);
    uint64_t h2;
    memcpy(&h2, key + 24, 8);
    h ^= h2 * 0x9e3779b97f4a7c15ull; /* keys built with zero prefixes still spread */
    h ^= h >> 29;
    return (size_t)(h & (cap - 1));
}

static sim_table_entry *find(const sim_table *t, const uint8_t key[32])
{
    if (!t->cap) return NULL;
    for (size_t i = slot_of(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
        sim_table_entry *e = &t->entries[i];
        if (!e->used) return NULL;
        if (memcmp(e->key, key, 32) == 0) return e;
    }
}

static int grow(sim_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    sim_table_entry *entries = calloc(cap, sizeof *entries);
    if (!entries) return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->entries[i].used) continue;
        size_t j = slot_of(t->entries[i].key, cap);
        while (entries[j].used) j = (j + 1) & (cap - 1);
        entries[j] = t->entries[i];
    }
    free(t->entries);
    t->entries = entries;
    t->cap = cap;
    return 0;
}

int sim_table_get(const sim_table *t, const uint8_t key[32], uint64_t *value)
{
    sim_table_entry *e = find(t, key);
    if (!e) return 0;
    if (value) *value = e->value;
    return 1;
}

static int insert(sim_table *t, const uint8_t key[32], uint64_t value, int replace)
{
    sim_table_entry *e = find(t, key);
    if (e) {
        if (replace) e->value = value;
        return 0;
    }
    if ((t->len + 1) * 2 > t->cap && grow(t) != 0) return -1;
    size_t i = slot_of(key, t->cap);
    while (t->entries[i].used) i = (i + 1) & (t->cap - 1);
    memcpy(t->entries[i].key, key, 32);
    t->entries[i].value = value;
    t->entries[i].used = 1;
    t->len++;
    return 1;
}

int sim_table_put(sim_table *t, const uint8_t key[32], uint64_t value)
{
    return insert(t, key, value, 1) < 0 ? -1 : 0;
}

int sim_table_add(sim_table *t, const uint8_t key[32], uint64_t value)
{
    return insert(t, key, value, 0);
}

void sim_table_remove_at(sim_table *t, size_t i)
{
    size_t mask = t->cap - 1;
    t->entries[i].used = 0;
    t->len--;
    for (size_t j = (i + 1) & mask; t->entries[j].used; j = (j + 1) & mask) {
        size_t home = slot_of(t->entries[j].key, t->cap);
        /* j's entry may move to the hole at i when its home is not in (i, j] (cyclically) */
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        t->entries[i] = t->entries[j];
        t->entries[j].used = 0;
        i = j;
    }
}

void sim_table_remove(sim_table *t, const uint8_t key[32])
{
    sim_table_entry *e = find(t, key);
    if (e) sim_table_remove_at(t, (size_t)(e - t->entries));
}

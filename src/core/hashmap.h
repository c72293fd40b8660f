/* An open-addressing map from 32-byte keys (unit hashes, or keys built like them) to 32-bit
 * values. Linear probing with backward-shift deletion, so there are no tombstones. */
#ifndef ALEPH_HASHMAP_H
#define ALEPH_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hashmap_entry {
    uint8_t key[32];
    uint32_t value;
    uint32_t used;
} hashmap_entry;

typedef struct hashmap {
    hashmap_entry *entries;
    size_t cap; /* power of two */
    size_t len;
} hashmap;

int hashmap_init(hashmap *m, size_t initial_cap);
void hashmap_free(hashmap *m);
/* Returns 1 and sets *value when found. */
int hashmap_get(const hashmap *m, const uint8_t key[32], uint32_t *value);
/* Inserts or replaces. Returns 0, -1 when out of memory. */
int hashmap_put(hashmap *m, const uint8_t key[32], uint32_t value);
/* Returns 1 when removed. */
int hashmap_remove(hashmap *m, const uint8_t key[32]);

#endif

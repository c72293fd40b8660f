/* The simulator's map from 32-byte keys (unit hashes, or keys built like them) to 64-bit
 * values: open addressing, linear probing, deletion by shifting back (the checker's forget
 * mode drops what every member has passed). Kept apart
 * from the core's map so the two can change independently. */
#ifndef ALEPH_SIM_HASH_TABLE_H
#define ALEPH_SIM_HASH_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_table_entry {
    uint8_t key[32];
    uint64_t value;
    uint8_t used;
} sim_table_entry;

typedef struct sim_table {
    sim_table_entry *entries;
    size_t cap; /* power of two, or 0 */
    size_t len;
} sim_table;

void sim_table_init(sim_table *t);
void sim_table_free(sim_table *t);
/* Returns 1 and sets *value (when value != NULL) if key is present. */
int sim_table_get(const sim_table *t, const uint8_t key[32], uint64_t *value);
/* Inserts or replaces. Returns 0, -1 when out of memory. */
int sim_table_put(sim_table *t, const uint8_t key[32], uint64_t value);
/* Inserts when absent: returns 1 when inserted, 0 when present (value unchanged), -1 OOM. */
int sim_table_add(sim_table *t, const uint8_t key[32], uint64_t value);
/* Removes the entry at index i (used); the entries after it in its probe run move back, so
 * the caller scanning the table must look at index i again. */
void sim_table_remove_at(sim_table *t, size_t i);
/* Removes key when present. */
void sim_table_remove(sim_table *t, const uint8_t key[32]);

#endif

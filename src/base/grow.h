/* Growth by doubling for the shells' arrays (the core keeps its own: it cannot include base).
 *
 *     sim_event *grown = array_grow(q->heap, &q->cap, q->len + 1, sizeof *grown, 1024);
 *     if (!grown) return -1;
 *     q->heap = grown;
 */
#ifndef ALEPH_BASE_GROW_H
#define ALEPH_BASE_GROW_H

#include <stddef.h>

/* Returns items reallocated to hold at least need items of item_bytes, the capacity *cap
 * doubled from itself (or from cap_first when 0) until it reaches need; items itself when *cap
 * already holds need. NULL when out of memory or the size overflows: items is then untouched
 * and *cap unchanged. The new slots are not initialised. */
void *array_grow(void *items, size_t *cap, size_t need, size_t item_bytes, size_t cap_first);
/* The same, the new slots (from the old *cap on) zeroed. */
void *array_grow_zeroed(void *items, size_t *cap, size_t need, size_t item_bytes,
                        size_t cap_first);

#endif

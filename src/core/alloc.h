/* The core's allocations. Every allocation in src/core goes through these (never malloc,
 * calloc, realloc or free directly), so that a test can make the nth one fail
 * (aleph_testing_fail_allocation) and see the core survive it. */
#ifndef ALEPH_ALLOC_H
#define ALEPH_ALLOC_H

#include <stddef.h>

void *core_malloc(size_t size);
void *core_calloc(size_t count, size_t size);
void *core_realloc(void *ptr, size_t size);
void core_free(void *ptr);

#endif

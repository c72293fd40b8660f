/* The core's allocation wrappers and the testing hook that fails the nth one. The counter is
 * process-wide and not atomic: the hook is for single-threaded tests. */
#include "alloc.h"

#include <stdlib.h>

#include "aleph/aleph.h"

static uint64_t allocations; /* since the last aleph_testing_fail_allocation */
static uint64_t fail_nth;    /* 0: none fails */

void aleph_testing_fail_allocation(uint64_t nth)
{
    allocations = 0;
    fail_nth = nth;
}

uint64_t aleph_testing_allocations(void) { return allocations; }

static int fails(void)
{
    allocations++;
    return fail_nth != 0 && allocations == fail_nth;
}

void *core_malloc(size_t size) { return fails() ? NULL : malloc(size); }

void *core_calloc(size_t count, size_t size) { return fails() ? NULL : calloc(count, size); }

void *core_realloc(void *ptr, size_t size) { return fails() ? NULL : realloc(ptr, size); }

void core_free(void *ptr) { free(ptr); }

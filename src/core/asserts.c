/* The end of a failed ALEPH_ASSERT (asserts.h). */
#include <stdio.h>
#include <stdlib.h>

#include "asserts.h"

void aleph_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "aleph: assertion failed: %s (%s:%d)\n", expr, file, line);
    fflush(stderr);
    abort();
}

#include "grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *array_grow(void *items, size_t *cap, size_t need, size_t item_bytes, size_t cap_first)
{
    if (need <= *cap && items) return items;
    size_t grown_cap = *cap ? *cap : (cap_first ? cap_first : 1);
    while (grown_cap < need) {
        if (grown_cap > SIZE_MAX / 2) return NULL;
        grown_cap *= 2;
    }
    if (item_bytes && grown_cap > SIZE_MAX / item_bytes) return NULL;
    void *grown = realloc(items, grown_cap * item_bytes);
    if (!grown) return NULL;
    *cap = grown_cap;
    return grown;
}

void *array_grow_zeroed(void *items, size_t *cap, size_t need, size_t item_bytes,
                        size_t cap_first)
{
    size_t cap_old = *cap;
    unsigned char *grown = array_grow(items, cap, need, item_bytes, cap_first);
    if (grown && *cap > cap_old)
        memset(grown + cap_old * item_bytes, 0, (*cap - cap_old) * item_bytes);
    return grown;
}

#include "samples.h"

#include <stdlib.h>
#include <string.h>
#include "grow.h"

int samples_add(u32_samples *s, uint32_t v)
{
    if (s->len == s->cap) {
        uint32_t *grown = array_grow(s->v, &s->cap, s->len + 1, sizeof *grown, 1024);
        if (!grown) return -1;
        s->v = grown;
    }
    s->v[s->len++] = v;
    return 0;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

double samples_percentile(u32_samples *s, double p)
{
    if (!s->len) return 0;
    qsort(s->v, s->len, sizeof *s->v, compare_u32);
    size_t k = (size_t)(p / 100.0 * (double)(s->len - 1) + 0.5);
    if (k >= s->len) k = s->len - 1;
    return s->v[k];
}

double samples_percentile_nearest(u32_samples *s, double p)
{
    if (!s->len) return 0;
    qsort(s->v, s->len, sizeof *s->v, compare_u32);
    size_t rank = (size_t)(p / 100.0 * (double)s->len + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > s->len) rank = s->len;
    return s->v[rank - 1];
}

double samples_mean(const u32_samples *s)
{
    if (!s->len) return 0;
    double sum = 0;
    for (size_t i = 0; i < s->len; i++) sum += s->v[i];
    return sum / (double)s->len;
}

void samples_free(u32_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

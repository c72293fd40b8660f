#include "samples.h"

#include <stdlib.h>
#include <string.h>

void sim_samples_init(sim_samples *s)
{
    memset(s, 0, sizeof *s);
}

void sim_samples_free(sim_samples *s)
{
    free(s->values);
    memset(s, 0, sizeof *s);
}

int sim_samples_add(sim_samples *s, uint64_t value)
{
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint32_t *grown = realloc(s->values, cap * sizeof *grown);
        if (!grown) return -1;
        s->values = grown;
        s->cap = cap;
    }
    s->values[s->len++] = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
    return 0;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double nearest_rank(const uint32_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)(p * (double)n + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

sim_distribution sim_samples_summary(sim_samples *s)
{
    sim_distribution d;
    memset(&d, 0, sizeof d);
    if (!s->len) return d;
    qsort(s->values, s->len, sizeof *s->values, compare_u32);
    double sum = 0;
    for (size_t i = 0; i < s->len; i++) sum += s->values[i];
    d.count = s->len;
    d.mean = sum / (double)s->len;
    d.p50 = nearest_rank(s->values, s->len, 0.50);
    d.p95 = nearest_rank(s->values, s->len, 0.95);
    d.p99 = nearest_rank(s->values, s->len, 0.99);
    return d;
}

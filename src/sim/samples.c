#include "samples.h"

#include <stdlib.h>
#include <string.h>

static int grow_counts(sim_samples *s, uint32_t v)
{
    uint32_t len = s->counts_len ? s->counts_len : 1024;
    while (len <= v) len *= 2;
    if (len > SIM_SAMPLES_EXACT_MS) len = SIM_SAMPLES_EXACT_MS;
    uint64_t *grown = realloc(s->counts, (size_t)len * sizeof *grown);
    if (!grown) return -1;
    memset(grown + s->counts_len, 0, (size_t)(len - s->counts_len) * sizeof *grown);
    s->counts = grown;
    s->counts_len = len;
    return 0;
}

static void heap_sift_down(uint32_t *h, uint32_t len, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, top = i;
        if (l < len && h[l] > h[top]) top = l;
        if (r < len && h[r] > h[top]) top = r;
        if (top == i) return;
        uint32_t t = h[i];
        h[i] = h[top];
        h[top] = t;
        i = top;
    }
}

/* A value >= SIM_SAMPLES_EXACT_MS: kept when among the SIM_SAMPLES_TAIL_MAX smallest. */
static int add_tail(sim_samples *s, uint32_t v)
{
    if (s->tail_len == SIM_SAMPLES_TAIL_MAX) {
        s->tail_dropped++;
        if (v >= s->tail[0]) return 0;
        s->tail[0] = v; /* the largest kept is dropped instead */
        heap_sift_down(s->tail, s->tail_len, 0);
        return 0;
    }
    if (s->tail_len == s->tail_cap) {
        uint32_t cap = s->tail_cap ? s->tail_cap * 2 : 256;
        uint32_t *grown = realloc(s->tail, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        s->tail = grown;
        s->tail_cap = cap;
    }
    uint32_t i = s->tail_len++;
    s->tail[i] = v;
    while (i > 0 && s->tail[(i - 1) / 2] < s->tail[i]) { /* sift up */
        uint32_t p = (i - 1) / 2, t = s->tail[p];
        s->tail[p] = s->tail[i];
        s->tail[i] = t;
        i = p;
    }
    return 0;
}

int sim_samples_add(sim_samples *s, uint64_t value)
{
    uint32_t v = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
    if (v < SIM_SAMPLES_EXACT_MS) {
        if (v >= s->counts_len && grow_counts(s, v) != 0) return -1;
        s->counts[v]++;
    } else if (add_tail(s, v) != 0) {
        return -1;
    }
    s->count++;
    s->sum += v;
    if (v > s->max) s->max = v;
    return 0;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The value of rank k (1-based) among the samples; the tail is sorted. */
static double value_at_rank(const sim_samples *s, uint64_t k, int *inexact)
{
    uint64_t below = 0;
    for (uint32_t v = 0; v < s->counts_len; v++) {
        below += s->counts[v];
        if (below >= k) return v;
    }
    uint64_t j = k - below; /* rank among the tail values */
    if (k == s->count) return s->max;
    if (j <= s->tail_len) return s->tail[j - 1];
    *inexact = 1;
    return s->tail[s->tail_len - 1];
}

static double nearest_rank(const sim_samples *s, double p, int *inexact)
{
    uint64_t rank = (uint64_t)(p / 100.0 * (double)s->count + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > s->count) rank = s->count;
    return value_at_rank(s, rank, inexact);
}

sim_distribution sim_samples_summary(sim_samples *s)
{
    sim_distribution d;
    memset(&d, 0, sizeof d);
    if (!s->count) return d;
    if (s->tail_len) qsort(s->tail, s->tail_len, sizeof *s->tail, compare_u32); /* never NULL, 0 */
    d.p50 = nearest_rank(s, 50, &d.inexact);
    d.p95 = nearest_rank(s, 95, &d.inexact);
    d.p99 = nearest_rank(s, 99, &d.inexact);
    d.count = s->count;
    d.mean = (double)s->sum / (double)s->count;
    return d;
}

void sim_samples_free(sim_samples *s)
{
    free(s->counts);
    free(s->tail);
    memset(s, 0, sizeof *s);
}

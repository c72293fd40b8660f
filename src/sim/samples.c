#include "samples.h"

#include <string.h>

int sim_samples_add(u32_samples *s, uint64_t value)
{
    return samples_add(s, value > UINT32_MAX ? UINT32_MAX : (uint32_t)value);
}

sim_distribution sim_samples_summary(u32_samples *s)
{
    sim_distribution d;
    memset(&d, 0, sizeof d);
    if (!s->len) return d;
    d.p50 = samples_percentile_nearest(s, 50); /* sorts */
    d.p95 = samples_percentile_nearest(s, 95);
    d.p99 = samples_percentile_nearest(s, 99);
    d.count = s->len;
    d.mean = samples_mean(s);
    return d;
}

/* The simulator's latency samples (virtual ms) in bounded memory, and their summary: mean and
 * nearest-rank percentiles (rank ceil(p/100 * n), as the simulator has always reported).
 *
 * Values below SIM_SAMPLES_EXACT_MS are counted per millisecond (the counts grow to the
 * largest value seen, so an ordinary run holds a few KB; at most 8 MB); values at or above it
 * go to a tail that keeps the SIM_SAMPLES_TAIL_MAX smallest of them (a max-heap). So every
 * percentile is exact unless more than SIM_SAMPLES_TAIL_MAX samples reach 17.5 virtual
 * minutes and its rank falls beyond the kept tail: then it reports the largest kept value (a
 * lower bound; p100 is the exact maximum) and the summary's `inexact` is set. The count and
 * the mean are always exact (the sum is kept as an integer; it equals the sum of the values
 * as doubles while it stays below 2^53). Memory does not grow with the number of samples. */
#ifndef ALEPH_SIM_SAMPLES_H
#define ALEPH_SIM_SAMPLES_H

#include <stdint.h>

#include "sim.h"

#define SIM_SAMPLES_EXACT_MS (1u << 20)
#define SIM_SAMPLES_TAIL_MAX (1u << 16)

typedef struct sim_samples {
    uint64_t *counts;      /* counts[v]: samples of value v, for v < counts_len */
    uint32_t counts_len;
    uint32_t *tail;        /* max-heap of the smallest values >= SIM_SAMPLES_EXACT_MS */
    uint32_t tail_len, tail_cap;
    uint64_t tail_dropped; /* tail values not kept (larger than every kept one) */
    uint64_t count, sum;
    uint32_t max;
} sim_samples;

/* Adds a value, saturating at UINT32_MAX; -1 (and nothing added) when out of memory. */
int sim_samples_add(sim_samples *s, uint64_t value);
/* Summarises the samples (all zero when empty); sorts the tail: no add after it. */
sim_distribution sim_samples_summary(sim_samples *s);
void sim_samples_free(sim_samples *s);

#endif

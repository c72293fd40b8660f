/* A growing list of measurements (virtual ms) and its summary: mean and nearest-rank
 * percentiles. */
#ifndef ALEPH_SIM_SAMPLES_H
#define ALEPH_SIM_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

typedef struct sim_samples {
    uint32_t *values;
    size_t len, cap;
} sim_samples;

void sim_samples_init(sim_samples *s);
void sim_samples_free(sim_samples *s);
int sim_samples_add(sim_samples *s, uint64_t value);
/* Sorts the samples in place and summarises them (all zero when empty). */
sim_distribution sim_samples_summary(sim_samples *s);

#endif

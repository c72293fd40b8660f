/* The simulator's latency summary over base's sample list: mean and nearest-rank
 * percentiles (virtual ms). */
#ifndef ALEPH_SIM_SAMPLES_H
#define ALEPH_SIM_SAMPLES_H

#include <stdint.h>

#include "base/samples.h"
#include "sim.h"

/* Adds a value, saturating at UINT32_MAX; -1 when out of memory. */
int sim_samples_add(u32_samples *s, uint64_t value);
/* Sorts the samples in place and summarises them (all zero when empty). */
sim_distribution sim_samples_summary(u32_samples *s);

#endif

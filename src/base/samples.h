/* A growing list of unsigned 32-bit measurements and its summary: mean and percentiles. The
 * measurement tools keep their samples here (the simulator counts its own per virtual ms in
 * bounded memory, src/sim/samples.c, with the nearest rank below).
 *
 * Two rank rules, each kept where its figures have been published: the measurement tools
 * (aleph local, load, analyze) take the rounded rank round(p/100 * (n-1)); the simulator
 * (aleph sim) takes the nearest rank ceil(p/100 * n). Changing either would change reported
 * figures. */
#ifndef ALEPH_BASE_SAMPLES_H
#define ALEPH_BASE_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

typedef struct u32_samples {
    uint32_t *v;
    size_t len, cap;
} u32_samples;

/* Appends one value; -1 (and nothing added) when out of memory. */
int samples_add(u32_samples *s, uint32_t v);
/* Sorts in place; percentile p in [0, 100] by the rounded rank; 0 when empty. */
double samples_percentile(u32_samples *s, double p);
/* Sorts in place; percentile p in [0, 100] by the nearest rank; 0 when empty. */
double samples_percentile_nearest(u32_samples *s, double p);
double samples_mean(const u32_samples *s);
void samples_free(u32_samples *s);

#endif

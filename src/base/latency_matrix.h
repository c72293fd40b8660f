/* A round-trip-time matrix between regions, in the TSV format of
 * tests/data/aws-8-regions-rtt-ms.tsv:
 *   - lines starting with '#' and blank lines are ignored;
 *   - a header line: a label, then one region name per column, tab-separated;
 *   - one line per region, in the header's order: its name, then one RTT in ms per column.
 * Values are non-negative finite numbers. The simulator assigns members to regions in turn
 * (member i in region i mod K) and uses one-way delay = RTT / 2 (at least 1 ms, so the
 * intra-region 0 of the diagonal becomes 1 ms). */
#ifndef ALEPH_SIM_LATENCY_MATRIX_H
#define ALEPH_SIM_LATENCY_MATRIX_H

#include <stddef.h>
#include <stdint.h>

#define SIM_REGIONS_MAX 64u
#define SIM_REGION_NAME_MAX 64u

typedef struct sim_latency_matrix {
    uint32_t regions;
    char names[SIM_REGIONS_MAX][SIM_REGION_NAME_MAX];
    double rtt_ms[SIM_REGIONS_MAX][SIM_REGIONS_MAX];
} sim_latency_matrix;

/* Parses text (need not be NUL-terminated). Returns 0, or -1 with a one-line message naming
 * `source` and the line in err. */
int sim_latency_matrix_parse(const char *text, size_t len, const char *source,
                             sim_latency_matrix *out, char *err, size_t err_len);

/* Reads and parses a file. Returns 0, or -1 with a message in err. */
int sim_latency_matrix_load(const char *path, sim_latency_matrix *out, char *err, size_t err_len);

/* One-way delay in whole ms between two regions (RTT/2 rounded to nearest, at least 1). */
uint64_t sim_latency_matrix_one_way_ms(const sim_latency_matrix *m, uint32_t from_region,
                                       uint32_t to_region);

#endif

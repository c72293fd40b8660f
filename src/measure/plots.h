/* PNG plots of a run from the CSV files summary_write_csv() wrote, drawn by gnuplot (Debian's
 * gnuplot-nox): throughput.png (offered and ordered tx/s over time), latency.png (end-to-end
 * latency over time: mean, p50, p95), latency_cdf.png (distribution of the window's end-to-end
 * latencies) and traffic.png (bytes sent and received per second by each member). The
 * gnuplot script is kept next to them (plots.gp) so a plot can be restyled by hand. */
#ifndef ALEPH_NODE_PLOTS_H
#define ALEPH_NODE_PLOTS_H

#include <stddef.h>

#include "summary.h"

/* Returns the number of plots drawn, or -1 with a message (e.g. gnuplot is missing). */
int plots_draw(const run_summary *s, const char *dir, char *err, size_t cap);

#endif

/*
 * Benchmark of the simulator with the real core: by default N = 128 members for 200 rounds
 * over the 8-region AWS latency matrix (tests/data/aws-8-regions-rtt-ms.tsv), threshold coin,
 * 1 tx per member per 100 virtual ms. Prints the summary block and one JSON line, and exits 1
 * if a check failed. Build in Release for numbers:
 *   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel -j2
 *   build-rel/bench/bench_sim [members] [rounds] [seed] [latency]
 * where latency is "matrix" (default), "uniform" (20..80 ms) or "const" (50 ms).
 * The goal (issue 3): N = 128 for 200 rounds within a minute of wall time on a 2-core machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/latency_matrix.h"
#include "sim/sim.h"

int main(int argc, char **argv)
{
    sim_config cfg;
    sim_config_defaults(&cfg);
    cfg.members = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 128;
    cfg.rounds = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 200;
    cfg.seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    const char *latency = argc > 4 ? argv[4] : "matrix";

    static sim_latency_matrix matrix;
    char path[4096], err[512];
    if (strcmp(latency, "matrix") == 0) {
        const char *file = __FILE__, *slash = strrchr(file, '/');
        if (slash)
            snprintf(path, sizeof path, "%.*s/../tests/data/aws-8-regions-rtt-ms.tsv",
                     (int)(slash - file), file);
        else snprintf(path, sizeof path, "tests/data/aws-8-regions-rtt-ms.tsv");
        if (sim_latency_matrix_load(path, &matrix, err, sizeof err) != 0) {
            fprintf(stderr, "bench_sim: %s\n", err);
            return 2;
        }
        cfg.net.latency.kind = SIM_LATENCY_MATRIX;
        cfg.net.latency.matrix = &matrix;
        cfg.latency_spec = "matrix:tests/data/aws-8-regions-rtt-ms.tsv";
    } else if (strcmp(latency, "const") == 0) {
        cfg.net.latency.kind = SIM_LATENCY_CONST;
        cfg.net.latency.delay_ms_min = cfg.net.latency.delay_ms_max = 50;
    } else if (strcmp(latency, "uniform") != 0) {
        fprintf(stderr, "bench_sim: latency must be matrix, uniform or const\n");
        return 2;
    }
    sim_result res;
    int rc = sim_run(&cfg, &res);
    sim_result_print(stdout, &cfg, &res);
    sim_result_print_json(stdout, &cfg, &res);
    if (rc == 0)
        printf("bench_sim: N=%u rounds=%u: %.1f s wall (goal: under 60 s for N=128, 200 rounds)\n",
               cfg.members, cfg.rounds, res.wall_s);
    return rc == 0 ? 0 : 1;
}

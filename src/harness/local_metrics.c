/* `aleph local --metrics`: member i serves /metrics on its own address at port
 * metrics_port_base + i (after the member and client ports, all checked free together). */
#include <stdio.h>

#include "local_run.h"

void local_metrics_address(const local_run *r, uint32_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%u", r->p[i].host, r->metrics_port_base + i);
}

void local_metrics_announce(const local_run *r)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/prometheus_targets.json", r->dir);
    FILE *f = fopen(path, "w");
    if (f) fprintf(f, "[{\"labels\": {\"job\": \"aleph\"}, \"targets\": [");
    for (uint32_t i = 0; i < r->o.members; i++) {
        char a[128];
        local_metrics_address(r, i, a, sizeof a);
        fprintf(stderr, "aleph local: member %u metrics http://%s/metrics health http://%s/health\n",
                i, a, a);
        if (f) fprintf(f, "%s\"%s\"", i ? ", " : "", a);
    }
    if (f) {
        fprintf(f, "]}]\n");
        if (fclose(f) != 0) fprintf(stderr, "aleph local: cannot write %s\n", path);
    } else {
        fprintf(stderr, "aleph local: cannot write %s\n", path);
    }
}

#include "default_creators.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aleph/aleph.h"

static uint64_t delay_ms(const sim_latency_matrix *m, uint32_t a, uint32_t b)
{
    return a == b ? 0 : sim_latency_matrix_one_way_ms(m, a % m->regions, b % m->regions);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* covers[c]: how many members receive c's unit no later than their q-th nearest one. */
static int coverage(const sim_latency_matrix *m, uint32_t n, uint32_t *covers)
{
    uint64_t *quorum_ms = malloc(n * sizeof *quorum_ms), *row = malloc(n * sizeof *row);
    if (!quorum_ms || !row) {
        free(quorum_ms);
        free(row);
        return -1;
    }
    uint32_t q = aleph_quorum(n);
    for (uint32_t j = 0; j < n; j++) {
        for (uint32_t k = 0; k < n; k++) row[k] = delay_ms(m, k, j);
        qsort(row, n, sizeof *row, compare_u64);
        quorum_ms[j] = row[q - 1];
    }
    for (uint32_t c = 0; c < n; c++) {
        covers[c] = 0;
        for (uint32_t j = 0; j < n; j++) covers[c] += delay_ms(m, c, j) <= quorum_ms[j];
    }
    free(quorum_ms);
    free(row);
    return 0;
}

uint32_t default_creators_from_matrix(const sim_latency_matrix *m, uint32_t members,
                                      uint32_t *out)
{
    if (members == 0 || m->regions == 0) return 0;
    uint32_t *covers = malloc(members * sizeof *covers);
    if (!covers || coverage(m, members, covers) != 0) {
        free(covers);
        return 0;
    }
    uint32_t len = 0;
    for (uint32_t c = 0; c < members; c++)
        if (covers[c] == members) out[len++] = c;
    uint32_t least = aleph_faulty_max(members) + 1;
    if (len < least) {
        /* The best-covering f+1, by coverage then index, listed in index order. */
        uint8_t *taken = calloc(members, 1);
        if (!taken) {
            free(covers);
            return 0;
        }
        for (uint32_t k = 0; k < least; k++) {
            uint32_t best = UINT32_MAX;
            for (uint32_t c = 0; c < members; c++)
                if (!taken[c] && (best == UINT32_MAX || covers[c] > covers[best])) best = c;
            taken[best] = 1;
        }
        len = 0;
        for (uint32_t c = 0; c < members; c++)
            if (taken[c]) out[len++] = c;
        free(taken);
    }
    free(covers);
    return len;
}

uint32_t default_creators_parse(const char *text, uint32_t members, uint32_t *out, char *err,
                                size_t err_len)
{
    uint32_t len = 0;
    const char *p = text;
    for (;;) {
        if (len == ALEPH_DEFAULT_CREATORS_MAX) {
            snprintf(err, err_len, "more than %u entries", ALEPH_DEFAULT_CREATORS_MAX);
            return 0;
        }
        char *end;
        errno = 0;
        unsigned long v = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 0;
        if (!(*p >= '0' && *p <= '9') || errno || (*end && *end != ',')) {
            snprintf(err, err_len, "'%s' is not a comma-separated list of member indices", text);
            return 0;
        }
        if (v >= members) {
            snprintf(err, err_len, "member %lu is not in 0..%u", v, members - 1);
            return 0;
        }
        out[len++] = (uint32_t)v;
        if (!*end) return len;
        p = end + 1;
    }
}

uint32_t default_creators_from_spec(const char *spec, uint32_t members, const char *matrix_path,
                                    uint32_t *out, char *err, size_t err_len)
{
    const char *path = NULL;
    if (strcmp(spec, "matrix") == 0) {
        if (!matrix_path) {
            snprintf(err, err_len, "'matrix' needs a latency matrix (or give matrix:FILE)");
            return 0;
        }
        path = matrix_path;
    } else if (strncmp(spec, "matrix:", 7) == 0) {
        path = spec + 7;
    } else {
        return default_creators_parse(spec, members, out, err, err_len);
    }
    sim_latency_matrix *m = malloc(sizeof *m);
    if (!m) {
        snprintf(err, err_len, "out of memory");
        return 0;
    }
    uint32_t len = 0;
    if (sim_latency_matrix_load(path, m, err, err_len) == 0) {
        len = default_creators_from_matrix(m, members, out);
        if (!len) snprintf(err, err_len, "no schedule from the matrix %s", path);
    }
    free(m);
    return len;
}

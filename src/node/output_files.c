/* The names of a member's output files (output.h): DIR/output-SEQ.bin, listed by SEQ. */
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void output_rotated_path(char *out, size_t cap, const char *dir, uint64_t first_seq)
{
    snprintf(out, cap, "%s/output-%020" PRIu64 ".bin", dir, first_seq);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int output_rotated_list(const char *dir, uint64_t **first_seqs, size_t *n)
{
    *first_seqs = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *s = e->d_name;
        size_t len = strlen(s);
        if (len != 7 + 20 + 4 || strncmp(s, "output-", 7) != 0 || strcmp(s + 27, ".bin") != 0)
            continue;
        uint64_t v = 0;
        int ok = 1;
        for (int k = 7; k < 27; k++) {
            if (s[k] < '0' || s[k] > '9' || v > (UINT64_MAX - 9) / 10) ok = 0;
            else v = v * 10 + (uint64_t)(s[k] - '0');
        }
        if (!ok) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *g = realloc(*first_seqs, cap * sizeof *g);
            if (!g) {
                closedir(d);
                return -1;
            }
            *first_seqs = g;
        }
        (*first_seqs)[(*n)++] = v;
    }
    closedir(d);
    if (*n) qsort(*first_seqs, *n, sizeof **first_seqs, cmp_u64);
    return 0;
}


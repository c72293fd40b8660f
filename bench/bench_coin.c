/*
 * Threshold coin micro-benchmark: for committees of n = 4, 16, 64, 128 with threshold f+1
 * (f = (n-1)/3), the mean time of one share creation (share plus proof), one share
 * verification and one combination of f+1 shares. Each operation runs for about a third of
 * BUDGET_S, so a committee size takes about half a second.
 *
 * Usage: bench_coin [--json]   (--json: one JSON object per line)
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime when built outside the project's flags */
#endif

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "threshold_coin.h"

#define BUDGET_S 0.5
#define N_MAX 128

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t sk[N_MAX][32];
static uint8_t vk[N_MAX][32];
static uint8_t shares[N_MAX][TC_SHARE_BYTES];
static uint32_t indices[N_MAX];

typedef enum op { OP_CREATE, OP_VERIFY, OP_COMBINE } op;

/* Runs one operation until `seconds` have passed; returns the mean in microseconds, or a
 * negative number if the operation failed (the benchmark then measured nothing useful). */
static double time_op(op which, uint32_t threshold, double seconds, unsigned long *iterations)
{
    uint8_t nonce[8] = {0};
    uint8_t out[TC_SHARE_BYTES];
    unsigned long iters = 0;
    double start = now_s();
    double elapsed = 0;
    int ok = 1;
    /* The clock is read every 8 calls: cheap next to even the fastest operation here. */
    while (ok && elapsed < seconds) {
        for (int rep = 0; rep < 8; rep++, iters++) {
            /* A fresh nonce per creation, as every round has its own. */
            for (int b = 0; b < 8; b++) {
                nonce[b] = (uint8_t)((uint64_t)iters >> (8 * b));
            }
            switch (which) {
            case OP_CREATE:
                ok &= tc_share_create(sk[0], vk[0], nonce, sizeof nonce, out) == 0;
                break;
            case OP_VERIFY:
                ok &= tc_share_verify(vk[0], (const uint8_t *)"bench", 5, shares[0]) == 1;
                break;
            case OP_COMBINE:
                ok &= tc_combine(indices, (const uint8_t(*)[TC_SHARE_BYTES])shares, threshold,
                                 out) == 0;
                break;
            }
        }
        elapsed = now_s() - start;
    }
    *iterations = iters;
    return ok ? elapsed / (double)iters * 1e6 : -1.0;
}

int main(int argc, char **argv)
{
    int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json)) {
        fprintf(stderr, "usage: %s [--json]\n", argv[0]);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    static const uint32_t sizes[] = {4, 16, 64, 128};
    uint8_t seed[32] = {'b', 'e', 'n', 'c', 'h'};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint32_t n = sizes[s];
        uint32_t f = (n - 1) / 3;
        uint32_t threshold = f + 1;
        if (tc_deal(n, threshold, seed, sk, vk) != 0) {
            fprintf(stderr, "deal failed for n=%u\n", n);
            return 1;
        }
        for (uint32_t i = 0; i < threshold; i++) {
            indices[i] = i;
            if (tc_share_create(sk[i], vk[i], (const uint8_t *)"bench", 5, shares[i]) != 0) {
                fprintf(stderr, "share creation failed for n=%u\n", n);
                return 1;
            }
        }
        unsigned long it_create, it_verify, it_combine;
        double create_us = time_op(OP_CREATE, threshold, BUDGET_S / 3, &it_create);
        double verify_us = time_op(OP_VERIFY, threshold, BUDGET_S / 3, &it_verify);
        double combine_us = time_op(OP_COMBINE, threshold, BUDGET_S / 3, &it_combine);
        if (create_us < 0 || verify_us < 0 || combine_us < 0) {
            fprintf(stderr, "an operation failed for n=%u\n", n);
            return 1;
        }
        if (json) {
            printf("{\"bench\":\"coin\",\"n\":%u,\"threshold\":%u,\"share_create_us\":%.2f,"
                   "\"share_verify_us\":%.2f,\"combine_us\":%.2f,\"iterations_create\":%lu,"
                   "\"iterations_verify\":%lu,\"iterations_combine\":%lu}\n",
                   n, threshold, create_us, verify_us, combine_us, it_create, it_verify,
                   it_combine);
        } else {
            printf("n=%-4u threshold=%-3u share_create %8.2f us   share_verify %8.2f us   "
                   "combine(%u) %9.2f us\n",
                   n, threshold, create_us, verify_us, threshold, combine_us);
        }
        fflush(stdout);
    }
    return 0;
}

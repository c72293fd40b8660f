/* Core throughput: units added and ordered per second by one member, one thread, signature
 * checks excluded (a verifier that accepts everything is plugged in). The DAG is the honest
 * shape: every unit of round r has all N units of round r-1 as parents. Units are fed in
 * round order to an observer member, which validates, stores, votes and orders them.
 *
 * usage: bench_core [--json] [--payload-bytes B] [--rounds R] [N ...]   (default N = 4 16 64
 * 128; B = 36: one 32-byte transaction per unit; R: about 3 million parent links in all).
 * With a large B and few rounds under `valgrind --tool=callgrind` it shows the copies a unit
 * costs on its way through the core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aleph/aleph.h"
#include "message.h"
#include "unit.h"

static int accept_all(void *ctx, const uint8_t hash[32], const uint8_t sig[64],
                      const uint8_t pk[32])
{
    (void)ctx, (void)hash, (void)sig, (void)pk;
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct encoded {
    uint8_t *msg;
    size_t len;
} encoded;

static uint32_t payload_bytes = 36, rounds_wanted;

static void run(uint32_t n, int json)
{
    /* Enough rounds for a measurable run: about 3 million parent links in all. */
    uint32_t rounds = 3000000u / n / n;
    if (rounds > 100000) rounds = 100000;
    if (rounds < 100) rounds = 100;
    if (rounds_wanted) rounds = rounds_wanted;
    aleph_secret *secrets = calloc(n, sizeof *secrets);
    uint8_t(*pks)[32] = calloc(n, 32), (*vks)[32] = calloc(n, 32);
    uint8_t seed[32] = {1};
    if (aleph_keys_deal(n, seed, secrets, pks, vks) != 0) exit(1);

    size_t total = (size_t)n * rounds;
    encoded *units = calloc(total, sizeof *units);
    uint8_t(*hashes)[32] = calloc(total, 32);
    uint32_t *pc = calloc(n, sizeof *pc), *pr = calloc(n, sizeof *pr);
    const uint8_t **ph = calloc(n, sizeof *ph);
    uint8_t *payload = calloc(payload_bytes, 1);
    if (!payload) exit(1);
    uint32_t tx_len = payload_bytes - 4;
    memcpy(payload, &tx_len, 4); /* one transaction filling the payload (little-endian hosts) */
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t c = 0; c < n; c++) {
            uint32_t np = 0;
            for (uint32_t j = 0; r > 0 && j < n; j++) {
                pc[np] = j;
                pr[np] = r - 1;
                ph[np] = hashes[(size_t)(r - 1) * n + j];
                np++;
            }
            uint8_t control[32];
            if (r > 0) unit_control_hash(ph, np, control);
            memcpy(payload + 4, &r, sizeof r);
            unit_draft d = {.session = 7, .creator = c, .round = r, .parents_len = np,
                            .parent_creators = pc, .parent_rounds = pr, .control_hash = control,
                            .payload = payload, .payload_len = payload_bytes};
            size_t len = unit_encoded_len(&d);
            encoded *e = &units[(size_t)r * n + c];
            e->msg = malloc(len + 1);
            e->msg[0] = MSG_UNIT;
            e->len = len + 1;
            unit_encode_signed(&d, secrets[c].sign_secret_key, e->msg + 1,
                               hashes[(size_t)r * n + c]);
        }
    }

    aleph_config cfg;
    aleph_config_defaults(&cfg);
    cfg.members = n;
    cfg.session = 7;
    cfg.coin_mode = ALEPH_COIN_OFF;
    cfg.sign_public_keys = (const uint8_t(*)[32])pks;
    cfg.observer = 1;
    cfg.verify_signature = accept_all;
    cfg.anti_entropy_ms = 1u << 30;
    const char *err = NULL;
    aleph_member *m = aleph_member_new(&cfg, &secrets[0], &err);
    if (!m) {
        fprintf(stderr, "bench_core: %s\n", err);
        exit(1);
    }
    double start = now_s();
    uint64_t batches = 0;
    for (size_t i = 0; i < total; i++) {
        uint32_t creator = (uint32_t)(i % n);
        aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = 1,
                          .from = creator == 0 ? 1 % n : creator, .data = units[i].msg,
                          .len = units[i].len};
        aleph_update up;
        aleph_member_step(m, &ev, &up);
        batches += up.batches_len;
    }
    double elapsed = now_s() - start;
    aleph_member_stats st;
    aleph_member_stats_get(m, &st);
    double rate = (double)total / elapsed;
    if (json)
        printf("{\"bench\":\"core\",\"members\":%u,\"rounds\":%u,\"units\":%zu,\"units_ordered\":%llu,"
               "\"batches\":%llu,\"seconds\":%.3f,\"units_per_s\":%.0f}\n",
               n, rounds, total, (unsigned long long)st.units_ordered,
               (unsigned long long)batches, elapsed, rate);
    else
        printf("N=%-4u rounds=%-6u units=%-8zu ordered=%-8llu batches=%-6llu %7.3f s  %10.0f units/s\n",
               n, rounds, total, (unsigned long long)st.units_ordered,
               (unsigned long long)batches, elapsed, rate);
    if (st.units_ordered + 4u * n < total || st.messages_dropped) {
        fprintf(stderr, "bench_core: only %llu of %zu units ordered, %llu dropped\n",
                (unsigned long long)st.units_ordered, total,
                (unsigned long long)st.messages_dropped);
        exit(1);
    }
    aleph_member_free(m);
    for (size_t i = 0; i < total; i++) free(units[i].msg);
    free(units);
    free(hashes);
    free(pc);
    free(pr);
    free(ph);
    free(payload);
    free(secrets);
    free(pks);
    free(vks);
}

int main(int argc, char **argv)
{
    int json = 0, any = 0;
    if (aleph_init() != 0) return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--payload-bytes") == 0 && i + 1 < argc) {
            payload_bytes = (uint32_t)atoi(argv[++i]);
            if (payload_bytes < 8 || payload_bytes > (1u << 20)) {
                fprintf(stderr, "bench_core: --payload-bytes must be 8..1048576\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds_wanted = (uint32_t)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: bench_core [--json] [--payload-bytes B] [--rounds R] [N ...]\n");
            return 0;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        if (i > 1 && (strcmp(argv[i - 1], "--payload-bytes") == 0 ||
                      strcmp(argv[i - 1], "--rounds") == 0))
            continue;
        run((uint32_t)atoi(argv[i]), json);
        any = 1;
    }
    if (!any) {
        uint32_t sizes[] = {4, 16, 64, 128};
        for (size_t i = 0; i < 4; i++) run(sizes[i], json);
    }
    return 0;
}

#include "analysis.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/probe_tx.h"
#include "base/util.h"
#include "base/grow.h"

int analysis_init(run_analysis *a, uint32_t members, uint32_t client_id_base)
{
    memset(a, 0, sizeof *a);
    a->members = members;
    a->client_id_base = client_id_base;
    a->m = calloc(members, sizeof *a->m);
    if (!a->m) return -1;
    for (uint32_t i = 0; i < members; i++) {
        member_track *t = &a->m[i];
        t->index = i;
        t->counts = calloc(members, sizeof *t->counts);
        t->counts_cap = calloc(members, sizeof *t->counts_cap);
        t->seen = calloc(members, sizeof *t->seen);
        if (!t->counts || !t->counts_cap || !t->seen) return -1;
    }
    return 0;
}

void analysis_free(run_analysis *a)
{
    if (!a->m) return;
    for (uint32_t i = 0; i < a->members; i++) {
        member_track *t = &a->m[i];
        if (t->opened) output_tail_close(&t->tail);
        for (uint32_t o = 0; t->counts && o < a->members; o++) free(t->counts[o]);
        free(t->counts);
        free(t->counts_cap);
        free(t->seen);
        free(t->digests);
        samples_free(&t->latency_us);
        samples_free(&t->interval_latency_us);
        free(t->sec_txs);
        free(t->sec_batches);
    }
    for (size_t s = 0; s < a->sec_latency_len; s++) samples_free(&a->sec_latency_us[s]);
    free(a->sec_latency_us);
    free(a->m);
    a->m = NULL;
}

/* ---- per-second series ---------------------------------------------------------------------- */

static int grow_u32(uint32_t **v, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need) cap2 *= 2;
    uint32_t *g = realloc(*v, cap2 * sizeof *g);
    if (!g) return -1;
    memset(g + *cap, 0, (cap2 - *cap) * sizeof *g);
    *v = g;
    *cap = cap2;
    return 0;
}

/* The series slot of an output time, or -1 before the origin or without memory. */
static long series_second(run_analysis *a, member_track *t, uint64_t output_ns)
{
    if (!a->series_on || output_ns < a->series_origin_ns) return -1;
    size_t s = (size_t)((output_ns - a->series_origin_ns) / 1000000000ull);
    if (s >= t->sec_len) {
        size_t cap = t->sec_cap;
        if (grow_u32(&t->sec_txs, &cap, s + 1) != 0) return -1;
        cap = t->sec_cap;
        if (grow_u32(&t->sec_batches, &cap, s + 1) != 0) return -1;
        t->sec_cap = cap;
        t->sec_len = s + 1;
    }
    return (long)s;
}

static void series_latency(run_analysis *a, uint64_t output_ns, uint32_t us)
{
    size_t s = (size_t)((output_ns - a->series_origin_ns) / 1000000000ull);
    if (s >= a->sec_latency_cap) {
        u32_samples *g =
            array_grow_zeroed(a->sec_latency_us, &a->sec_latency_cap, s + 1, sizeof *g, 64);
        if (!g) return;
        a->sec_latency_us = g;
    }
    if (s >= a->sec_latency_len) a->sec_latency_len = s + 1;
    samples_add(&a->sec_latency_us[s], us);
}

typedef struct poll_ctx {
    run_analysis *a;
    member_track *t;
} poll_ctx;

static void count_tx(run_analysis *a, member_track *t, const uint8_t *tx, size_t len,
                     uint64_t output_ns)
{
    t->txs++;
    long sec = series_second(a, t, output_ns);
    if (sec >= 0) t->sec_txs[sec]++;
    uint64_t send_ns, seq;
    uint32_t client;
    if (!probe_tx_parse(tx, len, &send_ns, &seq, &client) || client < a->client_id_base ||
        client - a->client_id_base >= a->members || seq > (1ull << 34)) {
        t->foreign_txs++;
        return;
    }
    uint32_t origin = client - a->client_id_base;
    if (seq >= t->counts_cap[origin]) {
        uint8_t *grown = array_grow_zeroed(t->counts[origin], &t->counts_cap[origin],
                                           (size_t)seq + 1, 1, 65536);
        if (!grown) return;
        t->counts[origin] = grown;
    }
    uint8_t *c = &t->counts[origin][seq];
    if (*c == 0) t->seen[origin]++;
    else t->duplicates++;
    if (*c < 255) (*c)++;
    t->interval_txs++;
    if (output_ns >= a->window_start_ns && output_ns < a->window_end_ns) t->window_txs++;
    if (origin == t->index && output_ns >= send_ns) {
        uint64_t us = (output_ns - send_ns) / 1000;
        uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
        samples_add(&t->interval_latency_us, v);
        if (a->series_on && output_ns >= a->series_origin_ns) series_latency(a, output_ns, v);
        if (send_ns >= a->window_start_ns && send_ns < a->window_end_ns)
            samples_add(&t->latency_us, v);
    }
}

static void on_batch(void *ctx, const output_batch_view *b, const output_unit_view *units)
{
    poll_ctx *pc = ctx;
    run_analysis *a = pc->a;
    member_track *t = pc->t;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, t->chain, 32);
    uint8_t h[12];
    le32_put(h, b->round);
    le32_put(h + 4, b->head_creator);
    le32_put(h + 8, b->units);
    crypto_generichash_update(&st, h, 12);
    crypto_generichash_update(&st, b->head_hash, 32);
    for (uint32_t i = 0; i < b->units; i++) {
        const output_unit_view *u = &units[i];
        le32_put(h, u->round);
        le32_put(h + 4, u->creator);
        le32_put(h + 8, u->payload_len);
        crypto_generichash_update(&st, h, 12);
        crypto_generichash_update(&st, u->hash, 32);
        size_t off = 0;
        const uint8_t *tx;
        size_t tx_len;
        while (aleph_payload_next(u->payload, u->payload_len, &off, &tx, &tx_len) == 1)
            count_tx(a, t, tx, tx_len, b->output_real_ns);
    }
    crypto_generichash_final(&st, t->chain, 32);
    if (t->batches == t->digests_cap) {
        uint8_t(*grown)[16] =
            array_grow(t->digests, &t->digests_cap, t->batches + 1, sizeof *grown, 1024);
        if (!grown) return;
        t->digests = grown;
    }
    memcpy(t->digests[t->batches], t->chain, 16);
    long sec = series_second(a, t, b->output_real_ns);
    if (sec >= 0) t->sec_batches[sec]++;
    if (!t->batches) {
        t->first_round = b->round;
        t->first_output_ns = b->output_real_ns;
    }
    t->batches++;
    t->last_round = b->round;
    t->last_output_ns = b->output_real_ns;
    if (b->output_real_ns >= a->window_start_ns && b->output_real_ns < a->window_end_ns) {
        if (!t->window_first_ns) {
            t->window_first_ns = b->output_real_ns;
            t->window_first_round = b->round;
        }
        t->window_last_ns = b->output_real_ns;
        t->window_last_round = b->round;
    }
}

void analysis_poll(run_analysis *a, uint32_t i, const char *output_path)
{
    member_track *t = &a->m[i];
    if (!t->opened) {
        if (output_tail_open(&t->tail, output_path) != 0) return;
        t->opened = 1;
    }
    poll_ctx pc = {a, t};
    output_tail_poll(&t->tail, on_batch, &pc);
}

int analysis_agreement(const run_analysis *a, const int *include, char *why, size_t cap)
{
    uint32_t ref = UINT32_MAX;
    for (uint32_t i = 0; i < a->members; i++) {
        if (!include[i]) continue;
        if (a->m[i].tail.corrupt) {
            snprintf(why, cap, "member %u's output file is corrupt", i);
            return 0;
        }
        if (ref == UINT32_MAX || a->m[i].batches > a->m[ref].batches) ref = i;
    }
    if (ref == UINT32_MAX) {
        snprintf(why, cap, "no output");
        return 0;
    }
    for (uint32_t i = 0; i < a->members; i++) {
        if (!include[i] || i == ref || a->m[i].batches == 0) continue;
        uint64_t k = a->m[i].batches - 1;
        if (memcmp(a->m[i].digests[k], a->m[ref].digests[k], 16) != 0) {
            /* find the first batch that differs */
            uint64_t lo = 0, hi = k;
            while (lo < hi) {
                uint64_t mid = (lo + hi) / 2;
                if (memcmp(a->m[i].digests[mid], a->m[ref].digests[mid], 16) != 0) hi = mid;
                else lo = mid + 1;
            }
            snprintf(why, cap, "member %u's output differs from member %u's at batch %lu", i, ref,
                     (unsigned long)lo);
            return 0;
        }
    }
    snprintf(why, cap, "every output is a prefix of member %u's (%lu batches)", ref,
             (unsigned long)a->m[ref].batches);
    return 1;
}

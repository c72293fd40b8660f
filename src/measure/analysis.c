#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
        if (t->opened) output_follow_close(&t->follow);
        free(t->load_upto);
        free(t->out_ns);
        free(t->pend);
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

/* A transaction sent to member t at send_ns, output there at output_ns. */
static void add_latency(run_analysis *a, member_track *t, uint64_t output_ns, uint64_t send_ns)
{
    if (output_ns < send_ns) return;
    uint64_t us = (output_ns - send_ns) / 1000;
    uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    samples_add(&t->interval_latency_us, v);
    if (a->series_on && output_ns >= a->series_origin_ns) series_latency(a, output_ns, v);
    if (send_ns >= a->window_start_ns && send_ns < a->window_end_ns) samples_add(&t->latency_us, v);
}

/* Member o (chain mode) was sent a transaction that the reference output in batch seq:
 * its latency once o's output time of that batch is known. */
static void pair_latency(run_analysis *a, member_track *o, uint64_t seq, uint64_t send_ns)
{
    if (!o->chain_only) return; /* a full member counts its own */
    if (seq >= o->seq0 && seq < o->seq0 + o->batches) {
        add_latency(a, o, o->out_ns[seq - o->seq0], send_ns);
        return;
    }
    if (o->pend_len == o->pend_cap) {
        if (o->pend_cap >= (16u << 20)) {
            o->pend_dropped++;
            return;
        }
        size_t cap = o->pend_cap ? o->pend_cap * 2 : 4096;
        struct pending_latency *g = malloc(cap * sizeof *g);
        if (!g) {
            o->pend_dropped++;
            return;
        }
        for (size_t k = 0; k < o->pend_len; k++) g[k] = o->pend[(o->pend_head + k) % o->pend_cap];
        free(o->pend);
        o->pend = g;
        o->pend_cap = cap;
        o->pend_head = 0;
    }
    o->pend[(o->pend_head + o->pend_len++) % o->pend_cap] =
        (struct pending_latency){.seq = seq, .send_ns = send_ns};
}

/* Chain member t reached seq: the latencies that waited for it. */
static void settle_latency(run_analysis *a, member_track *t)
{
    while (t->pend_len) {
        struct pending_latency *p = &t->pend[t->pend_head];
        if (p->seq >= t->seq0 + t->batches) break;
        if (p->seq >= t->seq0) add_latency(a, t, t->out_ns[p->seq - t->seq0], p->send_ns);
        t->pend_head = (t->pend_head + 1) % t->pend_cap;
        t->pend_len--;
    }
}

static void count_tx(run_analysis *a, member_track *t, const uint8_t *tx, size_t len,
                     uint64_t output_ns, uint64_t batch_seq)
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
    t->load_txs++;
    if (output_ns >= a->window_start_ns && output_ns < a->window_end_ns) t->window_txs++;
    if (origin == t->index) add_latency(a, t, output_ns, send_ns);
    else if (t->index == 0) pair_latency(a, &a->m[origin], batch_seq, send_ns);
}

/* Grows a per-batch u64 array to hold index k. */
static int per_batch(uint64_t **v, size_t *cap, uint64_t k)
{
    if (k < *cap) return 0;
    uint64_t *g = array_grow(*v, cap, (size_t)k + 1, sizeof *g, 1024);
    if (!g) return -1;
    *v = g;
    return 0;
}

static void on_batch(void *ctx, const output_batch_view *b, const output_unit_view *units)
{
    poll_ctx *pc = ctx;
    run_analysis *a = pc->a;
    member_track *t = pc->t;
    if (!t->batches) {
        t->seq0 = b->seq;
        t->first_round = b->round;
        t->first_output_ns = b->output_real_ns;
    }
    uint64_t k = t->batches;
    if (b->has_units)
        for (uint32_t i = 0; i < b->units; i++) {
            size_t off = 0;
            const uint8_t *tx;
            size_t tx_len;
            while (aleph_payload_next(units[i].payload, units[i].payload_len, &off, &tx, &tx_len) == 1)
                count_tx(a, t, tx, tx_len, b->output_real_ns, b->seq);
        }
    if (b->has_units && per_batch(&t->load_upto, &t->load_upto_cap, k) == 0)
        t->load_upto[k] = t->load_txs;
    if (!b->has_units && per_batch(&t->out_ns, &t->out_ns_cap, k) == 0)
        t->out_ns[k] = b->output_real_ns;
    if (t->batches == t->digests_cap) {
        uint8_t(*grown)[16] =
            array_grow(t->digests, &t->digests_cap, t->batches + 1, sizeof *grown, 1024);
        if (!grown) return;
        t->digests = grown;
    }
    memcpy(t->digests[t->batches], b->chain, 16);
    memcpy(t->chain, b->chain, 32);
    long sec = series_second(a, t, b->output_real_ns);
    if (sec >= 0) t->sec_batches[sec]++;
    t->batches++;
    t->last_round = b->round;
    t->last_output_ns = b->output_real_ns;
    if (!b->has_units) settle_latency(a, t);
    if (b->output_real_ns >= a->window_start_ns && b->output_real_ns < a->window_end_ns) {
        if (!t->window_first_ns) {
            t->window_first_ns = b->output_real_ns;
            t->window_first_round = b->round;
            t->window_first_seq = b->seq;
        }
        t->window_last_ns = b->output_real_ns;
        t->window_last_round = b->round;
        t->window_last_seq = b->seq;
    }
}

void analysis_poll(run_analysis *a, uint32_t i, const char *output_path)
{
    member_track *t = &a->m[i];
    if (!t->opened) {
        struct stat st;
        if (stat(output_path, &st) != 0) return;
        output_follow_init(&t->follow, output_path, OUTPUT_FROM_OLDEST);
        t->opened = 1;
    }
    poll_ctx pc = {a, t};
    if (t->follow.open && t->follow.t.header_done)
        t->chain_only = t->follow.t.version == 2 && t->follow.t.mode == OUTPUT_CHAIN;
    output_follow_poll(&t->follow, on_batch, &pc, 0, NULL);
    if (t->follow.open && t->follow.t.header_done)
        t->chain_only = t->follow.t.version == 2 && t->follow.t.mode == OUTPUT_CHAIN;
}

void analysis_poll_all(run_analysis *a, const char *const *paths)
{
    for (int chain_pass = 1; chain_pass >= 0; chain_pass--)
        for (uint32_t i = 0; i < a->members; i++) {
            if (!paths[i] || !paths[i][0]) continue;
            char dir[4096];
            snprintf(dir, sizeof dir, "%s", paths[i]);
            char *slash = strrchr(dir, '/');
            if (slash) *slash = '\0';
            else snprintf(dir, sizeof dir, ".");
            int chain = output_dir_mode(dir) == OUTPUT_CHAIN;
            if (chain == chain_pass) analysis_poll(a, i, paths[i]);
        }
}

uint64_t analysis_load_txs_from(const run_analysis *a, uint32_t ref, uint64_t end_seq)
{
    const member_track *t = &a->m[ref];
    if (!t->batches || end_seq >= t->seq0 + t->batches) return 0;
    if (end_seq <= t->seq0) return t->load_txs;
    return t->load_txs - t->load_upto[end_seq - t->seq0 - 1];
}

/* The chain value of member t at seq (16 bytes), or NULL outside what it read. */
static const uint8_t *digest_at(const member_track *t, uint64_t seq)
{
    if (seq < t->seq0 || seq >= t->seq0 + t->batches) return NULL;
    return t->digests[seq - t->seq0];
}

int analysis_agreement(const run_analysis *a, const int *include, char *why, size_t cap)
{
    uint32_t ref = UINT32_MAX;
    for (uint32_t i = 0; i < a->members; i++) {
        if (!include[i]) continue;
        if (a->m[i].follow.corrupt) {
            snprintf(why, cap, "member %u's output is corrupt: %s", i, a->m[i].follow.why);
            return 0;
        }
        if (ref == UINT32_MAX || a->m[i].seq0 + a->m[i].batches > a->m[ref].seq0 + a->m[ref].batches)
            ref = i;
    }
    if (ref == UINT32_MAX) {
        snprintf(why, cap, "no output");
        return 0;
    }
    const member_track *r = &a->m[ref];
    for (uint32_t i = 0; i < a->members; i++) {
        const member_track *t = &a->m[i];
        if (!include[i] || i == ref || t->batches == 0) continue;
        /* every batch both hold: a chain value covers everything before it, but a member
         * in chain mode writes its values without the units to recompute them from */
        uint64_t lo = t->seq0 > r->seq0 ? t->seq0 : r->seq0;
        uint64_t hi = t->seq0 + t->batches;
        if (hi > r->seq0 + r->batches) hi = r->seq0 + r->batches;
        if (lo >= hi) {
            snprintf(why, cap, "member %u's output (from batch %lu) and member %u's (from %lu) "
                     "have no batch in common", i, (unsigned long)t->seq0, ref,
                     (unsigned long)r->seq0);
            return 0;
        }
        for (uint64_t seq = lo; seq < hi; seq++)
            if (memcmp(digest_at(t, seq), digest_at(r, seq), 16) != 0) {
                snprintf(why, cap, "member %u's output differs from member %u's at batch %lu", i,
                         ref, (unsigned long)seq);
                return 0;
            }
    }
    snprintf(why, cap, "every output is a prefix of member %u's (%lu batches)", ref,
             (unsigned long)(r->seq0 + r->batches));
    return 1;
}

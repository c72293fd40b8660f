#include "link_delay.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/latency_matrix.h"

/* ---- parameters ----------------------------------------------------------------------------- */

int link_params_parse(link_params *p, const char *spec, uint32_t self, uint32_t members,
                      char *err, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->members = members;
    p->self = self;
    p->delay_ms = calloc(members ? members : 1, sizeof *p->delay_ms);
    if (!p->delay_ms) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    char *end;
    errno = 0;
    double uniform = strtod(spec, &end);
    if (*spec && *end == '\0' && !errno) {
        if (!(uniform >= 0 && uniform <= 60000)) {
            snprintf(err, cap, "link delay %s: must be 0..60000 ms", spec);
            link_params_free(p);
            return -1;
        }
        for (uint32_t i = 0; i < members; i++) p->delay_ms[i] = i == self ? 0 : uniform;
        snprintf(p->desc, sizeof p->desc, "%g ms one way on every link", uniform);
        return 0;
    }
    sim_latency_matrix *m = malloc(sizeof *m);
    if (!m) {
        snprintf(err, cap, "out of memory");
        link_params_free(p);
        return -1;
    }
    if (sim_latency_matrix_load(spec, m, err, cap) != 0) {
        free(m);
        link_params_free(p);
        return -1;
    }
    p->regions = m->regions;
    uint32_t mine = self % m->regions;
    for (uint32_t i = 0; i < members; i++)
        p->delay_ms[i] =
            i == self ? 0 : (double)sim_latency_matrix_one_way_ms(m, mine, i % m->regions);
    const char *base = strrchr(spec, '/');
    snprintf(p->desc, sizeof p->desc, "%s: member %u in region %s (%u regions, RTT/2 one way)",
             base ? base + 1 : spec, self, m->names[mine], m->regions);
    free(m);
    return 0;
}

void link_params_free(link_params *p)
{
    free(p->delay_ms);
    p->delay_ms = NULL;
}

/* ---- the stage ------------------------------------------------------------------------------- */

static uint64_t next_random(link_stage *s)
{
    /* splitmix64: local choices only (which message is lost, jitter) */
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform01(link_stage *s)
{
    return (double)(next_random(s) >> 11) / 9007199254740992.0;
}

static void on_timer(uv_timer_t *t);

static void arm(link_stage *s)
{
    if (s->closing) return;
    uint64_t earliest = UINT64_MAX;
    for (uint32_t i = 0; i < s->params.members; i++) {
        link_queue *q = &s->q[i];
        if (q->len && q->v[q->head].due_ns < earliest) earliest = q->v[q->head].due_ns;
    }
    if (earliest == UINT64_MAX) {
        if (s->armed_ns) uv_timer_stop(&s->timer);
        s->armed_ns = 0;
        return;
    }
    if (s->armed_ns && s->armed_ns <= earliest) return;
    uint64_t now = uv_hrtime();
    /* whole ms, rounded up: the frame is checked against the clock when the timer fires */
    uint64_t wait_ms = earliest > now ? (earliest - now + 999999) / 1000000 : 0;
    s->armed_ns = earliest;
    uv_timer_start(&s->timer, on_timer, wait_ms, 0);
}

static void release_due(link_stage *s)
{
    uint64_t now = uv_hrtime();
    for (uint32_t i = 0; i < s->params.members; i++) {
        link_queue *q = &s->q[i];
        while (q->len && q->v[q->head].due_ns <= now) {
            out_frame *f = q->v[q->head].f;
            q->head = (q->head + 1) % q->cap;
            q->len--;
            q->bytes -= f->len;
            s->bytes -= f->len;
            if (!s->closing) s->release(s->ctx, i, f);
            out_frame_unref(f);
        }
    }
}

static void on_timer(uv_timer_t *t)
{
    link_stage *s = t->data;
    s->armed_ns = 0;
    release_due(s);
    arm(s);
}

int link_stage_start(link_stage *s, uv_loop_t *loop, link_params *params, size_t bytes_max_per_peer,
                     link_release_fn release, void *ctx)
{
    memset(s, 0, sizeof *s);
    s->params = *params;
    memset(params, 0, sizeof *params);
    s->loop = loop;
    s->release = release;
    s->ctx = ctx;
    s->bytes_max_per_peer = bytes_max_per_peer;
    randombytes_buf(&s->rng, sizeof s->rng);
    s->q = calloc(s->params.members, sizeof *s->q);
    if (!s->q) return -1;
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->timer_open = 1;
    return 0;
}

static int queue_grow(link_queue *q)
{
    uint32_t cap = q->cap ? q->cap * 2 : 64;
    link_item *v = malloc(cap * sizeof *v);
    if (!v) return -1;
    for (uint32_t i = 0; i < q->len; i++) v[i] = q->v[(q->head + i) % q->cap];
    free(q->v);
    q->v = v;
    q->cap = cap;
    q->head = 0;
    return 0;
}

void link_stage_submit(link_stage *s, uint32_t to, out_frame *f)
{
    if (s->closing || to >= s->params.members) return;
    const link_params *p = &s->params;
    if (p->loss > 0 && uniform01(s) < p->loss) {
        s->counters.lost++;
        return;
    }
    link_queue *q = &s->q[to];
    if (q->bytes + f->len > s->bytes_max_per_peer || (q->len == q->cap && queue_grow(q) != 0)) {
        s->counters.dropped++;
        return;
    }
    uint64_t now = uv_hrtime();
    uint64_t sent = now;
    if (p->bandwidth_mbit > 0) {
        /* serialisation on this member's uplink */
        uint64_t start = s->uplink_free_ns > now ? s->uplink_free_ns : now;
        s->uplink_free_ns = start + (uint64_t)((double)f->len * 8.0 * 1000.0 / p->bandwidth_mbit);
        sent = s->uplink_free_ns;
    }
    double delay = p->delay_ms[to];
    if (p->jitter_ms > 0) delay += (uniform01(s) * 2 - 1) * p->jitter_ms;
    if (delay < 0) delay = 0;
    uint64_t due = sent + (uint64_t)(delay * 1e6);
    if (due < q->last_due_ns) due = q->last_due_ns; /* a link never reorders */
    q->last_due_ns = due;
    f->refs++;
    q->v[(q->head + q->len) % q->cap] = (link_item){.due_ns = due, .f = f};
    q->len++;
    q->bytes += f->len;
    s->bytes += f->len;
    if (s->bytes > s->counters.bytes_max) s->counters.bytes_max = s->bytes;
    s->counters.delayed++;
    if (!s->armed_ns || due < s->armed_ns) arm(s);
}

void link_stage_close(link_stage *s)
{
    if (s->closing) return;
    s->closing = 1;
    if (s->timer_open) uv_close((uv_handle_t *)&s->timer, NULL);
    s->timer_open = 0;
}

void link_stage_free(link_stage *s)
{
    if (s->q) {
        for (uint32_t i = 0; i < s->params.members; i++) {
            link_queue *q = &s->q[i];
            for (uint32_t k = 0; k < q->len; k++) out_frame_unref(q->v[(q->head + k) % q->cap].f);
            free(q->v);
        }
        free(s->q);
        s->q = NULL;
    }
    link_params_free(&s->params);
}

void link_stage_config_fields(const link_stage *s, char *out, size_t cap)
{
    const link_params *p = &s->params;
    char desc[1100];
    size_t k = (size_t)snprintf(out, cap,
                                "\"desc\":\"%s\",\"jitter_ms\":%g,\"loss\":%g,"
                                "\"bandwidth_mbit\":%g,\"delay_ms\":[",
                                log_escape(desc, sizeof desc, p->desc), p->jitter_ms, p->loss,
                                p->bandwidth_mbit);
    for (uint32_t i = 0; i < p->members && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%g", i ? "," : "", p->delay_ms[i]);
    if (k < cap) snprintf(out + k, cap - k, "]");
}

void link_stage_stats_fields(const link_stage *s, char *out, size_t cap)
{
    snprintf(out, cap,
             "\"delayed\":%llu,\"lost\":%llu,\"dropped\":%llu,\"bytes_held\":%zu,"
             "\"bytes_held_max\":%llu",
             (unsigned long long)s->counters.delayed, (unsigned long long)s->counters.lost,
             (unsigned long long)s->counters.dropped, s->bytes,
             (unsigned long long)s->counters.bytes_max);
}

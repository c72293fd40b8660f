/* A run's summary computed from its outputs, logs and manifest (`aleph local` and
 * `aleph analyze` both call it); the writers are summary_json.c, summary_text.c and
 * summary_csv.c. */
#include "summary.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int in_window(const run_summary *s, int64_t ts_ms)
{
    uint64_t ns = (uint64_t)ts_ms * 1000000ull;
    return ts_ms >= 0 && ns >= s->cfg.window_start_ns && ns < s->cfg.window_end_ns;
}

static const log_created *find_created(const member_log *m, uint32_t round)
{
    size_t lo = 0, hi = m->created_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->created[mid].round < round) lo = mid + 1;
        else hi = mid;
    }
    return lo < m->created_len && m->created[lo].round == round ? &m->created[lo] : NULL;
}

static void compute_links(run_summary *s, const summary_inputs *in)
{
    uint32_t n = in->members;
    u32_samples all = {0};
    u32_samples *per = calloc((size_t)n * n, sizeof *per);
    if (!per) return;
    for (uint32_t to = 0; to < n; to++) {
        if (!in->has_log[to]) continue;
        const member_log *ml = &in->logs[to];
        for (size_t k = 0; k < ml->received_len; k++) {
            const log_received *r = &ml->received[k];
            if (r->creator >= n || r->creator == to || !in->has_log[r->creator]) continue;
            const log_created *c = find_created(&in->logs[r->creator], r->round);
            if (!c || c->hash != r->hash) continue;
            if (s->cfg.window_end_ns && !in_window(s, c->ts_ms)) continue;
            int64_t d = r->ts_ms - c->ts_ms;
            uint32_t v = d < 0 ? 0 : (uint32_t)d;
            samples_add(&per[(size_t)r->creator * n + to], v);
            samples_add(&all, v);
        }
    }
    s->links = calloc((size_t)n * n, sizeof *s->links);
    s->delay_link_min = -1;
    for (uint32_t from = 0; s->links && from < n; from++)
        for (uint32_t to = 0; to < n; to++) {
            u32_samples *p = &per[(size_t)from * n + to];
            if (!p->len) continue;
            link_figures *l = &s->links[s->links_len++];
            l->from = from;
            l->to = to;
            l->units = p->len;
            l->delay_ms_mean = samples_mean(p);
            l->delay_ms_p50 = samples_percentile(p, 50); /* sorts */
            l->delay_ms_min = p->v[0];
            l->delay_ms_max = p->v[p->len - 1];
            const member_log *src = &in->logs[from];
            l->delay_ms_configured = src->has_links && src->link_delay_ms ? src->link_delay_ms[to] : -1;
            if (s->delay_link_min < 0 || l->delay_ms_mean < s->delay_link_min) s->delay_link_min = l->delay_ms_mean;
            if (l->delay_ms_mean > s->delay_link_max) s->delay_link_max = l->delay_ms_mean;
        }
    if (s->delay_link_min < 0) s->delay_link_min = 0;
    s->delay_units = all.len;
    s->delay_mean = samples_mean(&all);
    s->delay_p50 = samples_percentile(&all, 50);
    samples_free(&all);
    for (size_t i = 0; i < (size_t)n * n; i++) samples_free(&per[i]);
    free(per);
}

static void compute_from_outputs(run_summary *s, const summary_inputs *in)
{
    run_analysis *an = in->an;
    uint32_t n = in->members;
    int *include = calloc(n, sizeof *include);
    uint32_t opened = 0;
    for (uint32_t i = 0; i < n; i++) {
        include[i] = an->m[i].opened;
        opened += (uint32_t)include[i];
        s->per_member[i].has_output = an->m[i].opened;
        s->per_member[i].batches = an->m[i].batches;
        s->per_member[i].last_round = an->m[i].last_round;
    }
    s->outputs = opened > 0;
    s->outputs_read = opened;
    if (opened >= 2) {
        s->agreement = analysis_agreement(an, include, s->agreement_why, sizeof s->agreement_why);
    } else {
        s->agreement = -1;
        snprintf(s->agreement_why, sizeof s->agreement_why,
                 opened ? "one output file: nothing to compare" : "no output files");
    }
    free(include);
    if (!opened) return;
    member_track *m0 = &an->m[s->ref];
    s->batches = (uint32_t)m0->batches;
    s->last_round = m0->last_round;
    if (s->window_s > 0) s->throughput_tx_s = (double)m0->window_txs / s->window_s;
    if (m0->window_last_ns > m0->window_first_ns)
        /* rounds restart in every epoch: count batches, one per round */
        s->rounds_per_s = (double)(m0->window_last_seq - m0->window_first_seq) /
                          ((double)(m0->window_last_ns - m0->window_first_ns) / 1e9);
    for (uint32_t i = 0; i < n; i++) {
        const member_track *t = &an->m[i];
        for (size_t k = 0; k < t->latency_us.len; k++) samples_add(&s->latency_all_us, t->latency_us.v[k]);
        s->txs_duplicated += t->duplicates;
    }
    for (uint32_t o = 0; o < n; o++) s->txs_distinct += m0->seen[o];
    s->latency_n = s->latency_all_us.len;
    s->lat_mean = samples_mean(&s->latency_all_us) / 1000.0;
    s->lat_p50 = samples_percentile(&s->latency_all_us, 50) / 1000.0;
    s->lat_p95 = samples_percentile(&s->latency_all_us, 95) / 1000.0;
    s->lat_p99 = samples_percentile(&s->latency_all_us, 99) / 1000.0;
}

static void compute_exactly_once(run_summary *s, const summary_inputs *in)
{
    json_t *h = in->harness;
    json_t *eo = h ? json_object_get(h, "exactly_once") : NULL;
    if (json_is_boolean(eo) && (s->outputs_read > 1 || in->members == 1)) {
        /* `aleph local` checked every transaction against the client's answers, at every
         * member; with one member's files read, the claim is that member's (below). */
        s->exactly_once = json_is_true(eo);
        json_field_str(h, "exactly_once_why", s->exactly_once_why, sizeof s->exactly_once_why);
        s->txs_missing = json_field_u64(h, "txs_missing", 0);
        s->txs_duplicated = json_field_u64(h, "txs_duplicated", s->txs_duplicated);
        return;
    }
    if (!s->outputs) {
        s->exactly_once = -1;
        snprintf(s->exactly_once_why, sizeof s->exactly_once_why, "no output files");
        return;
    }
    if (in->an && in->an->m[s->ref].opened && in->an->m[s->ref].chain_only) {
        s->exactly_once = -1;
        snprintf(s->exactly_once_why, sizeof s->exactly_once_why,
                 "member %u wrote a hash chain per batch (--output-mode chain), "
                 "no transactions to count",
                 s->ref);
        return;
    }
    if (in->load && in->load->present && in->load->accepted > s->txs_distinct)
        s->txs_missing = in->load->accepted - s->txs_distinct;
    if (s->txs_duplicated || s->txs_missing) {
        s->exactly_once = 0;
        snprintf(s->exactly_once_why, sizeof s->exactly_once_why,
                 "%" PRIu64 " tx output twice; member %u output %" PRIu64
                 " distinct load tx, %" PRIu64 " fewer than the client's accepted count",
                 s->txs_duplicated, s->ref, s->txs_distinct, s->txs_missing);
    } else if (in->load && in->load->present) {
        s->exactly_once = 1;
        snprintf(s->exactly_once_why, sizeof s->exactly_once_why,
                 "no tx output twice; member %u output all %" PRIu64 " accepted tx", s->ref,
                 in->load->accepted);
    } else {
        s->exactly_once = -1;
        snprintf(s->exactly_once_why, sizeof s->exactly_once_why,
                 "no tx output twice; no client records to check for missing ones");
    }
}

static void compute_from_logs(run_summary *s, const summary_inputs *in)
{
    uint32_t n = in->members;
    u32_samples cons = {0};
    double sent = 0, recv = 0, cpu = 0;
    uint32_t with_stats = 0, with_cpu = 0;
    for (uint32_t i = 0; i < n; i++) {
        member_figures *pm = &s->per_member[i];
        int has = in->has_log[i];
        const member_log *ml = has ? &in->logs[i] : NULL;
        pm->has_log = has;
        if (ml) {
            s->log_lines += ml->lines;
            s->log_broken += ml->broken;
            pm->log_broken = ml->broken;
            if (ml->broken && !s->first_broken[0])
                snprintf(s->first_broken, sizeof s->first_broken, "member %u line %" PRIu64 ": %s",
                         i, ml->first_broken_line, ml->first_broken);
            if (ml->warn_lines && !s->warn_lines)
                snprintf(s->first_warn, sizeof s->first_warn, "%s", ml->first_warn);
            s->warn_lines += ml->warn_lines;
            s->drop_input += ml->input_dropped;
            s->drop_link_lost += ml->link_lost;
            s->drop_link_full += ml->link_dropped;
            for (size_t k = 0; k < ml->ordered_len; k++)
                if (!s->cfg.window_end_ns || in_window(s, ml->ordered[k].ts_ms))
                    samples_add(&cons, ml->ordered[k].latency_ms);
            const log_stats *st = member_log_last_stats(ml);
            if (st) {
                if (st->uptime_s > 0) {
                    pm->bytes_sent_s = (double)st->bytes_out / st->uptime_s;
                    pm->bytes_received_s = (double)st->bytes_in / st->uptime_s;
                    sent += pm->bytes_sent_s;
                    recv += pm->bytes_received_s;
                    with_stats++;
                }
                pm->peak_rss_mb = st->peak_rss_mb;
                pm->cpu_s = st->cpu_s;
                s->drop_queue += st->queue_dropped;
                s->drop_rejected += st->messages_dropped;
                s->drop_connections += st->net_rejected;
                s->drop_client += st->client_refused;
                pm->dropped = st->queue_dropped + st->messages_dropped + st->net_rejected +
                              ml->link_lost + ml->link_dropped + ml->input_dropped;
            }
        }
        if (in->cpu_s_override && in->cpu_s_override[i] >= 0) pm->cpu_s = in->cpu_s_override[i];
        if (in->peak_rss_override && in->peak_rss_override[i] >= 0)
            pm->peak_rss_mb = in->peak_rss_override[i];
        if (ml || (in->cpu_s_override && in->cpu_s_override[i] >= 0)) {
            cpu += pm->cpu_s;
            with_cpu++;
        }
        if (pm->peak_rss_mb > s->peak_rss_mb) s->peak_rss_mb = pm->peak_rss_mb;
    }
    s->consensus_n = cons.len;
    s->cons_mean = samples_mean(&cons);
    s->cons_p50 = samples_percentile(&cons, 50);
    s->cons_p95 = samples_percentile(&cons, 95);
    samples_free(&cons);
    s->bytes_sent_per_member_s = with_stats ? sent / with_stats : 0;
    s->bytes_received_per_member_s = with_stats ? recv / with_stats : 0;
    s->cpu_s_per_member = with_cpu ? cpu / with_cpu : 0;

    /* Heads at the reference member: decision depth, units per batch; throughput and rounds
     * too when there is no output file to take them from. */
    if (!in->has_log[s->ref]) return;
    const member_log *ml = &in->logs[s->ref];
    uint64_t heads = 0, units = 0, txs = 0;
    int64_t first_ts = -1, last_ts = -1;
    uint32_t first_round = 0, last_round = 0;
    for (size_t k = 0; k < ml->heads_len; k++) {
        const log_head *h = &ml->heads[k];
        if (!in_window(s, h->ts_ms)) continue;
        s->depth[h->depth <= 2 ? 0 : h->depth == 3 ? 1 : 2]++;
        heads++;
        units += h->units;
        txs += h->txs;
        if (first_ts < 0) {
            first_ts = h->ts_ms;
            first_round = h->round;
        }
        last_ts = h->ts_ms;
        last_round = h->round;
    }
    s->units_per_batch = heads ? (double)units / (double)heads : 0;
    if (!in->an || !in->an->m[s->ref].opened) {
        if (s->window_s > 0) s->throughput_tx_s = (double)txs / s->window_s;
        if (last_ts > first_ts)
            s->rounds_per_s = (double)(last_round - first_round) / ((double)(last_ts - first_ts) / 1e3);
        s->batches = (uint32_t)ml->heads_len;
        s->last_round = ml->heads_len ? ml->heads[ml->heads_len - 1].round : 0;
    }
}

void summary_compute(run_summary *s, const summary_inputs *in)
{
    memset(s, 0, sizeof *s);
    s->cfg = *in->cfg;
    s->harness = in->harness;
    s->title = "aleph";
    uint32_t n = in->members;
    s->per_member = calloc(n ? n : 1, sizeof *s->per_member);
    if (!s->per_member) return;
    uint32_t survivors = s->cfg.faulty < n ? n - s->cfg.faulty : n;
    s->ref = UINT32_MAX;
    uint32_t any = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        int out = in->an && in->an->m[i].opened;
        s->per_member[i].survivor = i < survivors;
        if (out || in->has_log[i]) s->members_seen++;
        if (any == UINT32_MAX && i < survivors && (out || in->has_log[i])) any = i;
        /* the reference holds transactions: not a member that wrote only a hash chain */
        if (s->ref == UINT32_MAX && i < survivors && (out || in->has_log[i]) &&
            !(out && in->an->m[i].chain_only))
            s->ref = i;
    }
    if (s->ref == UINT32_MAX) s->ref = any;
    if (s->ref == UINT32_MAX) s->ref = 0;
    /* Without a known window (a lone log): the span of heads that carried transactions. */
    if (!s->cfg.window_end_ns && in->has_log[s->ref]) {
        const member_log *ml = &in->logs[s->ref];
        int64_t t0 = -1, t1 = -1;
        for (size_t k = 0; k < ml->heads_len; k++)
            if (ml->heads[k].txs) {
                if (t0 < 0) t0 = ml->heads[k].ts_ms;
                t1 = ml->heads[k].ts_ms;
            }
        if (t0 < 0 && ml->heads_len) {
            t0 = ml->heads[0].ts_ms;
            t1 = ml->heads[ml->heads_len - 1].ts_ms;
        }
        if (t0 >= 0)
            run_window((uint64_t)t0 * 1000000ull, (uint64_t)t1 * 1000000ull + 1000000ull,
                       &s->cfg.window_start_ns, &s->cfg.window_end_ns);
    }
    s->window_s = (double)(s->cfg.window_end_ns - s->cfg.window_start_ns) / 1e9;
    s->agreement = -1;
    snprintf(s->agreement_why, sizeof s->agreement_why, "no output files");
    if (in->an) compute_from_outputs(s, in);
    compute_exactly_once(s, in);
    compute_from_logs(s, in);
    s->throughput_mb_s = s->throughput_tx_s * s->cfg.tx_size / 1e6;
    compute_links(s, in);
}

void summary_free(run_summary *s)
{
    free(s->per_member);
    free(s->links);
    samples_free(&s->latency_all_us);
    memset(s, 0, sizeof *s);
}

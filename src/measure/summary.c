#include "summary.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- run manifest -------------------------------------------------------------------------- */

void run_config_defaults(run_config *c)
{
    memset(c, 0, sizeof *c);
    c->tx_size = 512;
    c->round_delay_ms = -1;
    snprintf(c->network, sizeof c->network, "loopback");
    c->client_id_base = LOCAL_CLIENT_ID_BASE;
}

json_t *run_config_json(const run_config *c)
{
    json_t *j = json_object();
    json_object_set_new(j, "format", json_string("aleph-run/1"));
    json_object_set_new(j, "members", json_integer(c->members));
    json_object_set_new(j, "faulty", json_integer(c->faulty));
    json_object_set_new(j, "tx_size", json_integer(c->tx_size));
    json_object_set_new(j, "offered_tx_s", json_real(c->offered_tx_s));
    json_object_set_new(j, "duration_s", json_real(c->duration_s));
    json_object_set_new(j, "round_delay_ms", json_integer(c->round_delay_ms));
    json_object_set_new(j, "max_unit_bytes", json_integer(c->max_unit_bytes));
    json_object_set_new(j, "coin", json_string(c->coin));
    json_object_set_new(j, "network", json_string(c->network));
    json_object_set_new(j, "wan_matrix", json_string(c->wan_matrix));
    json_object_set_new(j, "jitter_ms", json_real(c->jitter_ms));
    json_object_set_new(j, "loss", json_real(c->loss));
    json_object_set_new(j, "bandwidth_mbit", json_real(c->bandwidth_mbit));
    json_object_set_new(j, "client_id_base", json_integer(c->client_id_base));
    json_object_set_new(j, "load_start_ns", json_integer((json_int_t)c->load_start_ns));
    json_object_set_new(j, "window_start_ns", json_integer((json_int_t)c->window_start_ns));
    json_object_set_new(j, "window_end_ns", json_integer((json_int_t)c->window_end_ns));
    json_object_set_new(j, "command", json_string(c->command));
    return j;
}

static void jstr(json_t *j, const char *key, char *out, size_t cap)
{
    const char *v = json_string_value(json_object_get(j, key));
    if (v) snprintf(out, cap, "%s", v);
}

static uint64_t ju64(json_t *j, const char *key, uint64_t def)
{
    json_t *v = json_object_get(j, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : def;
}

static double jdbl(json_t *j, const char *key, double def)
{
    json_t *v = json_object_get(j, key);
    return json_is_number(v) ? json_number_value(v) : def;
}

int run_manifest_read(const char *path, run_config *c, json_t **harness, char *err, size_t cap)
{
    run_config_defaults(c);
    if (harness) *harness = NULL;
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        snprintf(err, cap, "%s: %s", path, je.text);
        return -1;
    }
    if (!json_is_object(j) || !json_is_string(json_object_get(j, "format")) ||
        strcmp(json_string_value(json_object_get(j, "format")), "aleph-run/1") != 0) {
        snprintf(err, cap, "%s: not a run manifest (format aleph-run/1)", path);
        json_decref(j);
        return -1;
    }
    c->members = (uint32_t)ju64(j, "members", 0);
    c->faulty = (uint32_t)ju64(j, "faulty", 0);
    c->tx_size = (uint32_t)ju64(j, "tx_size", 512);
    c->offered_tx_s = jdbl(j, "offered_tx_s", 0);
    c->duration_s = jdbl(j, "duration_s", 0);
    json_t *rd = json_object_get(j, "round_delay_ms");
    c->round_delay_ms = json_is_integer(rd) ? (int)json_integer_value(rd) : -1;
    c->max_unit_bytes = (uint32_t)ju64(j, "max_unit_bytes", 0);
    jstr(j, "coin", c->coin, sizeof c->coin);
    jstr(j, "network", c->network, sizeof c->network);
    jstr(j, "wan_matrix", c->wan_matrix, sizeof c->wan_matrix);
    c->jitter_ms = jdbl(j, "jitter_ms", 0);
    c->loss = jdbl(j, "loss", 0);
    c->bandwidth_mbit = jdbl(j, "bandwidth_mbit", 0);
    c->client_id_base = (uint32_t)ju64(j, "client_id_base", LOCAL_CLIENT_ID_BASE);
    c->load_start_ns = ju64(j, "load_start_ns", 0);
    c->window_start_ns = ju64(j, "window_start_ns", 0);
    c->window_end_ns = ju64(j, "window_end_ns", 0);
    jstr(j, "command", c->command, sizeof c->command);
    json_t *h = json_object_get(j, "harness");
    if (harness && json_is_object(h)) *harness = json_incref(h);
    json_decref(j);
    if (c->members == 0 || c->members > ALEPH_MEMBERS_MAX) {
        snprintf(err, cap, "%s: members must be 1..%u", path, ALEPH_MEMBERS_MAX);
        if (harness && *harness) {
            json_decref(*harness);
            *harness = NULL;
        }
        return -1;
    }
    return 0;
}

int run_manifest_write(const char *path, const run_config *c, json_t *harness)
{
    json_t *j = run_config_json(c);
    if (harness) json_object_set(j, "harness", harness);
    int rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(j);
    return rc;
}

void run_window(uint64_t t0_ns, uint64_t t1_ns, uint64_t *start_ns, uint64_t *end_ns)
{
    if (t1_ns < t0_ns) t1_ns = t0_ns;
    double d = (double)(t1_ns - t0_ns) / 1e9;
    double edge = d / 10;
    if (edge > 5) edge = 5;
    *start_ns = t0_ns + (uint64_t)(edge * 1e9);
    *end_ns = t0_ns + (uint64_t)((d - edge) * 1e9);
}

/* ---- load records ---------------------------------------------------------------------------- */

int load_record_read(const char *path, load_record *l)
{
    memset(l, 0, sizeof *l);
    json_t *j = json_load_file(path, 0, NULL);
    if (!j) return -1;
    if (!json_is_object(j)) {
        json_decref(j);
        return -1;
    }
    l->present = 1;
    l->sent = ju64(j, "sent", 0);
    l->accepted = ju64(j, "accepted", 0);
    l->refused_pool_full = ju64(j, "refused_pool_full", 0);
    l->kept_rate = json_is_true(json_object_get(j, "kept_rate"));
    l->client_id = (uint32_t)ju64(j, "client_id", 0);
    l->tx_size = (uint32_t)ju64(j, "tx_size", 0);
    l->offered_tx_s = jdbl(j, "offered_tx_s", 0);
    l->duration_s = jdbl(j, "duration_s", 0);
    json_t *ps = json_object_get(j, "per_second");
    if (json_is_array(ps) && json_array_size(ps)) {
        l->per_second = calloc(json_array_size(ps), sizeof *l->per_second);
        if (l->per_second) {
            l->per_second_len = json_array_size(ps);
            for (size_t i = 0; i < l->per_second_len; i++) {
                json_t *v = json_array_get(ps, i);
                l->per_second[i] = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
            }
        }
    }
    json_decref(j);
    return 0;
}

void load_record_free(load_record *l)
{
    free(l->per_second);
    memset(l, 0, sizeof *l);
}

/* ---- computing ---------------------------------------------------------------------------- */

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
            l->mean_ms = samples_mean(p);
            l->p50_ms = samples_percentile(p, 50); /* sorts */
            l->min_ms = p->v[0];
            l->max_ms = p->v[p->len - 1];
            const member_log *src = &in->logs[from];
            l->configured_ms = src->has_links && src->link_delay_ms ? src->link_delay_ms[to] : -1;
            if (s->delay_link_min < 0 || l->mean_ms < s->delay_link_min) s->delay_link_min = l->mean_ms;
            if (l->mean_ms > s->delay_link_max) s->delay_link_max = l->mean_ms;
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
        s->rounds_per_s = (double)(m0->window_last_round - m0->window_first_round) /
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
    if (json_is_boolean(eo)) {
        /* `aleph local` checked every transaction against the client's answers. */
        s->exactly_once = json_is_true(eo);
        jstr(h, "exactly_once_why", s->exactly_once_why, sizeof s->exactly_once_why);
        s->txs_missing = ju64(h, "txs_missing", 0);
        s->txs_duplicated = ju64(h, "txs_duplicated", s->txs_duplicated);
        return;
    }
    if (!s->outputs) {
        s->exactly_once = -1;
        snprintf(s->exactly_once_why, sizeof s->exactly_once_why, "no output files");
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
    for (uint32_t i = 0; i < n; i++) {
        int out = in->an && in->an->m[i].opened;
        s->per_member[i].survivor = i < survivors;
        if (out || in->has_log[i]) s->members_seen++;
        if (s->ref == UINT32_MAX && i < survivors && (out || in->has_log[i])) s->ref = i;
    }
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

/* ---- JSON --------------------------------------------------------------------------------- */

static json_t *r1(double v)
{
    return json_real(round(v * 10) / 10);
}

static json_t *r2(double v)
{
    return json_real(round(v * 100) / 100);
}

static json_t *tri(int v)
{
    return v < 0 ? json_null() : json_boolean(v);
}

json_t *summary_json(const run_summary *s)
{
    const run_config *c = &s->cfg;
    json_t *j = json_object();
    json_object_set_new(j, "members", json_integer(c->members));
    json_object_set_new(j, "faulty", json_integer(c->faulty));
    json_object_set_new(j, "tx_size", json_integer(c->tx_size));
    json_object_set_new(j, "offered_tx_s", json_real(c->offered_tx_s));
    json_object_set_new(j, "duration_s", json_real(c->duration_s));
    json_object_set_new(j, "network", json_string(c->network));
    if (c->wan_matrix[0]) json_object_set_new(j, "wan_matrix", json_string(c->wan_matrix));
    if (c->jitter_ms > 0) json_object_set_new(j, "jitter_ms", json_real(c->jitter_ms));
    if (c->loss > 0) json_object_set_new(j, "loss", json_real(c->loss));
    if (c->bandwidth_mbit > 0) json_object_set_new(j, "bandwidth_mbit", json_real(c->bandwidth_mbit));
    json_object_set_new(j, "agreement", tri(s->agreement));
    json_object_set_new(j, "exactly_once", tri(s->exactly_once));
    json_object_set_new(j, "throughput_tx_s", r1(s->throughput_tx_s));
    json_object_set_new(j, "throughput_mb_s", r2(s->throughput_mb_s));
    json_object_set_new(j, "latency_ms",
                        json_pack("{s:o, s:o, s:o, s:o}", "mean", r1(s->lat_mean), "p50",
                                  r1(s->lat_p50), "p95", r1(s->lat_p95), "p99", r1(s->lat_p99)));
    json_object_set_new(j, "consensus_latency_ms",
                        json_pack("{s:o, s:o, s:o}", "mean", r1(s->cons_mean), "p50",
                                  r1(s->cons_p50), "p95", r1(s->cons_p95)));
    json_object_set_new(j, "rounds_per_s", r1(s->rounds_per_s));
    json_object_set_new(j, "bytes_sent_per_member_s", json_real(round(s->bytes_sent_per_member_s)));
    json_object_set_new(j, "bytes_received_per_member_s",
                        json_real(round(s->bytes_received_per_member_s)));
    json_object_set_new(j, "peak_rss_mb", r1(s->peak_rss_mb));
    json_object_set_new(j, "cpu_s_per_member", r2(s->cpu_s_per_member));
    json_object_set_new(j, "decided_depth",
                        json_pack("{s:I, s:I, s:I}", "2", (json_int_t)s->depth[0], "3",
                                  (json_int_t)s->depth[1], "4+", (json_int_t)s->depth[2]));
    json_object_set_new(j, "units_per_batch", r2(s->units_per_batch));
    json_object_set_new(j, "round_delay_ms", c->round_delay_ms >= 0 ? json_integer(c->round_delay_ms)
                                                                   : json_null());
    json_object_set_new(j, "max_unit_bytes", json_integer(c->max_unit_bytes));
    json_object_set_new(j, "coin", json_string(c->coin));
    json_object_set_new(j, "window_s", r2(s->window_s));
    json_object_set_new(j, "latency_samples", json_integer((json_int_t)s->latency_n));
    json_object_set_new(j, "txs_missing", json_integer((json_int_t)s->txs_missing));
    json_object_set_new(j, "txs_duplicated", json_integer((json_int_t)s->txs_duplicated));
    json_object_set_new(j, "batches", json_integer(s->batches));
    json_object_set_new(j, "last_round", json_integer(s->last_round));
    json_object_set_new(
        j, "dropped",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "send_queue_full", (json_int_t)s->drop_queue,
                  "messages_rejected", (json_int_t)s->drop_rejected, "input_dropped_lines",
                  (json_int_t)s->drop_input, "connections_rejected", (json_int_t)s->drop_connections,
                  "client_txs_refused", (json_int_t)s->drop_client, "link_lost",
                  (json_int_t)s->drop_link_lost, "link_queue_full", (json_int_t)s->drop_link_full));
    json_object_set_new(j, "receive_delay_ms",
                        json_pack("{s:o, s:o, s:o, s:o, s:I}", "mean", r1(s->delay_mean), "p50",
                                  r1(s->delay_p50), "link_mean_min", r1(s->delay_link_min),
                                  "link_mean_max", r1(s->delay_link_max), "units",
                                  (json_int_t)s->delay_units));
    json_object_set_new(j, "warn_lines", json_integer((json_int_t)s->warn_lines));
    json_object_set_new(j, "log_lines", json_integer((json_int_t)s->log_lines));
    json_object_set_new(j, "log_lines_broken", json_integer((json_int_t)s->log_broken));
    /* `aleph local`'s live facts (client answers, drain, kills, machine), as it recorded them */
    if (s->harness) {
        const char *key;
        json_t *v;
        json_object_foreach(s->harness, key, v) {
            if (!json_object_get(j, key)) json_object_set(j, key, v);
        }
    }
    if (s->harness && json_is_integer(json_object_get(s->harness, "round_at_kill")))
        json_object_set_new(j, "rounds_after_kill",
                            json_integer((json_int_t)s->last_round -
                                         json_integer_value(json_object_get(s->harness, "round_at_kill"))));
    json_t *pm = json_array();
    for (uint32_t i = 0; i < c->members && s->per_member; i++) {
        const member_figures *m = &s->per_member[i];
        json_array_append_new(
            pm, json_pack("{s:i, s:b, s:o, s:o, s:o, s:o, s:I, s:i, s:I, s:I}", "member", (int)i,
                          "survivor", m->survivor, "bytes_sent_s", json_real(round(m->bytes_sent_s)),
                          "bytes_received_s", json_real(round(m->bytes_received_s)), "peak_rss_mb",
                          r1(m->peak_rss_mb), "cpu_s", r2(m->cpu_s), "output_batches",
                          (json_int_t)m->batches, "output_last_round", (int)m->last_round,
                          "messages_dropped",
                          (json_int_t)m->dropped, "log_lines_broken", (json_int_t)m->log_broken));
    }
    json_object_set_new(j, "per_member", pm);
    json_object_set_new(j, "source", json_string(s->source));
    return j;
}

/* ---- text ------------------------------------------------------------------------------------ */

static const char *network_desc(const run_config *c, char *out, size_t cap)
{
    if (strcmp(c->network, "loopback") == 0 || !c->network[0]) {
        snprintf(out, cap, "loopback");
        return out;
    }
    size_t k = (size_t)snprintf(out, cap, "%s", c->network);
    if (c->wan_matrix[0] && k < cap) k += (size_t)snprintf(out + k, cap - k, " (%s", c->wan_matrix);
    if (c->jitter_ms > 0 && k < cap) k += (size_t)snprintf(out + k, cap - k, ", jitter %g ms", c->jitter_ms);
    if (c->loss > 0 && k < cap) k += (size_t)snprintf(out + k, cap - k, ", loss %g", c->loss);
    if (c->bandwidth_mbit > 0 && k < cap)
        k += (size_t)snprintf(out + k, cap - k, ", %g Mbit/s per member", c->bandwidth_mbit);
    if (c->wan_matrix[0] && k < cap) snprintf(out + k, cap - k, ")");
    return out;
}

static const char *yes_no(int v)
{
    return v < 0 ? "not checked" : v ? "yes" : "NO";
}

void summary_text(FILE *f, const run_summary *s)
{
    const run_config *c = &s->cfg;
    char net[512];
    fprintf(f, "%s: %u members (%u faulty), %u-byte txs, %.0f tx/s offered for %.0f s, %s\n",
            s->title, c->members, c->faulty, c->tx_size, c->offered_tx_s, c->duration_s,
            network_desc(c, net, sizeof net));
    char rd[32];
    if (c->round_delay_ms >= 0) snprintf(rd, sizeof rd, "%d ms", c->round_delay_ms);
    else snprintf(rd, sizeof rd, "default");
    fprintf(f, "  config       round delay %s, max unit %u B, coin %s, %s\n", rd, c->max_unit_bytes,
            c->coin[0] ? c->coin : "?", s->source);
    fprintf(f, "  agreement    %s: %s\n", yes_no(s->agreement), s->agreement_why);
    fprintf(f, "  delivery     %s: %s\n", yes_no(s->exactly_once), s->exactly_once_why);
    fprintf(f, "  throughput   %.0f tx/s (%.2f MB/s) at member %u over the steady window (%.1f s)\n",
            s->throughput_tx_s, s->throughput_mb_s, s->ref, s->window_s);
    if (s->latency_n)
        fprintf(f, "  latency      end to end: mean %.1f ms, p50 %.1f, p95 %.1f, p99 %.1f (%" PRIu64
                   " tx)\n",
                s->lat_mean, s->lat_p50, s->lat_p95, s->lat_p99, s->latency_n);
    else
        fprintf(f, "  latency      end to end: no load transactions in the window%s\n",
                s->outputs ? "" : " (no output file)");
    fprintf(f, "  consensus    unit created to ordered at its creator: mean %.1f ms, p50 %.0f, "
               "p95 %.0f (%" PRIu64 " units)\n",
            s->cons_mean, s->cons_p50, s->cons_p95, s->consensus_n);
    uint64_t heads = s->depth[0] + s->depth[1] + s->depth[2];
    fprintf(f, "  rounds       %.1f per second (%u batches, last round %u); %.1f units per batch\n",
            s->rounds_per_s, s->batches, s->last_round, s->units_per_batch);
    if (heads)
        fprintf(f, "  decisions    heads decided at d=2: %.1f%%, d=3: %.1f%%, d>=4: %.1f%% (%" PRIu64
                   " heads)\n",
                100.0 * (double)s->depth[0] / (double)heads, 100.0 * (double)s->depth[1] / (double)heads,
                100.0 * (double)s->depth[2] / (double)heads, heads);
    fprintf(f, "  traffic      %.2f MB/s sent, %.2f MB/s received per member\n",
            s->bytes_sent_per_member_s / 1e6, s->bytes_received_per_member_s / 1e6);
    if (s->delay_units)
        fprintf(f, "  links        unit receive delay (created to added at a peer): mean %.1f ms, "
                   "p50 %.0f; link means %.1f..%.1f ms\n",
                s->delay_mean, s->delay_p50, s->delay_link_min, s->delay_link_max);
    fprintf(f, "  resources    peak RSS %.1f MB (largest member), CPU %.2f s per member\n",
            s->peak_rss_mb, s->cpu_s_per_member);
    uint64_t dropped = s->drop_queue + s->drop_rejected + s->drop_input + s->drop_connections +
                       s->drop_link_lost + s->drop_link_full;
    fprintf(f, "  dropped      %" PRIu64 " messages: send queue full %" PRIu64 ", rejected by a member %" PRIu64
               ", refused input lines %" PRIu64 ", connections %" PRIu64 ", link loss %" PRIu64
               ", link queue full %" PRIu64 "; client txs refused %" PRIu64 "\n",
            dropped, s->drop_queue, s->drop_rejected, s->drop_input, s->drop_connections,
            s->drop_link_lost, s->drop_link_full, s->drop_client);
    if (s->harness) {
        json_t *h = s->harness;
        if (json_object_get(h, "txs_sent"))
            fprintf(f, "  client       sent %" PRIu64 ", accepted %" PRIu64 ", refused (pool full) %" PRIu64
                       "%s%s\n",
                    ju64(h, "txs_sent", 0), ju64(h, "txs_accepted", 0),
                    ju64(h, "txs_refused_pool_full", 0),
                    json_is_true(json_object_get(h, "client_kept_rate"))
                        ? ", kept its rate"
                        : ", FELL BEHIND its rate (the run does not count)",
                    json_is_true(json_object_get(h, "drained"))      ? ""
                    : json_is_true(json_object_get(h, "interrupted")) ? "; interrupted"
                                                                      : "; drain timed out");
        if (json_object_get(h, "harness_cpu_s"))
            fprintf(f, "  machine      %" PRIu64 " cores; load generator and analysis %.2f CPU s, "
                       "other processes %.1f CPU s during the run%s\n",
                    ju64(h, "cores", 0), jdbl(h, "harness_cpu_s", 0), jdbl(h, "other_cpu_s", 0),
                    jdbl(h, "other_cpu_s", 0) > 0.1 * c->duration_s ? " (figures are affected)" : "");
        if (json_object_get(h, "round_at_kill"))
            fprintf(f, "  after kill   %u members killed at round %" PRIu64
                       "; the rest ordered %d more rounds\n",
                    c->faulty, ju64(h, "round_at_kill", 0),
                    (int)s->last_round - (int)ju64(h, "round_at_kill", 0));
    }
    if (s->warn_lines)
        fprintf(f, "  warnings     %" PRIu64 " warn/error lines in the members' logs\n", s->warn_lines);
    if (s->log_broken)
        fprintf(f, "  logs         %" PRIu64 " of %" PRIu64 " lines broken or truncated, skipped "
                   "(first: %s)\n",
                s->log_broken, s->log_lines, s->first_broken);
}

/* ---- CSV ----------------------------------------------------------------------------------- */

static FILE *csv_open(const char *dir, const char *name, char *err, size_t cap)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
    return f;
}

/* Seconds since the series origin for a log time. */
static long log_second(uint64_t origin_ns, int64_t ts_ms)
{
    uint64_t ns = (uint64_t)ts_ms * 1000000ull;
    return ns < origin_ns ? -1 : (long)((ns - origin_ns) / 1000000000ull);
}

int summary_write_csv(const run_summary *s, const summary_inputs *in, const char *dir, char *err,
                      size_t cap)
{
    uint32_t n = in->members;
    run_analysis *an = in->an;
    uint64_t origin = an && an->series_on ? an->series_origin_ns : s->cfg.load_start_ns;
    if (!origin && in->has_log[s->ref] && in->logs[s->ref].first_ts_ms > 0)
        origin = (uint64_t)in->logs[s->ref].first_ts_ms * 1000000ull;

    /* series.csv */
    FILE *f = csv_open(dir, "series.csv", err, cap);
    if (!f) return -1;
    fprintf(f, "second,offered_tx_s,ordered_tx_s,ordered_mb_s,latency_mean_ms,latency_p50_ms,"
               "latency_p95_ms,latency_p99_ms,rounds\n");
    size_t len = 0;
    const member_track *m0 = an && an->series_on && an->m[s->ref].opened ? &an->m[s->ref] : NULL;
    uint32_t *log_txs = NULL, *log_rounds = NULL;
    size_t log_len = 0;
    if (m0) {
        len = m0->sec_len;
    } else if (in->has_log[s->ref]) {
        const member_log *ml = &in->logs[s->ref];
        for (size_t k = 0; k < ml->heads_len; k++) {
            long sec = log_second(origin, ml->heads[k].ts_ms);
            if (sec >= 0 && (size_t)sec + 1 > log_len) log_len = (size_t)sec + 1;
        }
        log_txs = calloc(log_len + 1, sizeof *log_txs);
        log_rounds = calloc(log_len + 1, sizeof *log_rounds);
        for (size_t k = 0; log_txs && log_rounds && k < ml->heads_len; k++) {
            long sec = log_second(origin, ml->heads[k].ts_ms);
            if (sec < 0) continue;
            log_txs[sec] += (uint32_t)ml->heads[k].txs;
            log_rounds[sec]++;
        }
        len = log_txs && log_rounds ? log_len : 0;
    }
    if (in->load && in->load->per_second_len > len) len = in->load->per_second_len;
    for (size_t sec = 0; sec < len; sec++) {
        uint64_t offered = in->load && sec < in->load->per_second_len ? in->load->per_second[sec] : 0;
        uint64_t txs = m0 ? (sec < m0->sec_len ? m0->sec_txs[sec] : 0) : (sec < log_len ? log_txs[sec] : 0);
        uint64_t rounds =
            m0 ? (sec < m0->sec_len ? m0->sec_batches[sec] : 0) : (sec < log_len ? log_rounds[sec] : 0);
        fprintf(f, "%zu,%" PRIu64 ",%" PRIu64 ",%.4f", sec, offered, txs,
                (double)txs * s->cfg.tx_size / 1e6);
        u32_samples *lat = an && an->series_on && sec < an->sec_latency_len ? &an->sec_latency_us[sec] : NULL;
        if (lat && lat->len)
            fprintf(f, ",%.2f,%.2f,%.2f,%.2f", samples_mean(lat) / 1000.0,
                    samples_percentile(lat, 50) / 1000.0, samples_percentile(lat, 95) / 1000.0,
                    samples_percentile(lat, 99) / 1000.0);
        else
            fprintf(f, ",,,,");
        fprintf(f, ",%" PRIu64 "\n", rounds);
    }
    free(log_txs);
    free(log_rounds);
    fclose(f);

    /* members.csv */
    f = csv_open(dir, "members.csv", err, cap);
    if (!f) return -1;
    fprintf(f, "member,survivor,bytes_sent_per_s,bytes_received_per_s,peak_rss_mb,cpu_s,batches,"
               "last_round,dropped,log_lines_broken\n");
    for (uint32_t i = 0; i < n; i++) {
        const member_figures *m = &s->per_member[i];
        if (!m->has_log && !m->has_output) continue;
        fprintf(f, "%u,%d,%.0f,%.0f,%.1f,%.2f,%" PRIu64 ",%u,%" PRIu64 ",%" PRIu64 "\n", i,
                m->survivor, m->bytes_sent_s, m->bytes_received_s, m->peak_rss_mb, m->cpu_s,
                m->batches, m->last_round, m->dropped, m->log_broken);
    }
    fclose(f);

    /* traffic.csv: per member per second, from consecutive stats lines */
    f = csv_open(dir, "traffic.csv", err, cap);
    if (!f) return -1;
    fprintf(f, "second,member,bytes_sent_per_s,bytes_received_per_s,rss_mb,cpu_share\n");
    for (uint32_t i = 0; i < n; i++) {
        if (!in->has_log[i]) continue;
        const member_log *ml = &in->logs[i];
        for (size_t k = 1; k < ml->stats_len; k++) {
            const log_stats *a = &ml->stats[k - 1], *b = &ml->stats[k];
            double dt = b->uptime_s - a->uptime_s;
            if (dt <= 0.05) continue;
            double sec = ((double)b->ts_ms * 1e6 - (double)origin) / 1e9;
            fprintf(f, "%.1f,%u,%.0f,%.0f,%.1f,%.3f\n", sec, i,
                    (double)(b->bytes_out - a->bytes_out) / dt, (double)(b->bytes_in - a->bytes_in) / dt,
                    b->rss_mb, (b->cpu_s - a->cpu_s) / dt);
        }
    }
    fclose(f);

    /* links.csv */
    f = csv_open(dir, "links.csv", err, cap);
    if (!f) return -1;
    fprintf(f, "from,to,units,min_ms,mean_ms,p50_ms,max_ms,configured_ms\n");
    for (size_t k = 0; k < s->links_len; k++) {
        const link_figures *l = &s->links[k];
        fprintf(f, "%u,%u,%" PRIu64 ",%.0f,%.1f,%.0f,%.0f,%.1f\n", l->from, l->to, l->units, l->min_ms,
                l->mean_ms, l->p50_ms, l->max_ms, l->configured_ms);
    }
    fclose(f);

    /* latency_cdf.csv: at most ~1000 points of the sorted window samples */
    f = csv_open(dir, "latency_cdf.csv", err, cap);
    if (!f) return -1;
    fprintf(f, "latency_ms,fraction\n");
    const u32_samples *all = &s->latency_all_us;
    if (all->len) {
        size_t step = all->len / 1000 + 1;
        for (size_t k = 0; k < all->len; k += step)
            fprintf(f, "%.3f,%.5f\n", all->v[k] / 1000.0, (double)(k + 1) / (double)all->len);
        fprintf(f, "%.3f,1.0\n", all->v[all->len - 1] / 1000.0);
    }
    fclose(f);
    return 0;
}

/* The summary's CSV files, for plots. */
#include "summary.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* series.csv: per second offered and ordered tx/s, MB/s, latency, rounds; from the output
 * files when they were read, else from the reference member's log. */
static int write_series(const run_summary *s, const summary_inputs *in, uint64_t origin,
                        const char *dir, char *err, size_t cap)
{
    run_analysis *an = in->an;
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
    return 0;
}

static int write_members(const run_summary *s, const summary_inputs *in, const char *dir,
                         char *err, size_t cap)
{
    uint32_t n = in->members;
    FILE *f = csv_open(dir, "members.csv", err, cap);
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
    return 0;
}

/* traffic.csv: per member per second, from consecutive stats lines. */
static int write_traffic(const summary_inputs *in, uint64_t origin, const char *dir, char *err,
                         size_t cap)
{
    uint32_t n = in->members;
    FILE *f = csv_open(dir, "traffic.csv", err, cap);
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
    return 0;
}

static int write_links(const run_summary *s, const char *dir, char *err, size_t cap)
{
    FILE *f = csv_open(dir, "links.csv", err, cap);
    if (!f) return -1;
    fprintf(f, "from,to,units,min_ms,mean_ms,p50_ms,max_ms,configured_ms\n");
    for (size_t k = 0; k < s->links_len; k++) {
        const link_figures *l = &s->links[k];
        fprintf(f, "%u,%u,%" PRIu64 ",%.0f,%.1f,%.0f,%.0f,%.1f\n", l->from, l->to, l->units, l->delay_ms_min,
                l->delay_ms_mean, l->delay_ms_p50, l->delay_ms_max, l->delay_ms_configured);
    }
    fclose(f);
    return 0;
}

/* latency_cdf.csv: at most ~1000 points of the sorted window samples. */
static int write_latency_cdf(const run_summary *s, const char *dir, char *err, size_t cap)
{
    FILE *f = csv_open(dir, "latency_cdf.csv", err, cap);
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

int summary_write_csv(const run_summary *s, const summary_inputs *in, const char *dir, char *err,
                      size_t cap)
{
    run_analysis *an = in->an;
    uint64_t origin = an && an->series_on ? an->series_origin_ns : s->cfg.load_start_ns;
    if (!origin && in->has_log[s->ref] && in->logs[s->ref].first_ts_ms > 0)
        origin = (uint64_t)in->logs[s->ref].first_ts_ms * 1000000ull;
    if (write_series(s, in, origin, dir, err, cap) != 0) return -1;
    if (write_members(s, in, dir, err, cap) != 0) return -1;
    if (write_traffic(in, origin, dir, err, cap) != 0) return -1;
    if (write_links(s, dir, err, cap) != 0) return -1;
    return write_latency_cdf(s, dir, err, cap);
}

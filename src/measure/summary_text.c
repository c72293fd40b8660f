/* The summary as the text block of BENCHMARKING.md. */
#include "summary.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    fprintf(f, "  config       round delay %s, max unit %u B, coin %s, %s\n", rd, c->unit_bytes_max,
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
    if (s->harness && json_object_get(s->harness, "disk_bytes")) {
        double mb = (double)json_field_u64(s->harness, "disk_bytes", 0) / 1e6;
        fprintf(f, "  disk         %.1f MB in the run dir (%.2f MB per second of load)\n", mb,
                c->duration_s > 0 ? mb / c->duration_s : 0.0);
    }
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
                    json_field_u64(h, "txs_sent", 0), json_field_u64(h, "txs_accepted", 0),
                    json_field_u64(h, "txs_refused_pool_full", 0),
                    json_is_true(json_object_get(h, "client_kept_rate"))
                        ? ", kept its rate"
                        : ", FELL BEHIND its rate (the run does not count)",
                    json_is_true(json_object_get(h, "drained"))      ? ""
                    : json_is_true(json_object_get(h, "interrupted")) ? "; interrupted"
                                                                      : "; drain timed out");
        if (json_object_get(h, "harness_cpu_s"))
            fprintf(f, "  machine      %" PRIu64 " cores; load generator and analysis %.2f CPU s, "
                       "other processes %.1f CPU s during the run%s\n",
                    json_field_u64(h, "cores", 0), json_field_double(h, "harness_cpu_s", 0), json_field_double(h, "other_cpu_s", 0),
                    json_field_double(h, "other_cpu_s", 0) > 0.1 * c->duration_s ? " (figures are affected)" : "");
        if (json_object_get(h, "batches_at_kill"))
            fprintf(f, "  after kill   %u members killed after %" PRIu64
                       " batches; the rest ordered %" PRId64 " more (one per round)\n",
                    c->faulty, json_field_u64(h, "batches_at_kill", 0),
                    (int64_t)s->batches - (int64_t)json_field_u64(h, "batches_at_kill", 0));
    }
    if (s->warn_lines)
        fprintf(f, "  warnings     %" PRIu64 " warn/error lines in the members' logs\n", s->warn_lines);
    if (s->log_broken)
        fprintf(f, "  logs         %" PRIu64 " of %" PRIu64 " lines broken or truncated, skipped "
                   "(first: %s)\n",
                s->log_broken, s->log_lines, s->first_broken);
}

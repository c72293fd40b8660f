/* The summary as JSON (summary.json, `--json`). */
#include "summary.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    json_object_set_new(j, "max_unit_bytes", json_integer(c->unit_bytes_max));
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
    /* batches are one per round and, unlike rounds, do not restart with an epoch */
    if (s->harness && json_is_integer(json_object_get(s->harness, "batches_at_kill")))
        json_object_set_new(j, "rounds_after_kill",
                            json_integer((json_int_t)s->batches -
                                         json_integer_value(json_object_get(s->harness, "batches_at_kill"))));
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

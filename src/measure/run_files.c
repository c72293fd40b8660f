/* A run's files: the manifest (run.json: configuration and the harness's facts), the
 * steady window, the load record (load.json). */
#include "summary.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    json_object_set_new(j, "max_unit_bytes", json_integer(c->unit_bytes_max));
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

void json_field_str(json_t *j, const char *key, char *out, size_t cap)
{
    const char *v = json_string_value(json_object_get(j, key));
    if (v) snprintf(out, cap, "%s", v);
}

uint64_t json_field_u64(json_t *j, const char *key, uint64_t def)
{
    json_t *v = json_object_get(j, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : def;
}

double json_field_double(json_t *j, const char *key, double def)
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
    c->members = (uint32_t)json_field_u64(j, "members", 0);
    c->faulty = (uint32_t)json_field_u64(j, "faulty", 0);
    c->tx_size = (uint32_t)json_field_u64(j, "tx_size", 512);
    c->offered_tx_s = json_field_double(j, "offered_tx_s", 0);
    c->duration_s = json_field_double(j, "duration_s", 0);
    json_t *rd = json_object_get(j, "round_delay_ms");
    c->round_delay_ms = json_is_integer(rd) ? (int)json_integer_value(rd) : -1;
    c->unit_bytes_max = (uint32_t)json_field_u64(j, "max_unit_bytes", 0);
    json_field_str(j, "coin", c->coin, sizeof c->coin);
    json_field_str(j, "network", c->network, sizeof c->network);
    json_field_str(j, "wan_matrix", c->wan_matrix, sizeof c->wan_matrix);
    c->jitter_ms = json_field_double(j, "jitter_ms", 0);
    c->loss = json_field_double(j, "loss", 0);
    c->bandwidth_mbit = json_field_double(j, "bandwidth_mbit", 0);
    c->client_id_base = (uint32_t)json_field_u64(j, "client_id_base", LOCAL_CLIENT_ID_BASE);
    c->load_start_ns = json_field_u64(j, "load_start_ns", 0);
    c->window_start_ns = json_field_u64(j, "window_start_ns", 0);
    c->window_end_ns = json_field_u64(j, "window_end_ns", 0);
    json_field_str(j, "command", c->command, sizeof c->command);
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
    l->sent = json_field_u64(j, "sent", 0);
    l->accepted = json_field_u64(j, "accepted", 0);
    l->refused_pool_full = json_field_u64(j, "refused_pool_full", 0);
    l->kept_rate = json_is_true(json_object_get(j, "kept_rate"));
    l->client_id = (uint32_t)json_field_u64(j, "client_id", 0);
    l->tx_size = (uint32_t)json_field_u64(j, "tx_size", 0);
    l->offered_tx_s = json_field_double(j, "offered_tx_s", 0);
    l->duration_s = json_field_double(j, "duration_s", 0);
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

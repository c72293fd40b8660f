#include "logscan.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/grow.h"

/* ---- growing arrays ------------------------------------------------------------------------ */

#define PUSH(arr, len, cap, value)                                                            \
    do {                                                                                      \
        void *g_ = array_grow((arr), &(cap), (len) + 1, sizeof *(arr), 256);                  \
        if (g_) {                                                                             \
            (arr) = g_;                                                                       \
            (arr)[(len)++] = (value);                                                         \
        }                                                                                     \
    } while (0)

/* ---- fields -------------------------------------------------------------------------------- */

int64_t log_ts_parse_ms(const char *s)
{
    /* The date and minute change rarely: keep the last one's epoch seconds. */
    static _Thread_local char last_prefix[17];
    static _Thread_local int64_t last_epoch = -1;
    for (int i = 0; i < 23; i++)
        if (!s[i]) return -1;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != '.' || s[23] != 'Z')
        return -1;
    int64_t base;
    if (last_epoch >= 0 && memcmp(last_prefix, s, 16) == 0) {
        base = last_epoch;
    } else {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                   &tm.tm_min) != 5)
            return -1;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        base = (int64_t)timegm(&tm);
        memcpy(last_prefix, s, 16);
        last_epoch = base;
    }
    int sec = 0, ms = 0;
    for (int i = 17; i < 19; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        sec = sec * 10 + (s[i] - '0');
    }
    for (int i = 20; i < 23; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        ms = ms * 10 + (s[i] - '0');
    }
    return (base + sec) * 1000 + ms;
}

/* A whole JSON object on one line: braces, brackets and strings balanced and closed. Cheap
 * (one pass, no allocation); the fields read below are then found by name. */
static int well_formed(const char *s, size_t len)
{
    if (len < 2 || s[0] != '{' || s[len - 1] != '}') return 0;
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_str) {
            if (c == '\\') {
                if (++i >= len) return 0;
            } else if (c == '"') {
                in_str = 0;
            } else if (c < 0x20) {
                return 0;
            }
            continue;
        }
        if (c == '"') in_str = 1;
        else if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') {
            if (--depth < 0) return 0;
            if (depth == 0 && i != len - 1) return 0;
        } else if (c < 0x20 && c != ' ') return 0;
    }
    return depth == 0 && !in_str;
}

/* The value after "key": (key given with its quotes and colon); NULL when absent. The first
 * occurrence counts: flat lines have each key once; top-level keys come before nested ones. */
static const char *field(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? p + strlen(key) : NULL;
}

static int field_u64(const char *line, const char *key, uint64_t *out)
{
    const char *p = field(line, key);
    if (!p || *p < '0' || *p > '9') return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || end == p) return 0;
    *out = v;
    return 1;
}

static int field_u32(const char *line, const char *key, uint32_t *out)
{
    uint64_t v;
    if (!field_u64(line, key, &v) || v > UINT32_MAX) return 0;
    *out = (uint32_t)v;
    return 1;
}

static int field_hash(const char *line, const char *key, uint64_t *out)
{
    const char *p = field(line, key);
    if (!p || *p != '"') return 0;
    p++;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint64_t)d;
    }
    if (p[16] != '"') return 0;
    *out = v;
    return 1;
}

static int event_is(const char *ev, const char *name)
{
    size_t n = strlen(name);
    return strncmp(ev, name, n) == 0 && ev[n] == '"';
}

/* ---- structured lines (rare): jansson ----------------------------------------------------- */

static double jnum(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static uint64_t jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static int read_stats(member_log *m, const char *line, size_t len, int64_t ts)
{
    json_t *j = json_loadb(line, len, 0, NULL);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return -1;
    }
    log_stats s = {.ts_ms = ts};
    s.uptime_s = jnum(j, "uptime_s");
    s.rss_mb = jnum(j, "rss_mb");
    s.peak_rss_mb = jnum(j, "peak_rss_mb");
    s.cpu_s = jnum(j, "cpu_s");
    s.bytes_in = jint(j, "bytes_in");
    s.bytes_out = jint(j, "bytes_out");
    s.queue_dropped = jint(j, "queue_dropped");
    json_t *mem = json_object_get(j, "member");
    if (json_is_object(mem)) {
        s.messages_dropped = jint(mem, "messages_dropped");
        s.units_created = jint(mem, "units_created");
        s.txs_ordered = jint(mem, "txs_ordered");
    }
    json_t *net = json_object_get(j, "net");
    if (json_is_object(net))
        s.net_rejected = jint(net, "refused") + jint(net, "handshake_failed") +
                         jint(net, "frames_oversize");
    json_t *cl = json_object_get(j, "clients");
    if (json_is_object(cl)) s.client_refused = jint(cl, "pool_full") + jint(cl, "too_large");
    json_decref(j);
    PUSH(m->stats, m->stats_len, m->stats_cap, s);
    return 0;
}

static int read_started(member_log *m, const char *line, size_t len)
{
    json_t *j = json_loadb(line, len, 0, NULL);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return -1;
    }
    m->started = 1;
    m->members = (uint32_t)jint(j, "members");
    m->round_delay_ms = (uint32_t)jint(j, "round_delay_ms");
    m->unit_bytes_max = (uint32_t)jint(j, "max_unit_bytes");
    const char *coin = json_string_value(json_object_get(j, "coin"));
    snprintf(m->coin, sizeof m->coin, "%s", coin ? coin : "");
    const char *addr = json_string_value(json_object_get(j, "address"));
    snprintf(m->address, sizeof m->address, "%s", addr ? addr : "");
    json_decref(j);
    return 0;
}

static int read_links(member_log *m, const char *line, size_t len)
{
    json_t *j = json_loadb(line, len, 0, NULL);
    json_t *d = j ? json_object_get(j, "delay_ms") : NULL;
    if (!json_is_array(d)) {
        json_decref(j);
        return -1;
    }
    size_t n = json_array_size(d);
    free(m->link_delay_ms);
    m->link_delay_ms = calloc(n ? n : 1, sizeof *m->link_delay_ms);
    if (m->link_delay_ms)
        for (size_t i = 0; i < n; i++) m->link_delay_ms[i] = json_number_value(json_array_get(d, i));
    m->has_links = 1;
    const char *desc = json_string_value(json_object_get(j, "desc"));
    snprintf(m->links_desc, sizeof m->links_desc, "%s", desc ? desc : "");
    json_decref(j);
    return 0;
}

/* ---- lines --------------------------------------------------------------------------------- */

static void broken(member_log *m, const char *line, size_t len)
{
    m->broken++;
    if (m->broken > 1) return;
    m->first_broken_line = m->lines;
    size_t k = 0;
    for (size_t i = 0; i < len && k + 1 < sizeof m->first_broken; i++) {
        unsigned char c = (unsigned char)line[i];
        m->first_broken[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    m->first_broken[k] = '\0';
}

static void parse_line(member_log *m, char *line, size_t len, int had_newline)
{
    m->lines++;
    if (!had_newline || !well_formed(line, len)) {
        broken(m, line, len);
        return;
    }
    const char *tsv = field(line, "\"ts\":\"");
    const char *ev = field(line, "\"event\":\"");
    int64_t ts = tsv ? log_ts_parse_ms(tsv) : -1;
    uint32_t member;
    if (ts < 0 || !ev || !field_u32(line, "\"member\":", &member)) {
        broken(m, line, len);
        return;
    }
    if (m->member == UINT32_MAX) m->member = member;
    if (!m->first_ts_ms) m->first_ts_ms = ts;
    if (ts > m->last_ts_ms) m->last_ts_ms = ts;
    if (strstr(line, "\"level\":\"warn\"") || strstr(line, "\"level\":\"error\"")) {
        if (!m->warn_lines) snprintf(m->first_warn, sizeof m->first_warn, "%.*s", (int)len, line);
        m->warn_lines++;
    }
    int ok = 1;
    if (event_is(ev, "unit_received")) {
        log_received r = {.ts_ms = ts};
        ok = field_u32(line, "\"creator\":", &r.creator) && field_u32(line, "\"round\":", &r.round) &&
             field_hash(line, "\"hash\":", &r.hash);
        if (ok) PUSH(m->received, m->received_len, m->received_cap, r);
    } else if (event_is(ev, "unit_created")) {
        log_created c = {.ts_ms = ts};
        ok = field_u32(line, "\"round\":", &c.round) && field_hash(line, "\"hash\":", &c.hash);
        if (ok) PUSH(m->created, m->created_len, m->created_cap, c);
    } else if (event_is(ev, "unit_ordered")) {
        uint32_t lat;
        if (field_u32(line, "\"latency_ms\":", &lat)) {
            log_ordered o = {.ts_ms = ts, .latency_ms = lat};
            PUSH(m->ordered, m->ordered_len, m->ordered_cap, o);
        }
    } else if (event_is(ev, "head_decided")) {
        log_head h = {.ts_ms = ts};
        ok = field_u32(line, "\"round\":", &h.round) && field_u32(line, "\"depth\":", &h.depth) &&
             field_u32(line, "\"units\":", &h.units) && field_u64(line, "\"txs\":", &h.txs);
        if (ok) PUSH(m->heads, m->heads_len, m->heads_cap, h);
    } else if (event_is(ev, "stats") || event_is(ev, "final_stats")) {
        ok = read_stats(m, line, len, ts) == 0;
        if (ok && event_is(ev, "final_stats")) m->stopped_cleanly = 1;
    } else if (event_is(ev, "node_started")) {
        ok = read_started(m, line, len) == 0;
    } else if (event_is(ev, "link_config")) {
        ok = read_links(m, line, len) == 0;
    } else if (event_is(ev, "link_stats")) {
        ok = field_u64(line, "\"lost\":", &m->link_lost) &&
             field_u64(line, "\"dropped\":", &m->link_dropped);
    } else if (event_is(ev, "input_dropped")) {
        m->input_dropped++;
    }
    if (!ok) broken(m, line, len);
}

static void parse_stream(member_log *m, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        size_t len = (size_t)n;
        int nl = line[len - 1] == '\n';
        if (nl) line[--len] = '\0';
        if (len == 0 && nl) continue; /* blank line */
        /* A NUL inside the line (a torn write) makes it garbage. */
        if (strlen(line) != len) {
            m->lines++;
            broken(m, line, strlen(line));
            continue;
        }
        parse_line(m, line, len, nl);
    }
    free(line);
}

static void member_log_init(member_log *m)
{
    memset(m, 0, sizeof *m);
    m->member = UINT32_MAX;
}

void member_log_parse(member_log *m, const char *text, size_t len)
{
    member_log_init(m);
    if (!len) return;
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f) return;
    parse_stream(m, f);
    fclose(f);
}

int member_log_read(member_log *m, const char *path, char *err, size_t cap)
{
    member_log_init(m);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    parse_stream(m, f);
    fclose(f);
    return 0;
}

void member_log_free(member_log *m)
{
    free(m->created);
    free(m->received);
    free(m->ordered);
    free(m->heads);
    free(m->stats);
    free(m->link_delay_ms);
    member_log_init(m);
}

const log_stats *member_log_last_stats(const member_log *m)
{
    return m->stats_len ? &m->stats[m->stats_len - 1] : NULL;
}

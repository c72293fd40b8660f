/* Reading a member's JSON-lines log (log.h) after a run, for `aleph local`'s summary and
 * `aleph analyze`. One pass over the file keeps what the figures need, in compact arrays:
 * own units created (round, time), units received from others, own units ordered with their
 * consensus latency, decided heads (depth, units, txs), and the periodic stats lines.
 *
 * A line that is not one complete JSON object (truncated by a kill, garbage, an unknown
 * shape) is counted as broken and skipped: never fatal. Times are the lines' "ts" fields
 * (CLOCK_REALTIME, millisecond resolution), in ms since the epoch. */
#ifndef ALEPH_NODE_LOGSCAN_H
#define ALEPH_NODE_LOGSCAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct log_created {
    int64_t ts_ms;
    uint32_t round;
    uint64_t hash;        /* first 8 bytes of the unit hash, as logged (16 hex digits) */
} log_created;

typedef struct log_received {
    int64_t ts_ms;
    uint32_t creator, round;
    uint64_t hash;
} log_received;

typedef struct log_ordered {   /* own unit ordered: consensus latency at its creator */
    int64_t ts_ms;
    uint32_t latency_ms;
} log_ordered;

typedef struct log_head {
    int64_t ts_ms;
    uint32_t round, depth, units;
    uint64_t txs;
} log_head;

typedef struct log_stats {     /* one "stats" or "final_stats" line */
    int64_t ts_ms;
    double uptime_s, rss_mb, peak_rss_mb, cpu_s;
    uint64_t bytes_in, bytes_out;
    uint64_t queue_dropped;     /* send-queue overflow drops, all peers */
    uint64_t messages_dropped;  /* messages the member rejected (invalid, hostile) */
    uint64_t net_rejected;      /* connections refused, failed handshakes, oversize frames */
    uint64_t client_refused;    /* client transactions refused: pool full, too large */
    uint64_t units_created, txs_ordered;
} log_stats;

#define LOG_EXAMPLE_MAX 200

typedef struct member_log {
    uint32_t member;             /* from the lines; UINT32_MAX if none parsed */
    /* node_started */
    int started;
    uint32_t members, round_delay_ms, unit_bytes_max;
    char coin[16];
    char address[80];
    /* link_config (emulated WAN), when the node had one */
    int has_links;
    char links_desc[256];
    double *link_delay_ms;       /* per peer; NULL without link_config */
    /* counts */
    uint64_t lines, broken;
    uint64_t first_broken_line;
    char first_broken[LOG_EXAMPLE_MAX];
    uint64_t warn_lines;         /* warn and error */
    char first_warn[512];
    uint64_t input_dropped;      /* "input_dropped" events (a peer's message refused) */
    uint64_t link_lost;          /* last "link_stats": messages lost on the emulated links */
    uint64_t link_dropped;       /* ... dropped because an emulated link's queue was full */
    int64_t first_ts_ms, last_ts_ms;
    int stopped_cleanly;         /* a final_stats line */
    /* records */
    log_created *created;
    size_t created_len, created_cap;
    log_received *received;
    size_t received_len, received_cap;
    log_ordered *ordered;
    size_t ordered_len, ordered_cap;
    log_head *heads;
    size_t heads_len, heads_cap;
    log_stats *stats;
    size_t stats_len, stats_cap;
} member_log;

/* Reads a log file. Returns 0 (broken lines are counted, not errors), or -1 with a message
 * when the file cannot be read at all. */
int member_log_read(member_log *m, const char *path, char *err, size_t cap);
/* The same on text in memory (tests). */
void member_log_parse(member_log *m, const char *text, size_t len);
void member_log_free(member_log *m);
/* The last stats line, or NULL. */
const log_stats *member_log_last_stats(const member_log *m);

/* Parses "2024-05-01T12:00:00.123Z"; -1 when it is not one. */
int64_t log_ts_parse_ms(const char *s);

#endif

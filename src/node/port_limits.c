#include "port_limits.h"

#include <inttypes.h>
#include <sys/resource.h>

void limits_log_interval(limits_log *last, node_log *log, const net_counters *n,
                         const client_counters *c, double interval_s)
{
    const net_counters *ln = &last->net;
    const client_counters *lc = &last->clients;
    uint64_t d[] = {
        n->refused_source - ln->refused_source,
        n->refused_full - ln->refused_full,
        n->evicted - ln->evicted,
        n->handshake_timeouts - ln->handshake_timeouts,
        n->handshake_failed - ln->handshake_failed,
        c->refused_source - lc->refused_source,
        c->refused_full - lc->refused_full,
        c->refused_subscribers - lc->refused_subscribers,
        c->evicted_idle - lc->evicted_idle,
        c->idle_timeouts - lc->idle_timeouts,
        c->read_timeouts - lc->read_timeouts,
    };
    int any = 0;
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) any |= d[i] != 0;
    last->net = *n;
    last->clients = *c;
    if (!any) return;
    log_line(log, LOG_WARN, "limits",
             "\"interval_s\":%.1f,\"member_port\":{\"refused_source\":%" PRIu64
             ",\"refused_full\":%" PRIu64 ",\"evicted\":%" PRIu64 ",\"handshake_timeouts\":%" PRIu64
             ",\"handshake_failed\":%" PRIu64 "},\"client_port\":{\"refused_source\":%" PRIu64
             ",\"refused_full\":%" PRIu64 ",\"refused_subscribers\":%" PRIu64
             ",\"evicted_idle\":%" PRIu64 ",\"idle_timeouts\":%" PRIu64 ",\"read_timeouts\":%" PRIu64
             "}",
             interval_s, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10]);
}

void limits_fit_descriptors(node_log *log, const net *n, client_limits *cl)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = was;
    }
    /* peers (and their replacements), handshakes, files, the loop's own descriptors */
    const net_limits *nl = &n->limits;
    uint64_t reserve = 64u + 2u * (uint64_t)n->members + nl->handshake_max +
                       (uint64_t)n->member_sources_len * nl->handshake_per_source + 2u * n->self;
    uint64_t room = rl.rlim_cur > reserve + 16 ? rl.rlim_cur - reserve : 16;
    if (cl->connections_max <= room) return;
    log_line(log, LOG_WARN, "client_connections_lowered",
             "\"client_connections_max\":%" PRIu64 ",\"asked\":%u,\"open_files_max\":%" PRIu64,
             room, cl->connections_max, (uint64_t)rl.rlim_cur);
    cl->connections_max = (uint32_t)room;
}

/* The node's side of the limits on the member and client ports (net/peer.h: net_limits,
 * client.h: client_limits).
 *
 * They act on input anyone can send as often as they like, so they log no line per event:
 * once per stats interval, when any of them acted, one "limits" line says how often each did
 * in that interval (the counters themselves are in every stats line and in the metrics). */
#ifndef ALEPH_NODE_PORT_LIMITS_H
#define ALEPH_NODE_PORT_LIMITS_H

#include "client.h"
#include "net/peer.h"
#include "base/log.h"

typedef struct limits_log {
    net_counters net;       /* as last logged */
    client_counters clients;
} limits_log;

/* Logs the "limits" line if any limit acted since the last call. */
void limits_log_interval(limits_log *last, node_log *log, const net_counters *net,
                         const client_counters *clients, double interval_s);

/* Raises the soft limit on open files to the hard one, and lowers the client connection
 * bound to what is left after the member port (net, started), files and the loop, so that
 * a full client port is a refusal the client is told about, never a failed accept. */
void limits_fit_descriptors(node_log *log, const net *n, client_limits *cl);

#endif

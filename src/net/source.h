/* The source address of an accepted connection, as the limits on the member and client ports
 * count it (peer.c, node/client.c): an IPv4 address whole, an IPv6 address by its /64 prefix
 * (one host commonly holds a whole /64, so counting single IPv6 addresses would give it an
 * unbounded budget). IPv4-mapped IPv6 sources (a dual-stack listener) count as IPv4. */
#ifndef ALEPH_NET_SOURCE_H
#define ALEPH_NET_SOURCE_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct net_source {
    uint8_t addr[16]; /* IPv6, or IPv4-mapped (::ffff:a.b.c.d) */
} net_source;

/* 0, or -1 for an address family other than IPv4 and IPv6. */
int net_source_from(const struct sockaddr *sa, net_source *out);
/* The peer address of a connected TCP socket (uv_tcp_t *); -1 when it cannot be read. */
int net_source_of_peer(const void *uv_tcp, net_source *out);
/* The key a per-source budget counts by: an IPv4 address, or an IPv6 /64. */
net_source net_source_budget_key(const net_source *s);
int net_source_equal(const net_source *a, const net_source *b);
/* "a.b.c.d" or "x:y::/64", for log lines. */
void net_source_format(const net_source *key, char *out, size_t cap);

#endif

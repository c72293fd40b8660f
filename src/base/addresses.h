/* The addresses file of `aleph keygen --addresses FILE`: where each member of a committee
 * spread over hosts listens.
 *
 *   # comments and blank lines are ignored; one line per member, in index order
 *   HOST:PORT [CLIENT_PORT]
 *   10.0.1.5:61000 61100
 *   node-b.example.org:61000          (client port omitted: PORT + 1)
 *   [2001:db8::7]:61000 61100
 *
 * HOST is a DNS name or an IPv4 literal, or an IPv6 literal in brackets. Names are not
 * resolved here (they may resolve only on the hosts): the node resolves them with
 * getaddrinfo when it starts. Two members on one HOST must not share a port (member or
 * client); the loader says which lines collide. */
#ifndef ALEPH_BASE_ADDRESSES_H
#define ALEPH_BASE_ADDRESSES_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define ADDRESSES_LINE_BYTES_MAX 1024

/* Reads FILE into a fresh array of committee_member (host, port, client_port); *count is
 * the number of members it lists (1..ALEPH_MEMBERS_MAX). On failure -1 with one line per
 * problem "FILE:LINE: ..." in err. The caller frees *out. */
int addresses_load(const char *path, committee_member **out, uint32_t *count, char *err,
                   size_t cap);

/* Whether text is a host this project accepts: a DNS name (letters, digits, '-', '_', '.'),
 * an IPv4 literal or an IPv6 literal (without brackets). */
int address_host_valid(const char *host);

/* Splits "host:port" or "[v6]:port" (no check of the host: address_host_valid). */
int address_parse(const char *text, char *host, size_t host_cap, uint16_t *port);

/* Writes "host:port", or "[host]:port" for an IPv6 literal, into out. */
void address_format(char *out, size_t cap, const char *host, uint16_t port);

#endif

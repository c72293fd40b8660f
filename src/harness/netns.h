/* Separate hosts on one machine for `aleph local --hosts` (root only): each member runs in
 * its own network namespace with its own address on a veth pair to a bridge, so the kernel
 * treats members as separate hosts (own loopback, own TCP stacks, a real L2 hop). Bandwidth
 * per member can be capped with tbf on its veth. Delay, jitter and loss stay in user space
 * (link_delay.h): this kernel has no netem.
 *
 * Addresses are private test addresses only: 10.77.S.0/24 with S the first subnet no
 * interface on this host uses; member i is 10.77.S.(i+1), the bridge (in the caller's
 * namespace, so the load client reaches the members) 10.77.S.254. Names carry the creating
 * process's id (namespaces aleph<pid>-<i>, bridge alb<pid>, veths av<pid>x<i>), so runs side
 * by side do not collide, and leftovers of a killed run (its pid gone) are removed by the
 * next one. Everything is made with iproute2's `ip` and `tc`. */
#ifndef ALEPH_NODE_NETNS_H
#define ALEPH_NODE_NETNS_H

#include <stddef.h>
#include <stdint.h>

#define NETNS_MEMBERS_MAX 250u

typedef struct netns_set {
    uint32_t members;
    uint32_t created;              /* namespaces made so far (0..created-1) */
    int bridge_up;
    int subnet;                    /* S in 10.77.S.0/24 */
    int pid;
    double bandwidth_mbit;         /* tbf per member; 0: none */
    char bridge[16];
} netns_set;

/* Whether namespaces can be made here (root, `ip netns` works); else 0 and why. */
int netns_available(char *why, size_t cap);
/* Makes the bridge and one namespace per member. On failure removes what it made and
 * returns -1 with a message. */
int netns_create(netns_set *s, uint32_t members, double bandwidth_mbit, char *err, size_t cap);
/* Member i's address ("10.77.S.(i+1)"). */
void netns_address(const netns_set *s, uint32_t i, char *out, size_t cap);
/* In a child process before exec: moves it into member i's namespace; 0 or -1. */
int netns_enter(const netns_set *s, uint32_t i);
/* Rewrites the committee file's addresses to the members' namespace addresses (addresses
 * are not part of the session id). */
int netns_rewrite_committee(const netns_set *s, const char *path, char *err, size_t cap);
/* Removes the namespaces (and with them the veths) and the bridge; safe to call twice. */
void netns_destroy(netns_set *s);

#endif

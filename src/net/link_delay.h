/* Emulated wide-area links in user space (`aleph node --link-delays`, `aleph local --wan`):
 * a stage between the node and its TCP send queues that holds each outgoing frame until its
 * due time, then hands it to the transport. This machine's kernel has no netem, and this
 * works without root.
 *
 * Per peer: a FIFO of frames with due times. A frame is due at
 *     max(uplink free + one-way delay to the peer + jitter, the previous frame's due time)
 * so a link never reorders (TCP semantics), and a bandwidth cap serialises this member's
 * frames on one uplink (each copy of a broadcast takes its turn, as on a real NIC). One
 * libuv timer, armed for the earliest due frame, releases them; due times are taken on the
 * monotonic clock in ns, so a frame is never released before its delay has passed.
 *
 * Loss: over TCP a lost packet is retransmitted, not lost; what can be lost in user space is
 * a whole member message, dropped here with the given probability (the protocol heals by
 * requests and anti-entropy). The stage's bytes per peer are bounded like the send queue;
 * beyond the bound a message is dropped and counted. */
#ifndef ALEPH_NODE_LINK_DELAY_H
#define ALEPH_NODE_LINK_DELAY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "send_queue.h"

typedef struct link_params {
    uint32_t members, self;
    double *delay_ms;             /* one-way delay to each peer (own entry 0) */
    double jitter_ms;             /* each message: + uniform in [-jitter, +jitter], floor 0 */
    double loss;                  /* probability of dropping a whole message */
    double bandwidth_mbit;        /* this member's uplink; 0: unlimited */
    uint32_t regions;             /* from a matrix file: members are in region i mod regions */
    char desc[512];               /* for logs and summaries */
} link_params;

/* spec: a round-trip-time matrix file (the format of tests/data/aws-8-regions-rtt-ms.tsv;
 * member i in region i mod K, one-way delay = RTT/2, at least 1 ms), or a number of ms: the
 * one-way delay of every link. Returns 0, or -1 with a message. */
int link_params_parse(link_params *p, const char *spec, uint32_t self, uint32_t members,
                      char *err, size_t cap);
void link_params_free(link_params *p);

typedef void (*link_release_fn)(void *ctx, uint32_t to, out_frame *f);

typedef struct link_item {
    uint64_t due_ns;
    out_frame *f;
} link_item;

typedef struct link_queue {
    link_item *v;
    uint32_t cap, head, len;
    size_t bytes;
    uint64_t last_due_ns;
} link_queue;

typedef struct link_counters {
    uint64_t delayed;             /* messages that went through the stage */
    uint64_t lost;                /* dropped by the emulated loss */
    uint64_t dropped;             /* dropped because the stage's queue for a peer was full */
    uint64_t bytes_max;           /* most bytes held at once, all peers */
} link_counters;

typedef struct link_stage {
    link_params params;
    uv_loop_t *loop;
    uv_timer_t timer;
    int timer_open, closing;
    uint64_t armed_ns;            /* due time the timer is armed for; 0: not armed */
    link_queue *q;                /* per peer */
    size_t bytes, bytes_max_per_peer;
    uint64_t uplink_free_ns;
    uint64_t rng;
    link_release_fn release;
    void *ctx;
    link_counters counters;
} link_stage;

/* Takes ownership of params (freed by link_stage_free). */
int link_stage_start(link_stage *s, uv_loop_t *loop, link_params *params, size_t bytes_max_per_peer,
                     link_release_fn release, void *ctx);
/* Holds a frame for `to` (takes its own reference) until it is due. */
void link_stage_submit(link_stage *s, uint32_t to, out_frame *f);
/* Closes the timer; frames still held are dropped by link_stage_free. */
void link_stage_close(link_stage *s);
void link_stage_free(link_stage *s);

/* JSON object fields (no braces) for the node's log: "link_config" (the delay to each peer,
 * jitter, loss, bandwidth, a description) and "link_stats" (the counters). */
void link_stage_config_fields(const link_stage *s, char *out, size_t cap);
void link_stage_stats_fields(const link_stage *s, char *out, size_t cap);

#endif

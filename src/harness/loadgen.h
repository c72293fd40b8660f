/* Open-loop load generator for members' client ports (used by `aleph load` and
 * `aleph local`). It sends at a fixed total rate whatever the answers are, spreading the
 * transactions over the live targets, and says when it could not keep that rate.
 *
 * A transaction of S bytes (S >= LOADGEN_TX_MIN) is
 *   u64 send time (CLOCK_REALTIME ns) | u64 sequence number | u32 client id | padding
 * all little-endian. Sequence numbers count per target from 0; the client id is
 * client_id_base + target index, so (client id, sequence) names every transaction once. */
#ifndef ALEPH_NODE_LOADGEN_H
#define ALEPH_NODE_LOADGEN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/keys.h"
#include "base/probe_tx.h"

#define LOADGEN_TX_MIN PROBE_TX_BYTES_MIN
#define LOADGEN_TICK_MS 2u

/* Answer codes per sent transaction; LG_UNANSWERED until the ack arrives. */
enum { LG_OK = 0, LG_POOL_FULL = 1, LG_TOO_LARGE = 2, LG_UNANSWERED = 3 };

typedef struct lg_target {
    struct loadgen *lg;
    uint32_t index;
    char host[HOST_MAX];
    uint16_t port;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    int state;                  /* 0 connecting, 1 connected, 2 gone */
    int handle_open;
    uint64_t sent, acked, ok, pool_full, too_large, halted; /* ok: durable with ack_durable */
    uint8_t *status;            /* per sequence number: LG_* */
    size_t status_cap;
    uint64_t write_queue_max;   /* peak bytes waiting in the socket's write queue */
} lg_target;

typedef struct loadgen {
    uv_loop_t *loop;
    lg_target *targets;
    uint32_t targets_len;
    double rate;                /* tx/s over all targets */
    uint32_t tx_size;
    uint32_t client_id_base;
    uint64_t start_mono_ns;
    uint64_t due_total;         /* rate * elapsed, as of the last tick */
    uint64_t sent_total;
    uint64_t skipped;           /* due but not sent: the client fell behind */
    uint64_t behind_ticks;
    uint32_t rr;                /* round-robin cursor */
    uv_timer_t tick;
    int running, tick_open;
    /* per-second sent counts */
    uint64_t *per_second;
    size_t per_second_len, per_second_cap;
    uint8_t *buf;
    size_t buf_cap;
    void (*on_target_gone)(void *ctx, uint32_t index, const char *why);
    void *ctx;
    int ack_durable;            /* ask for answers once durable (client port status 4) */
} loadgen;

int loadgen_init(loadgen *lg, uv_loop_t *loop, uint32_t targets, double rate, uint32_t tx_size,
                 uint32_t client_id_base);
/* Sets target i's address (before loadgen_connect). */
void loadgen_target(loadgen *lg, uint32_t i, const char *host, uint16_t port);
/* Starts connecting; callers run the loop until loadgen_connected() or a timeout. */
void loadgen_connect(loadgen *lg);
uint32_t loadgen_connected(const loadgen *lg);
uint32_t loadgen_live(const loadgen *lg);
/* Starts / stops sending. Stopped, it still reads acknowledgements. */
void loadgen_start(loadgen *lg);
void loadgen_stop(loadgen *lg);
/* Transactions sent but not yet answered. */
uint64_t loadgen_unanswered(const loadgen *lg);
/* Closes every handle. */
void loadgen_close(loadgen *lg);
void loadgen_free(loadgen *lg);
/* Whether the rate was kept: nothing skipped beyond 1% of what was due. */
int loadgen_kept_rate(const loadgen *lg);

#endif

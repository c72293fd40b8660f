/* The simulator's state, shared by the engine (sim.c) and its set-up (sim_setup.c). */
#ifndef ALEPH_SIM_STATE_H
#define ALEPH_SIM_STATE_H

#include <stdint.h>

#include "sim.h"
#include "adversary.h"
#include "disk.h"
#include "dump.h"
#include "event_queue.h"
#include "garbage.h"
#include "invariants.h"
#include "samples.h"
#include "sig_cache.h"
#include "base/util.h"

#define SIM_UNIT_BYTES_MAX (64u * 1024u)
#define SIM_TX_BYTES_MAX 1024u
#define SIM_POOL_BYTES (1u << 20)
#define SIM_TX_BYTES 16u
#define SIM_SPIN_LIMIT 100000u
#define SIM_CREATED_RING 4096u
#define SIM_SIG_CACHE_MAX (1u << 15) /* per generation (sig_cache.h): ~17 MB at most */
#define FAULT_STREAM 0x6661756c74ull /* "fault" */
#define RESTART_STREAM 0x72657374617274ull /* "restart" */

typedef struct sim_instance {
    aleph_member *m;
    uint64_t wake_ms;     /* the pending TICK, UINT64_MAX when none */
    uint64_t spin_ms;     /* last ms at which it asked to be woken immediately */
    uint32_t spin_count;
    int32_t own_round;    /* highest own round created, -1 before the first */
    uint32_t tx_seq;
} sim_instance;

typedef struct sim_member {
    sim_behaviour behaviour;
    int honest;           /* never faulty: liveness and completeness apply */
    int checked;          /* honest code: its output must agree (honest, crashed) */
    int crashed;          /* the crash has happened */
    uint32_t crash_round;
    uint32_t instances;   /* 2 for a forker */
    sim_instance inst[2];
    sim_garbage garbage;
    /* per own (global) round g at [g % created_len], for consensus latency (honest only): a
     * ring of SIM_CREATED_RING rounds in long runs, tagged with the round (created_round) */
    uint64_t *created_ms;
    uint32_t *created_round;
    uint32_t created_len;
    int reached_target, reached_heal_round;
    uint32_t heads;       /* batches output */
    /* crash-restart faults (restart.c) */
    sim_disk *disk;       /* NULL: no simulated disk (persists are durable at once) */
    uint32_t life;        /* restarts so far */
    int down;             /* crashed, to come back */
    int crash_pending;    /* the next fault's crash is scheduled */
    int wiped;            /* its backup was deleted once: a later backup may be stale */
    uint32_t epoch_at_crash;
    uint64_t archive_next_ms; /* no archive load before (persist.c) */
    uint32_t fault_next, fault_end; /* its faults in sim.faults, in trigger order */
    /* pause faults (pause.c) */
    int paused;
    sim_event *deferred;     /* events for it while paused, in order */
    size_t deferred_len, deferred_cap;
    uint32_t loads_missed; /* load ticks while paused: submitted when it continues */
} sim_member;

typedef struct sim_fault {
    uint32_t member;
    uint32_t round;    /* crash once its own (global) round reaches this ... */
    uint32_t epoch;    /* ... or, when not 0, once it moves to this epoch (at the switch) ... */
    uint32_t delay_ms; /* ... this long after */
    uint64_t down_ms;
    int lost;          /* back with its backup deleted */
} sim_fault;

typedef struct drop_reason {
    const char *reason;
    uint64_t count;
} drop_reason;

typedef struct sim {
    const sim_config *cfg;
    sim_result *res;
    uint32_t n, rounds, rounds_max, target, heal_round;
    sim_member *members;
    aleph_secret *secrets;
    uint8_t (*sign_pks)[32];
    uint8_t (*coin_vks)[32];
    aleph_config acfg;
    sim_sig_cache sigs;
    aleph_unit_store *units;      /* shared by every member (NULL: --units-unshared) */
    sim_queue queue;
    sim_network net;
    sim_checker checker;
    sim_rng fault_rng;
    sim_samples e2e, consensus;
    sim_dump dump;
    int dumping;
    sim_adversary *adversary;
    sim_event *held;              /* deliveries the adversary holds back */
    size_t held_len, held_cap;
    uint8_t *honest_mask;
    uint32_t honest_count, honest_reached, honest_at_heal_round;
    uint64_t now;
    int healed;
    uint64_t faulty_deadline, liveness_deadline;
    int progress_dirty;
    int failed;
    uint64_t *epoch_sessions;     /* per epoch reached: its session (epoch 0: the committee's) */
    uint32_t epoch_sessions_len;
    drop_reason drops[64];
    uint32_t drops_len;
    sim_fault *faults;
    uint32_t faults_len;
    uint64_t fsync_ms;
    sim_rng restart_rng;
} sim;

/* sim_setup.c: builds the committee, the network and the tools from s->cfg; on failure a
 * message in err and -1 (teardown still frees what was built). */
int sim_setup(sim *s, char *err, size_t err_len);
void sim_teardown(sim *s);

#endif

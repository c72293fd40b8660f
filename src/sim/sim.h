/* The deterministic simulator: N members running the real core (aleph_member) in one process
 * on virtual time, over a seeded network with faults, with faulty members of several kinds,
 * and the invariants of atomic broadcast checked on every run.
 *
 * A run has two phases. In the faulty phase the network loses messages and may be
 * partitioned; it ends when every honest member has created a unit of round rounds/2, or at
 * faulty_ms_max. Then the network heals (no loss, no partition; duplication, reordering and
 * the faulty members stay) and the liveness phase requires progress: the run succeeds once
 * every honest member has ordered the head of round `rounds` (the target) and every unit an
 * honest member created before healing (up to the target round) is in every honest member's
 * output; it fails if that has not happened liveness_ms_max after healing.
 *
 * Members may create units up to round rounds + SIM_ROUNDS_SLACK (their rounds_max): a head
 * needs units 3 rounds above it, 5 when the coin orders the candidates, and a candidate whose
 * votes became unanimous against the fixed CommonVote of d = 3, 4 is decided only when a coin
 * of a later round agrees (probability 1/2 per round). With rounds_max = target + 6, one seed
 * in five of `--byzantine-kind garbage` stalled for want of rounds, not of progress; 24 rounds
 * of slack make that about 2^-19 per such candidate. A passing run stops a few rounds after
 * the target, so the slack is never created in practice.
 *
 * Members are numbered 0..N-1: honest ones first, then the crashed ones (--crashed), then the
 * Byzantine ones (--byzantine). Same seed, same run, bit for bit (wall time aside). */
#ifndef ALEPH_SIM_H
#define ALEPH_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "aleph/aleph.h"
#include "network.h"

typedef enum sim_behaviour {
    SIM_HONEST = 0,
    SIM_CRASH = 1,   /* honest until its own unit of a random round in [1, rounds/2], then gone */
    SIM_SILENT = 2,  /* runs, but nothing it sends leaves it */
    SIM_FORKER = 3,  /* two instances, same key, different transactions: one face per half */
    SIM_GARBAGE = 4, /* honest, plus a hostile message to everyone every 50 virtual ms */
    SIM_MIX = 5,     /* configuration only: forker, garbage, silent, crash, in turn */
} sim_behaviour;

const char *sim_behaviour_name(sim_behaviour b);
/* Parses "crash", "silent", "forker", "garbage", "mix"; returns -1 when unknown. */
int sim_behaviour_parse(const char *s);

#define SIM_ROUNDS_SLACK 24u   /* rounds_max = rounds + SIM_ROUNDS_SLACK */
#define SIM_ROUNDS_MIN 4u
#define SIM_LOAD_PERIOD_MS 100u
#define SIM_GARBAGE_PERIOD_MS 50u
#define SIM_FORK_VARIANTS_MAX 10000u

typedef enum sim_restart_bug {
    SIM_BUG_NONE = 0,
    SIM_BUG_NO_OWN_CHECK = 1, /* restart without the own check (a lost backup then forks) */
    SIM_BUG_SEND_EARLY = 2,   /* send messages without waiting for the own unit's sync */
    SIM_BUG_NO_CARRY = 3,     /* epochs: a restart from an epoch's file leaves its carry out */
    SIM_BUG_NO_KEPT = 4,      /* epochs: a restart restores the newest epoch's file only */
} sim_restart_bug;

#define SIM_FSYNC_MS_DEFAULT 5u
#define SIM_DOWN_MS_MIN_DEFAULT 200u
#define SIM_DOWN_MS_MAX_DEFAULT 3000u
#define SIM_RESTARTS_MAX 10000u
#define SIM_PAUSES_MAX 1000u
#define SIM_PAUSE_MS_DEFAULT 4000u

typedef struct sim_config {
    uint32_t members;
    uint32_t byzantine;           /* faulty members of byzantine_kind (the last indices) */
    sim_behaviour byzantine_kind;
    uint32_t crashed;             /* honest-then-crashed members (before the Byzantine ones) */
    uint64_t seed;
    uint32_t rounds;              /* target: the head of this round must be ordered */
    sim_network_config net;       /* members is filled in by the run */
    const char *latency_spec;     /* the --latency text, for the rerun line (NULL: derived) */
    aleph_coin_mode coin_mode;
    uint32_t fork_variants;       /* a forker also sends this many further variants of every
                                     own unit (a flood; 0: none), at most SIM_FORK_VARIANTS_MAX */
    uint32_t txs_per_tick;        /* txs submitted to each live member every 100 virtual ms */
    uint64_t faulty_ms_max;       /* 0: default (see sim_config_resolve) */
    uint64_t liveness_ms_max;     /* 0: default */
    const char *dump_dir;         /* NULL: no dump */
    int64_t round_delay_ms;       /* members' round_delay_ms_min; -1: the core's default */
    int64_t parent_wait_ms;       /* members' parent_wait_ms_max; -1: the core's default */
    int64_t candidate_wait_ms;    /* members' candidate_wait_ms_max; -1: the core's default */
    int64_t head_parent_wait_ms;  /* members' head_parent_wait_ms_max; -1: the core's default */
    const uint32_t *default_creators; /* the committee's default-creator schedule (borrowed) */
    uint32_t default_creators_len;    /* 0: round mod N */
    uint32_t adversary_round;     /* 0: none; else the round r0 whose candidate is attacked */
    uint32_t adversary_rounds;    /* the scheduler gives up this many rounds above r0 */
    /* Crash-restart faults (restart.h): `restarts` times a random honest member crashes
     * (its unsynced writes and held messages are lost) and comes back down_ms later from
     * what was durable, or, with probability backup_lost, with its backup deleted (own check
     * with recover). Every honest member has a simulated disk when restarts > 0 or
     * fsync_ms >= 0: a sync takes fsync_ms, messages after an own unit wait for it. */
    uint32_t restarts;
    double backup_lost;
    uint64_t down_ms_min, down_ms_max;
    int64_t fsync_ms;             /* -1: SIM_FSYNC_MS_DEFAULT with restarts, else no disk */
    /* Pause faults (pause.h): `pauses` times a random honest member stops for pause_ms
     * (its clock and steps stop, everything for it waits) and continues. */
    uint32_t pauses;
    uint64_t pause_ms;
    /* Testing: a planted bug the invariants must catch (0: none). */
    sim_restart_bug restart_bug;
    /* Epochs of this many rounds (aleph_config.epoch_rounds; 0: none). Rounds of the run
     * (--rounds, the target, crash rounds, rounds_max) are then global: epoch * E + round;
     * members create without a round limit (the run stops a few rounds after the target). */
    uint32_t epoch_rounds;
    /* Finished epochs every member keeps (aleph_config.epochs_kept; 0: the core's default):
     * a member up to this many epochs behind catches up. */
    uint32_t epochs_kept;
    /* The archive (docs/PROTOCOL.md, "Beyond K: the archive"; needs a disk: --restarts or
     * --fsync-ms): each disk keeps this many finished epochs' files beyond epochs_kept, and
     * a request of an epoch neither kept nor archived loads its file into the member's
     * archive slot (at most one load per SIM_ARCHIVE_LOAD_GAP_MS). 0: none (the default). */
    uint32_t epochs_archived;
    /* 1: every member holds its own copy of each unit (no aleph_unit_store): for comparing
     * memory; the run is otherwise the same */
    int units_unshared;
    FILE *progress;               /* NULL: silent; else a line at healing and at the end */
} sim_config;

void sim_config_defaults(sim_config *cfg);

/* Checks a configuration; returns NULL, or a one-line message naming the flag at fault
 * (e.g. "--byzantine: 2 + --crashed 1 exceed f = 2 for 7 members"). */
const char *sim_config_check(const sim_config *cfg, char *buf, size_t buf_len);

/* The phase limits in force (defaults filled in). */
uint64_t sim_faulty_ms_max(const sim_config *cfg);
uint64_t sim_liveness_ms_max(const sim_config *cfg);
uint32_t sim_target_round(const sim_config *cfg);
uint32_t sim_rounds_max(const sim_config *cfg);

typedef struct sim_distribution {
    uint64_t count;
    double mean, p50, p95, p99;
    int inexact; /* a percentile is a lower bound (samples.h: only past 17.5 virtual minutes) */
} sim_distribution;

typedef struct sim_result {
    int ok;                       /* every invariant held and the target was reached */
    int agreement;                /* 0 when agreement, no-duplicate or no-skip failed */
    int liveness;                 /* 0 when the target was not reached in time */
    int complete;                 /* 0 when a pre-healing honest unit was not output by all */
    int setup_failed;             /* the run could not start (message in failure) */
    char failure[1200];           /* first failure, one line; empty when ok */

    uint32_t members, faulty, rounds, target_round, rounds_max;
    uint64_t seed;
    uint64_t batches;             /* batches in the common output */
    uint64_t units_ordered;       /* units in the common output */
    uint64_t txs_ordered;         /* txs in the common output */
    uint64_t txs_submitted;
    uint32_t head_round_min;      /* lowest last-head round over honest members (-1: none) */
    sim_distribution latency_ms;  /* end to end, virtual: submit to output at its member */
    sim_distribution consensus_latency_ms; /* unit creation to ordering at its creator */
    uint64_t heads_at_depth[4];   /* heads decided at d = 2, 3, 4, >= 5 (honest members) */
    /* honest members' own units output in batch(r) of their round r (heads), in batch(r+1),
     * later: a unit that misses the parents of head(r+1) waits a batch more */
    uint64_t own_units_in_batch[3];
    /* adversarial scheduler (when configured) */
    uint32_t adversary_round;     /* r0 */
    uint32_t adversary_held;      /* rounds above r0 it kept U0 undecided (its own view) */
    uint32_t adversary_head_delay;/* member 0's own round when it output batch(r0), minus r0;
                                     UINT32_MAX when it never did */
    uint32_t adversary_head_depth;/* d at which head(r0) was decided there */
    uint64_t tracked_units;       /* honest units made durable before healing, checked */
    /* crash-restart faults */
    int signed_once;              /* 0 when an honest key signed two units of one round */
    int exactly_once;             /* 0 when a durably confirmed transaction was output twice
                                     or, required, not at all */
    uint32_t restarts;            /* restarts done (crash, then back) */
    uint32_t restarts_backup_lost;/* of which with the backup deleted */
    uint32_t restarts_refused;    /* own check refused a stale backup; restarted with recover */
    uint32_t restarts_epoch_later;/* restored into an epoch above 0 (a later epoch's file) */
    uint32_t restarts_cut_switch; /* restored the old epoch's file: crashed after its switch
                                     but before the new file was on the disk */
    uint32_t crashes_at_switch;   /* crashes planned at an epoch switch (in the step or soon after) */
    uint64_t records_lost;        /* backup records not durable at a crash, lost */
    uint64_t messages_held;       /* messages that waited for a sync */
    uint64_t messages_held_lost;  /* held messages lost at a crash */
    uint64_t syncs;               /* simulated fsyncs */
    uint64_t units_restored;      /* through aleph_member_restore */
    uint64_t signed_units;        /* units of honest keys checked for signed once */
    uint64_t txs_confirmed;       /* transactions in own units made durable */
    uint64_t txs_set_apart;       /* confirmed by a member before its backup was deleted */
    uint64_t units_set_apart;     /* tracked units of such a member, no longer required */
    /* pause faults */
    uint32_t pauses, pauses_skipped; /* done; skipped (the member was paused or down) */
    uint64_t messages_paused;     /* deliveries that waited for a paused member */
    uint64_t resumes;             /* the core's resume detections, over honest members */

    uint64_t heal_ms, end_ms;     /* virtual */
    double wall_s;
    uint64_t steps;

    /* traffic */
    uint64_t messages_sent;       /* messages handed to the network (one per recipient) */
    uint64_t messages_delivered;
    uint64_t messages_lost, messages_cut, messages_duplicated;
    uint64_t messages_silenced;   /* sent by silent members, never left */
    uint64_t messages_to_crashed; /* arrived at a crashed member, discarded */
    uint64_t messages_dropped;    /* rejected by honest members (aleph_member_stats) */
    uint64_t garbage_sent;        /* hostile messages (per recipient) */
    uint64_t garbage_must_drop;   /* of which every receiver must reject */
    uint64_t forks_detected;      /* over honest members */
    /* fork alerts, summed over honest members */
    uint64_t alerts_sent;         /* own alerts */
    uint64_t alert_certificates_completed;
    uint64_t alerts_invalid;      /* alerts, signatures, certificates rejected */
    uint64_t forker_units_admitted; /* units of known forkers let in by a completed alert */
    uint64_t forker_units_refused;
    uint64_t dag_units_max;       /* largest DAG of an honest member at the end */
    /* epochs, over honest members */
    uint32_t epoch_min, epoch_max;  /* epochs honest members are in at the end */
    uint64_t carry_txs;             /* transactions carried over a boundary */
    uint64_t epoch_stale_dropped, epoch_ahead_dropped, epoch_far_dropped, epoch_answers;
    uint32_t epochs_kept_max;       /* most finished epochs one honest member kept at the end */
    uint64_t archive_loads, archive_answers; /* the archive's loads and answers (honest) */
    uint64_t txs_required;          /* transactions of tracked units (each output once) */
    uint64_t fork_variants_sent;  /* flood variants handed to the network (per send) */
    uint64_t units_created;       /* by every instance, forks included */
    uint64_t sig_checks, sig_cache_hits;
    uint64_t queue_len_max;
    /* why honest members dropped input: the core's static reason strings */
    struct {
        const char *reason;
        uint64_t count;
    } drop_reasons[32];
    uint32_t drop_reasons_len;
} sim_result;

/* Runs one simulation. Returns 0 when every invariant held, 1 when one was violated (or the
 * target was not reached), 2 when the run could not be set up (res->failure says why). */
int sim_run(const sim_config *cfg, sim_result *res);

/* Human summary block. */
void sim_result_print(FILE *out, const sim_config *cfg, const sim_result *res);
/* One JSON object on one line (with a newline). */
void sim_result_print_json(FILE *out, const sim_config *cfg, const sim_result *res);
/* The command that reruns this configuration with one seed. */
void sim_rerun_command(char *buf, size_t len, const sim_config *cfg, uint64_t seed);

/* The committee of a run with this seed: the n members' keys (aleph_keys_deal from a seed
 * derived from it), the session and the members' rng seed, as the run's members get them.
 * The fuzzers use it to check messages a simulator run signed. Returns 0 or -1. */
int sim_keys_deal(uint64_t seed, uint32_t n, aleph_secret *secrets, uint8_t (*sign_pks)[32],
                  uint8_t (*coin_vks)[32], uint64_t *session, uint64_t *rng_seed);

#endif

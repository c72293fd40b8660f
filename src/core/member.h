/* The state of one member, shared by the modules of the core (one concept per file):
 *   dag.c       units, the DAG, parent resolution, forks, the buffer of units waiting for parents
 *   ordering.c  votes, decisions, heads and batches (PROTOCOL.md section 4)
 *   coin.c      coin values per round, in the configured mode
 *   creator.c   when and how an own unit is made (section 3)
 *   sync.c      requests for missing units and the anti-entropy exchange (section 6)
 *   alert.c     fork alerts by reliable multicast (section 7)
 *   pool.c      the local transaction pool
 *   shed.c      freeing ordered units' encodings and parents, keeping stubs (section 8)
 *   outbox.c    the update handed back to the caller
 *   notice.c    drops, halts and failed allocations reported (every module's one way)
 *   peers.c     a random peer to ask, a member's signature by index
 *   config.c    configuration defaults and checks, quorum arithmetic, c(r)
 *   member.c    the step API tying them together: it calls the modules, none calls it
 */
#ifndef ALEPH_MEMBER_H
#define ALEPH_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"
#include "asserts.h"
#include "alert.h"
#include "hashmap.h"
#include "unit.h"

#define NONE UINT32_MAX

/* ---- units and the DAG ---------------------------------------------------------------------- */

enum share_state { SHARE_UNCHECKED = 0, SHARE_VALID = 1, SHARE_INVALID = 2 };

typedef struct unit {
    uint8_t hash[32];
    uint32_t creator;
    uint32_t round;
    uint32_t id;          /* index in dag.units */
    uint32_t round_pos;   /* index among the units of its round, in arrival order */
    uint32_t fork_next;   /* next unit with the same (creator, round), or NONE */
    uint32_t batch_round; /* round of the head whose batch holds it; NONE while unordered */
    uint32_t *parents;    /* `members` entries: parent unit id per creator, or NONE; NULL for
                             round 0 and once shed (shed.c); read through dag_parent (with
                             a unit store they are store ids) */
    uint8_t *bytes;       /* the encoding, as received or created; NULL once shed; with
                             sid != NONE the unit store's copy (never written) */
    uint32_t sid;         /* its id in cfg.unit_store, or NONE: bytes and parents are its own */
    uint32_t len;
    uint32_t payload_off;
    uint32_t payload_len;
    uint32_t txs_len;   /* transactions in the payload (counted by unit_decode) */
    uint32_t share_off; /* 0 when the unit carries no coin share */
    uint64_t added_ms;  /* when it entered this member's DAG (local time) */
    uint8_t share_state;
} unit;

typedef struct round_index {
    uint32_t *first_by_creator; /* `members` entries: first unit of (creator, round), or NONE */
    uint32_t *units;            /* unit ids in arrival order */
    uint32_t units_len, units_cap;
    uint32_t creators_present;
} round_index;

typedef struct fork_proof {
    uint32_t creator;
    uint32_t round;
} fork_proof;

/* What the DAG asks of the fork-alert layer above it (alert.c: alert_fork_found,
 * alert_committed), wired by aleph_member_new: the DAG calls up only through these, so calls
 * between the two files go one way (alert.c uses the DAG). */
typedef struct fork_hooks {
    /* Two validly signed units of one slot: `first` is in the DAG, `second` (bytes) is not. */
    void (*found)(aleph_member *m, const struct unit *first, const uint8_t *second,
                  size_t second_len);
    /* Whether a unit of a known forker may enter: a completed alert commits it. */
    int (*admits)(const aleph_member *m, const uint8_t hash[32], uint32_t creator,
                  uint32_t round);
} fork_hooks;

typedef struct dag {
    unit **units;
    uint32_t units_len, units_cap;
    round_index *rounds;
    uint32_t rounds_len, rounds_cap; /* rounds_len = highest round held + 1 */
    hashmap by_hash;                 /* unit hash -> unit id */
    uint32_t *highest_plus1;         /* per creator: highest round held + 1, 0 when none */
    uint8_t *forker;                 /* per creator: found forking */
    fork_proof *forks;
    uint32_t forks_len, forks_cap;
    uint64_t unordered_with_payload; /* drives the idle pace */
    fork_hooks forks_hooks;
    /* with cfg.unit_store: the unit id of each store id this DAG holds (NONE elsewhere), and
     * room for a unit's parents as store ids */
    uint32_t *local_of_sid;
    uint32_t local_of_sid_len;
    uint32_t *sid_scratch;
} dag;

/* A unit whose parents are not all in the DAG yet. */
typedef struct pending_unit {
    uint8_t hash[32];
    uint8_t *bytes;
    uint32_t len;
    uint32_t creator;
    uint32_t round;
    uint32_t from;
    uint8_t share_state; /* SHARE_VALID when found valid ahead (coin_share_known_valid) */
    uint8_t (*explicit_parents)[32]; /* from a PARENTS answer; NULL until one came */
    uint32_t explicit_len;
    /* What it waits for, so that a retry pass skips it with one lookup. */
    uint8_t wait_kind; /* enum wait_kind in dag.c */
    uint32_t wait_creator, wait_round;
    uint8_t wait_hash[32];
} pending_unit;

typedef struct pending_set {
    pending_unit **items; /* sorted by round, so one pass resolves chains bottom-up */
    uint32_t len, cap;
    hashmap by_hash;
    uint32_t *per_creator;
    /* per creator: highest round + 1 of a validly signed unit received (DAG or not): its
     * creator held every round below (catchup.c reads it for the committee's round) */
    uint32_t *seen_plus1;
} pending_set;

/* What resolving a unit found missing (dag.c), handed by the member to sync (member.c), so
 * that the DAG never calls sync. The kinds are the request kinds below. */
enum want_kind { WANT_SLOT = 1, WANT_PARENTS = 2, WANT_HASH = 3 };
#define WANTS_MAX 65536u

typedef struct dag_want_item {
    uint8_t kind;
    uint32_t creator, round; /* WANT_SLOT */
    uint32_t peer;           /* who showed the need */
    uint8_t hash[32];        /* WANT_PARENTS: the waiting unit; WANT_HASH: the parent */
} dag_want_item;

typedef struct want_list {
    dag_want_item *items;
    uint32_t len, cap;
} want_list;

/* ---- requests and anti-entropy -------------------------------------------------------------- */

enum request_kind { REQ_SLOT = WANT_SLOT, REQ_PARENTS = WANT_PARENTS, REQ_HASH = WANT_HASH };

typedef struct request {
    uint8_t key[32];    /* what the request is filed under */
    uint8_t target[32]; /* REQ_PARENTS, REQ_HASH: the unit hash asked about */
    uint8_t kind;
    uint32_t creator, round; /* REQ_SLOT */
    uint32_t attempts;
    uint64_t next_ms;
    uint32_t origin; /* the peer that showed the need: it holds what is missing */
} request;

typedef struct request_set {
    request *items;
    uint32_t len, cap;
    hashmap by_key; /* key -> index in items */
} request_set;

/* ---- ordering ---------------------------------------------------------------------------------
 */

typedef struct election {
    uint32_t round;
    int started;
    uint32_t *candidates; /* unit ids in candidate order */
    uint32_t candidates_len;
    uint32_t defaults_len; /* how many of them are the default creator's */
    int rest_sorted;       /* the non-default part is ordered (may need coin(r+5)) */
    uint32_t current;      /* index of the candidate being decided */
    uint32_t *deciders;    /* per candidate: the unit id that decided it (records only) */
    int8_t **votes;        /* votes[d-1][round_pos]: -1 unknown, 0, 1, 2 waiting */
    uint32_t *votes_len;
    uint32_t *final_upto; /* per row: entries below this position are final */
    uint32_t votes_rounds;
} election;

typedef struct coin_cache_entry {
    uint32_t round_plus1; /* 0: empty */
    uint8_t value[32];
} coin_cache_entry;

#define COIN_CACHE_SLOTS 64u

/* ---- transaction pool -------------------------------------------------------------------------
 */

typedef struct tx_pool {
    uint8_t *buf; /* ring of [u32 len][bytes] records */
    size_t cap, head, used;
    uint64_t txs;
} tx_pool;

/* ---- the update under construction ---------------------------------------------------------- */

typedef struct outbox {
    uint8_t *arena;
    size_t arena_len, arena_cap;
    struct {
        uint32_t to;
        size_t off, len;
        uint32_t epoch;  /* written after the type byte at the end of the step (epoch_hdr) */
        uint8_t epoch_hdr; /* 1: 4 bytes were reserved before the message for the epoch */
    } * msgs;
    int with_epoch; /* the committee has epochs: every message names its epoch */
    uint32_t epoch; /* the epoch of the messages and notices made now */
    size_t msgs_len, msgs_cap;
    aleph_blob *persists; /* by reference: DAG unit and kept alert bytes, valid until the next step */
    size_t persists_len, persists_cap;
    int persist_own; /* an own unit or alert, or an alert signed, is among the persists */
    aleph_outgoing *out_msgs;
    size_t out_cap_msgs;
    aleph_batch *batches;
    size_t batches_len, batches_cap;
    aleph_ordered_unit *ordered; /* all batches' units, back to back */
    size_t ordered_len, ordered_cap;
    size_t *batch_first; /* index into ordered for each batch */
    const uint8_t **records; /* the batches' election records: hashes, back to back */
    size_t records_len, records_cap;
    size_t *record_first; /* per batch: candidates at records[first], then the deciders */
    aleph_notice *notices;
    size_t notices_len, notices_cap;
    /* Allocations that failed where the caller does not check (a message, a notice, a batch's
     * record, the update's message list); aleph_member_step counts and reports them. */
    uint64_t alloc_failed;
} outbox;

/* ---- shedding ordered units (shed.c) ------------------------------------------------------- */

typedef struct shed_queue {
    uint32_t *ids; /* ordered units of one creator not shed yet, in the order ordered */
    uint32_t head, len, cap;
} shed_queue;

typedef struct shed_state {
    uint32_t *reported;    /* n x n: [peer * n + creator] highest round + 1 the peer holds */
    uint32_t *held_by_all; /* per creator: lowest report over the peers (self: no bound) */
    shed_queue *queues;    /* per creator */
    int pending_pass;      /* something may be sheddable at the next step */
} shed_state;

/* ---- bulk catch-up (catchup.c) ------------------------------------------------------------ */

typedef struct catchup_chunk {
    uint32_t lo, hi; /* rounds [lo, hi) still to get from `peer` */
    uint32_t peer;
    int asked;            /* 1: a request is out, due by deadline_ms; 0: send at deadline_ms */
    uint64_t deadline_ms;
} catchup_chunk;

typedef struct catchup_state {
    uint32_t *peer_top; /* per peer: the highest round + 1 it reported holding, any creator */
    uint32_t *scratch;
    uint32_t target;  /* the (f+1)-th highest peer_top: an honest member holds it */
    int target_dirty; /* a peer_top grew: compute target again */
    int active;       /* the DAG's top is far below target: pulling ranges */
    uint32_t next_lo; /* the next round to hand out in a chunk */
    catchup_chunk *chunks; /* at most one per peer in flight */
    uint32_t chunks_len;
    uint32_t peer_next; /* round robin */
    int64_t *tokens;    /* answering, per peer: bytes it may be sent now (token bucket) */
    uint64_t *tokens_ms;
    /* Resumed after a silence (the process was stopped): single slots above the top wait
     * until the committee's round is heard (f+1 HIGHEST since), the pull starts, or a time. */
    int stepped;          /* a step was taken in this epoch: now_ms is the previous step's */
    int holding;          /* single-slot requests above the DAG's top wait */
    int hold_announce;    /* send HIGHEST to every peer at the next tick */
    uint64_t hold_until_ms;
    uint8_t *heard;       /* per peer: a HIGHEST came from it since the resume */
    uint32_t heard_count;
} catchup_state;

/* ---- the member --------------------------------------------------------------------------------
 */

struct aleph_member {
    aleph_config cfg;
    uint8_t (*sign_pks)[32];
    uint8_t (*coin_vks)[32];
    uint32_t *default_creators; /* the schedule (cfg.default_creators points here) */
    aleph_secret secret;
    uint32_t n, f, q;
    unit_limits limits;

    uint64_t now_ms;
    uint64_t rng;

    dag dag;
    pending_set pending;
    want_list wants; /* filled by dag.c, emptied by sync_take_wants each step */
    request_set requests;
    alert_state alerts;
    election election;
    uint32_t next_head_round; /* lowest round without a head */
    coin_cache_entry coin_cache[COIN_CACHE_SLOTS];
    int halted;

    tx_pool pool;

    /* restart (restore.c) */
    int restoring;     /* units come from the own backup: not persisted again */
    int restored_dirty; /* restored units not yet looked at by ordering */
    int own_check;     /* own_check: 1 while waiting for peers' answers */
    uint8_t *own_answered;     /* per peer: answered the own query */
    uint32_t own_answers;
    uint32_t own_seen_plus1;   /* highest own round a peer showed + 1 */
    uint64_t own_query_next_ms;

    /* creator */
    int32_t own_round; /* highest own round created, -1 before the first */
    uint32_t own_last; /* unit id of the last own unit, NONE before the first */
    uint64_t own_created_ms;
    uint64_t quorum_seen_ms; /* when the next round's parents first reached q */
    /* The fast path (creator.c): how late, after the own quorum of a round, each creator's
     * unit of that round usually arrives (a running mean), and the round last measured. */
    uint32_t *lag_ms;
    uint32_t lag_round;
    uint64_t lag_quorum_ms; /* when the own quorum of lag_round was reached; 0: none yet */
    uint32_t *scratch_creators, *scratch_rounds, *scratch_ids;

    /* sync */
    uint64_t next_anti_entropy_ms;
    uint64_t *highest_reply_ms;  /* per peer: last HIGHEST sent in reply */
    uint64_t *highest_answer_ms; /* per peer: when units may next go in answer to its HIGHEST */

    shed_state shed;
    catchup_state catchup;

    /* epochs (epoch.c). Everything above that describes the DAG and its ordering is the
     * current epoch's; cfg.session and limits.session hold the epoch's session. */
    uint32_t epoch;
    uint64_t committee_session;
    int epoch_done;           /* the epoch's last batch is ordered: move on at the step's end */
    uint8_t epoch_last_head[32];
    /* The newest kept finished epoch (frozen, to answer members still in it); its own prev
     * is the one before, and so on: at most cfg.epochs_kept, newest first. */
    aleph_member *prev;
    /* The archive slot (aleph_member_archive_begin): one finished epoch older than the kept
     * ones, loaded from the shell's backup file, answered from like a kept one; NULL. */
    aleph_member *archive;
    int is_prev;              /* this is such a kept epoch: it shares keys and pool, never steps */
    int kept_signs_alerts;    /* a kept epoch frozen in this life (epoch_advance): its memory
                               * holds every alert signature it gave, so it signs new alerts
                               * (alert_receive_kept); 0 when restored from the backup */
    int restoring_finished;   /* restart: the units restored now are of a finished epoch's
                                 backup (aleph_member_restore_finished), kept to answer */
    uint8_t *carry;           /* transactions carried into this epoch (payload format) */
    size_t carry_len, carry_off; /* carry_off: bytes already taken into own units */
    uint32_t carry_txs, carry_left;
    uint64_t *ahead_reply_ms; /* per peer: last HIGHEST sent because it is in a later epoch */

    outbox out;
    aleph_member_stats stats;
};

/* dag.c */
int dag_init(aleph_member *m);
void dag_free(aleph_member *m);
unit *dag_find(const aleph_member *m, const uint8_t hash[32]);
uint32_t dag_first_in_slot(const aleph_member *m, uint32_t creator, uint32_t round);
/* Whether the units ids names (by creator) give w's control hash. */
int dag_parents_match(const aleph_member *m, const unit_wire *w, const uint32_t *ids);
/* u's parent by creator c (u->parents must be set): a unit id of this DAG, or NONE. */
uint32_t dag_parent(const aleph_member *m, const unit *u, uint32_t c);
/* Frees u's encoding and parent list (shed.c), or gives them back to the unit store. */
void dag_unit_drop_body(aleph_member *m, unit *u);
/* Takes a unit from the network (or from the own creator when own = 1). */
void dag_receive_unit(aleph_member *m, const uint8_t *data, size_t len, uint32_t from);
/* Stores a checked unit whose parent ids (`members` entries) are resolved; persisted unless
 * it is being restored. */
unit *dag_add_resolved(aleph_member *m, const unit_wire *w, const uint8_t *data,
                       const uint8_t hash[32], const uint32_t *parent_ids);
/* Adds an own, freshly created unit; it is valid by construction. The DAG takes `data` (a
 * malloc'd buffer) on success; on failure (NULL) the caller keeps it. */
unit *dag_add_own(aleph_member *m, uint8_t *data, size_t len, const uint8_t hash[32]);
/* Notes something missing for sync to ask for (see want_list). */
void dag_want(aleph_member *m, uint8_t kind, uint32_t creator, uint32_t round,
              const uint8_t *hash, uint32_t peer);
/* Whether the waiting unit `hash` got its explicit parents: 1, 0, or -1 when not waiting. */
int dag_pending_has_explicit(const aleph_member *m, const uint8_t hash[32]);
/* j forked (a proof of `round` is in hand): never again a parent, reported once. */
void dag_mark_forker(aleph_member *m, uint32_t j, uint32_t round);
/* A PARENTS answer arrived for a pending unit. */
void dag_receive_parents(aleph_member *m, uint32_t from, const uint8_t unit_hash[32],
                         const uint8_t *hashes, uint32_t count);
/* Asks again for what every waiting unit waits for: requests give up after a few attempts,
 * and a unit must not wait forever for an answer nobody is asked for any more. */
void pending_rerequest(aleph_member *m);
void pending_free(aleph_member *m);

/* ordering.c */
void ordering_advance(aleph_member *m);
void ordering_free(aleph_member *m);

/* coin.c */
/* Returns 1 and writes coin(round) when it can be computed from the local DAG, 0 otherwise. */
int coin_value(aleph_member *m, uint32_t round, uint8_t out[32]);
/* The share an own unit of `round` carries; returns 0 when the mode needs none. */
int coin_share_for(aleph_member *m, uint32_t round, uint8_t out[ALEPH_COIN_SHARE_BYTES]);
void coin_nonce(uint64_t session, uint32_t round, uint8_t out[ALEPH_COIN_NONCE_BYTES]);
int coin_share_known_valid(const aleph_member *m, const uint8_t *data, const unit_wire *w);

/* creator.c */
void creator_try(aleph_member *m);
uint64_t creator_wake_ms(const aleph_member *m);

/* sync.c */
/* Files requests for what the DAG found missing, and empties the list. */
void sync_take_wants(aleph_member *m, want_list *wants);
/* Sends HIGHEST to a random peer when the anti-entropy period is over; returns 1 then. */
int sync_anti_entropy_tick(aleph_member *m);
/* Sends the requests that are due. */
void sync_flush(aleph_member *m);
/* Sends this member's highest rounds held to `to` (anti-entropy; epoch.c for a later epoch). */
void sync_send_highest(aleph_member *m, uint32_t to);
uint64_t sync_wake_ms(const aleph_member *m);
void sync_receive(aleph_member *m, uint32_t from, const void *msg);
void sync_free(aleph_member *m);

/* pool.c */
int pool_init(tx_pool *p, size_t cap);
void pool_free(tx_pool *p);
aleph_submit_status pool_add(tx_pool *p, const uint8_t *tx, size_t len, size_t tx_bytes_max);
/* Moves whole transactions into buf (payload format) up to cap bytes; returns bytes used. */
size_t pool_take(tx_pool *p, uint8_t *buf, size_t cap);

/* catchup.c */
int catchup_init(aleph_member *m);
void catchup_free(aleph_member *m);
/* A peer showed (HIGHEST, OWN_ANSWER) that it holds units up to round top_plus1 - 1. */
void catchup_peer_reported(aleph_member *m, uint32_t peer, uint32_t top_plus1);
/* Called with each step's time before the member's clock moves: a step long after the
 * previous one means the process was stopped (SIGSTOP, a paused VM) and may be far behind. */
void catchup_clock(aleph_member *m, uint64_t now_ms);
/* An OWN_ANSWER from `peer` that holds rounds below top_plus1: after a resume, the answer
 * to the query sent then (none is sent otherwise outside the own check). */
void catchup_resume_answer(aleph_member *m, uint32_t peer, uint32_t top_plus1);
/* Pulling ranges: far behind the committee. */
int catchup_active(const aleph_member *m);
/* A missing unit of `round` is brought by the ranges (no single request needed). */
int catchup_covers(const aleph_member *m, uint32_t round);
/* A peer whose DAG tops at their_top_plus1 pulls ranges from us: no anti-entropy push. */
int catchup_peer_far_behind(const aleph_member *m, uint32_t their_top_plus1);
void catchup_tick(aleph_member *m);
uint64_t catchup_wake_ms(const aleph_member *m);
void catchup_receive(aleph_member *m, uint32_t from, const void *msg);

/* shed.c */
int shed_init(aleph_member *m);
void shed_free(aleph_member *m);
/* A peer's HIGHEST message said it holds creator's units below highest_plus1. */
void shed_peer_reported(aleph_member *m, uint32_t peer, uint32_t creator, uint32_t highest_plus1);
/* u went into a batch of this step; it may be shed from the next step on. */
void shed_unit_ordered(aleph_member *m, const unit *u);
/* Sheds what may go; called at the start of a step, before anything new is ordered. */
void shed_pass(aleph_member *m);

/* outbox.c */
void outbox_reset(outbox *o);
void outbox_free(outbox *o);
/* Queues a message of `type` with body; returns 0 or -1 when out of memory. */
int outbox_send(outbox *o, uint32_t to, uint8_t type, const uint8_t *body, size_t len);
/* Queues a finished message (its epoch header, if any, included) as it is. */
int outbox_send_raw(outbox *o, uint32_t to, const uint8_t *data, size_t len);
/* Reserves a message of 1 + len bytes and returns a pointer to fill (type byte included). */
uint8_t *outbox_send_reserve(outbox *o, uint32_t to, size_t len);
/* Queues data for the backup by reference, without a copy: it must stay unchanged until the
 * caller has consumed the update, i.e. until the next step (the bytes of a unit in the DAG do:
 * shed.c frees them only at the start of a later step). */
int outbox_persist(outbox *o, aleph_persist_kind kind, const uint8_t *data, size_t len,
                   const uint8_t *hash); /* hash: a unit's (aleph_blob.hash), else NULL */
void outbox_notice(outbox *o, const aleph_notice *n);
aleph_ordered_unit *outbox_batch_begin(outbox *o, const aleph_batch *b, size_t units_len);
/* Attaches the election record to the batch begun last: b->candidates_len candidate hashes,
 * then b->head_index + 1 decider hashes (pointers into the DAG). */
void outbox_batch_record(outbox *o, const uint8_t *const *hashes);
/* Reserves the update's message list (a failure counted in alloc_failed: then no message
 * leaves this step); call before outbox_finish, which allocates nothing. */
void outbox_finish_reserve(outbox *o);
void outbox_finish(outbox *o, aleph_update *up);

/* restore.c */
int own_check_init(aleph_member *m);
/* 1 while the own check forbids creating. */
int own_check_blocks(const aleph_member *m);
void own_check_tick(aleph_member *m);
uint64_t own_check_wake_ms(const aleph_member *m);
void own_check_query(aleph_member *m, uint32_t from);
void own_check_answer(aleph_member *m, uint32_t from, const void *msg);

/* epoch.c */
int epoch_init(aleph_member *m);
/* Frees the kept finished epochs and the carry (aleph_member_free). */
void epoch_free(aleph_member *m);
/* How many finished epochs are kept now. */
uint32_t epoch_kept_count(const aleph_member *m);
/* Moves to the next epoch when epoch_done (at the end of a step; retried when memory ran out). */
void epoch_advance(aleph_member *m);
/* A message from a peer: 1 when it is for the current epoch and the body decoded into msg;
 * 0 when it was handled here (another epoch: dropped, or answered from the previous epoch). */
int epoch_take_message(aleph_member *m, const aleph_event *ev, void *msg);
/* Frees the state of one epoch (the member's, or a kept previous one's). */
/* The per-epoch arrays of n entries (scratch lists, per-peer reply times): 0, or -1 when one
 * could not be allocated (member_free_epoch_state frees what was). */
int member_alloc_epoch_arrays(aleph_member *m);
void member_free_epoch_state(aleph_member *m);

/* carry.c */
/* Bytes of carried transactions not yet in an own unit; carry_take moves whole ones into buf
 * (up to cap bytes) and returns the bytes moved. */
size_t carry_bytes_left(const aleph_member *m);
size_t carry_take(aleph_member *m, uint8_t *buf, size_t cap);
/* A restored own unit held `txs` transactions: the carry's first ones. */
void carry_restored(aleph_member *m, uint32_t txs);
/* The carry into the next epoch: the own unordered units' transactions, then what is left
 * of the carry into this one (a malloc'd buffer, NULL when empty). Returns -1 when out of
 * memory. */
int carry_collect(const aleph_member *m, uint8_t **buf, size_t *len, uint32_t *txs);

/* notice.c: what a member reports about itself (the modules' one way to say it) */
void notice_drop(aleph_member *m, uint32_t peer, const char *reason);
/* Stops the member for good (it creates and orders no more) with a HALT notice; `hash` may
 * be NULL, creator and peer NONE. */
void notice_halt(aleph_member *m, uint32_t round, uint32_t creator, uint32_t peer,
                 const uint8_t *hash, const char *reason);
/* Counts a failed allocation and reports it as an OUT_OF_MEMORY notice. */
void notice_out_of_memory(aleph_member *m, const char *where);

/* config.c */
/* c(r): the default creator of `round` (aleph_config.default_creators, or round mod N). */
uint32_t config_default_creator(const aleph_member *m, uint32_t round);

/* peers.c */
/* A random member index other than self (self when alone). */
uint32_t peer_random(aleph_member *m);
/* Ed25519 check of a signature by member `signer` on a 32-byte hash (through the
 * configured callback when there is one). */
int peer_signature_valid(const aleph_member *m, const uint8_t hash[32], const uint8_t sig[64],
                         uint32_t signer);

#endif

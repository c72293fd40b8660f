/* Helpers shared by the cmocka test programs (tests/test_*.c): a committee of real members
 * with dealt keys, hand-made units, and a tiny lossless network for core-level tests. The
 * simulator (src/sim) is the place for anything with time, faults or many seeds. */
#ifndef ALEPH_TEST_SUPPORT_H
#define ALEPH_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"

#define TS_MEMBERS_MAX 16

typedef struct ts_committee {
    uint32_t n;
    aleph_coin_mode coin_mode;
    aleph_secret secrets[TS_MEMBERS_MAX];
    uint8_t sign_pks[TS_MEMBERS_MAX][32];
    uint8_t coin_vks[TS_MEMBERS_MAX][32];
    aleph_config cfg;
} ts_committee;

/* A fresh directory $TMPDIR/aleph-test-NAME-XXXXXX (or under /tmp) in dir (asserts it was
 * made), and removing it with everything in it (0, or -1). */
void ts_tmpdir_make(char *dir, size_t cap, const char *name);
int ts_tmpdir_remove(const char *dir);

/* Deals keys from a fixed seed and fills a configuration with zero delays. */
void ts_committee_init(ts_committee *c, uint32_t n, aleph_coin_mode mode, uint8_t seed_byte);

/* Everything a member emitted that tests look at, copied out of the update. */
typedef struct ts_log {
    uint8_t (*ordered)[32]; /* unit hashes in output order */
    uint64_t *payload_sums; /* per ordered unit: FNV-1a of the payload as handed out */
    uint32_t *creators;     /* per ordered unit */
    size_t ordered_len, ordered_cap, sums_cap, creators_cap;
    size_t txs;             /* transactions found in the ordered payloads */
    uint32_t *batch_rounds; /* head round per batch */
    uint32_t *batch_depths;
    uint8_t (*heads)[32];
    size_t batches_len, batches_cap;
    size_t dropped, forks, halts, own_newer, own_checked, out_of_memory;
    /* every persisted blob, as u32 little-endian length + bytes (a backup's units) */
    uint8_t *persisted;
    size_t persisted_len, persisted_cap, persists;
    /* every persisted record of any kind, in order, as u8 kind + u32 LE length + bytes (a
     * backup's records: units, alerts, certificates) */
    uint8_t *records;
    size_t records_len, records_cap;
} ts_log;

void ts_log_take(ts_log *log, const aleph_update *up);
void ts_log_free(ts_log *log);

/* A member and what it said, stepped by hand. */
typedef struct ts_member {
    aleph_member *m;
    ts_log log;
    uint64_t now;
} ts_member;

void ts_member_init(ts_member *tm, ts_committee *c, uint32_t index);
void ts_member_free(ts_member *tm);
/* Delivers a message from `from`; the update goes into the log. */
void ts_member_deliver(ts_member *tm, uint32_t from, const uint8_t *msg, size_t len);

/* A unit made by hand and signed with a committee member's key. parent_rounds[c] is the
 * round of creator c's parent or -1 for none; parent_hashes[c] its hash (used for the
 * control hash). Writes the MSG_UNIT message (type byte + unit) into out, returns its length,
 * and the unit hash into hash_out. */
size_t ts_make_unit(const ts_committee *c, uint32_t creator, uint32_t round,
                    const int64_t *parent_rounds, uint8_t (*parent_hashes)[32],
                    const uint8_t *payload, uint32_t payload_len, uint8_t *out, size_t cap,
                    uint8_t hash_out[32]);

/* The coin share a hand-made unit carries. ts_make_unit gives TS_SHARE_VALID in threshold
 * mode (the creator's real share for the unit's round) and TS_SHARE_NONE otherwise, so that
 * every hand-built DAG can run in threshold mode. The invalid kinds are well formed on the
 * wire (the unit decodes and its signature holds) but fail verification: the creator's real
 * share for another round, or the creator's share with one byte of its proof changed. */
typedef enum ts_share {
    TS_SHARE_NONE = 0,
    TS_SHARE_VALID,
    TS_SHARE_WRONG_ROUND,
    TS_SHARE_BAD_PROOF,
} ts_share;

size_t ts_make_unit_share(const ts_committee *c, uint32_t creator, uint32_t round,
                          const int64_t *parent_rounds, uint8_t (*parent_hashes)[32],
                          const uint8_t *payload, uint32_t payload_len, ts_share share,
                          uint8_t *out, size_t cap, uint8_t hash_out[32]);
/* Writes creator's share of coin(round) (valid, or spoiled as `share` says). */
void ts_coin_share(const ts_committee *c, uint32_t creator, uint32_t round, ts_share share,
                   uint8_t out[ALEPH_COIN_SHARE_BYTES]);

/* N members on a lossless network that delivers every message in FIFO order, with time
 * advancing 1 ms per delivery round. Runs until every member ordered `batches` batches or
 * `steps_max` deliveries happened; returns the number of deliveries. */
typedef struct ts_cluster {
    ts_committee committee;
    ts_member members[TS_MEMBERS_MAX];
    uint64_t now;
    struct ts_msg *queue_head, *queue_tail;
    size_t queued;
    /* Units (not other messages) sent by this member are held back until
     * ts_cluster_release_held(); UINT32_MAX (the default): none. */
    uint32_t hold_units_from;
    /* When not 0, time also advances 1 ms every this many deliveries (a busy network
     * otherwise keeps time still, and periodic work such as anti-entropy never runs). */
    uint32_t deliveries_per_ms;
    /* Messages to or from this member are lost (UINT32_MAX, the default: none). */
    uint32_t cut_member;
    struct ts_msg *held_head, *held_tail;
    /* A stopped process (SIGSTOP): this member takes no steps; the first messages to it
     * from each peer wait (its socket buffers: paused_keep * (1 + from) / N of them, so that
     * the streams cut off at different rounds), later ones are lost (its peers drop what
     * they queued for a peer that stopped reading) until ts_cluster_resume(). */
    uint32_t paused_member;
    size_t paused_keep, paused_kept[TS_MEMBERS_MAX];
    struct ts_msg *paused_head, *paused_tail;
    /* When set, called with every message just before it is delivered. */
    void (*observe)(void *ctx, uint32_t from, uint32_t to, const uint8_t *data, size_t len);
    void *observe_ctx;
    /* When set, a message it returns 1 for is lost (called with observe_ctx). */
    int (*drop)(void *ctx, uint32_t from, uint32_t to, const uint8_t *data, size_t len);
} ts_cluster;

void ts_cluster_init(ts_cluster *cl, uint32_t n, aleph_coin_mode mode, uint32_t rounds_max);
/* The same with anti-entropy every anti_entropy_ms (ts_cluster_init: practically never) and
 * shed_lag_rounds 4. */
void ts_cluster_init_ae(ts_cluster *cl, uint32_t n, aleph_coin_mode mode, uint32_t rounds_max,
                        uint32_t anti_entropy_ms);
void ts_cluster_free(ts_cluster *cl);
size_t ts_cluster_run(ts_cluster *cl, size_t batches, size_t steps_max);
/* Queues a message from `from` to `to` (a byzantine member's, made by hand). */
void ts_cluster_inject(ts_cluster *cl, uint32_t from, uint32_t to, const uint8_t *data,
                       size_t len);
/* The same, delivered before everything queued (a peer's bytes that overtake the others'). */
void ts_cluster_inject_first(ts_cluster *cl, uint32_t from, uint32_t to, const uint8_t *data,
                             size_t len);
/* Writes into p (9 + body_len bytes) an OWN_ANSWER as a peer sends it: the asker's newest
 * round + 1 that the peer holds, the peer's own top round + 1, then that unit (without its
 * MSG_UNIT type byte) or nothing. Returns its length. */
size_t ts_own_answer(uint8_t *p, uint32_t own_plus1, uint32_t rounds_plus1, const uint8_t *body,
                     size_t body_len);
/* Ends the pause: what waited for the paused member is delivered first (at the end of the
 * queue, before anything sent from now on), and it takes steps again. */
void ts_cluster_resume(ts_cluster *cl);
/* Puts the held units at the end of the queue and stops holding. */
void ts_cluster_release_held(ts_cluster *cl);
/* Asserts (cmocka) that all members' outputs are prefixes of one sequence (unit hashes and
 * payloads) and each is free of repeats. Returns the length of the longest output. */
size_t ts_assert_agreement(ts_log *const *logs, size_t count);

#endif

/* Signature checks of range answers off the event loop (docs/ARCHITECTURE.md, "Prechecks").
 * A member catching up receives UNITS messages of up to 4 MB, and checking each unit's
 * Ed25519 signature was the largest cost of its event loop. Such a message is copied and its
 * units' signatures are checked on libuv's thread pool; peer messages that arrive meanwhile
 * wait behind it, so the member still gets every peer message in arrival order. When it is
 * delivered, the member's verify_signature hook (precheck_verify) answers from the results
 * for exactly the (hash, signature, key) checked there, and checks anything else itself; its
 * unit_hash_known hook (precheck_unit_hash) gives the member the hash computed there for the
 * unit at that very place in the message's copy (which nothing changes meanwhile), so that no
 * unit is hashed twice. The member still decodes and judges every unit, and a result can only
 * ever be the one libsodium gives for those bytes. A restart's restore uses the same results
 * for the backup's unit records: precheck_batch checks a batch of them on threads of its own
 * and makes it the current one while the member takes those records. */
#ifndef ALEPH_NODE_PRECHECK_H
#define ALEPH_NODE_PRECHECK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aleph/aleph.h"

/* Messages waiting (copied) beyond this many bytes are dropped and counted: the member asks
 * again for what it misses. Honest catch-up stays far below it (a member asks for a few
 * ranges at a time, each answer at most 4 MB). */
#define PRECHECK_BYTES_MAX (48u << 20)
/* A range answer spanning more rounds than this gets no coin share checks ahead. */
#define PRECHECK_SHARE_ROUNDS_MAX 1024u
/* A restore's batch is checked on at most this many threads (the calling one included). */
#define PRECHECK_THREADS_MAX 4u

typedef void (*precheck_deliver_fn)(void *ctx, uint32_t from, const uint8_t *data, size_t len);

typedef struct precheck_result {
    const uint8_t *unit; /* where the unit is in the message's copy */
    size_t signed_len;
    uint8_t hash[32];
    uint8_t signature[64];
    uint32_t creator;
    uint32_t round;
    int valid;
    int share_valid; /* its coin share checked and valid for share_nonce */
    uint8_t share_nonce[ALEPH_COIN_NONCE_BYTES];
} precheck_result;

typedef struct precheck_msg precheck_msg;

typedef struct precheck_counters {
    uint64_t messages;     /* UNITS messages checked ahead */
    uint64_t signatures;   /* signatures checked on the thread pool (or a restore's threads) */
    uint64_t answered;     /* of the member's signature checks, answered from those */
    uint64_t checked_here; /* checked by precheck_verify itself */
    uint64_t dropped;      /* messages dropped over PRECHECK_BYTES_MAX */
    uint64_t hashes;       /* the member's unit hashes answered from the pool's */
    uint64_t shares;       /* coin shares checked on the thread pool */
    uint64_t shares_taken; /* of those, found valid and taken by the member */
} precheck_counters;

typedef struct precheck {
    uv_loop_t *loop;
    aleph_config cfg; /* a copy: members, epochs, the keys */
    precheck_deliver_fn deliver;
    void *ctx;
    precheck_msg *head, *tail;
    size_t bytes;
    int draining;
    int closing;
    /* the message being delivered, for precheck_verify */
    const precheck_msg *current;
    uint32_t cursor, hash_cursor, share_cursor;
    precheck_msg *batch; /* a restore's batch (precheck_batch), current until its end */
    precheck_counters counters;
} precheck;

void precheck_init(precheck *pc, uv_loop_t *loop, const aleph_config *cfg,
                   precheck_deliver_fn deliver, void *ctx);
/* A peer message: 0 when the caller should deliver it now (no UNITS message waits and it is
 * not one); 1 when taken (queued, delivered later through `deliver`, or dropped). */
int precheck_message(precheck *pc, uint32_t from, const uint8_t *data, size_t len);
/* aleph_config.verify_signature with ctx = the precheck. */
int precheck_verify(void *ctx, const uint8_t hash[32], const uint8_t sig[64],
                    const uint8_t public_key[32]);
/* aleph_config.unit_hash_known with ctx = the precheck: during a delivery, the hash the pool
 * computed for the unit at exactly that place in the message, with that signed length. */
int precheck_unit_hash(void *ctx, const uint8_t *unit, size_t signed_len, uint8_t out[32]);
/* aleph_config.share_valid_known with ctx = the precheck: during a delivery, whether the pool
 * found valid the coin share of the unit at exactly that place, for exactly that nonce. */
int precheck_share_valid(void *ctx, const uint8_t *unit, size_t len,
                         const uint8_t nonce[ALEPH_COIN_NONCE_BYTES]);
/* Points cfg's verify_signature, unit_hash_known and share_valid_known hooks at pc. */
void precheck_hook(precheck *pc, aleph_config *cfg);
/* A restore (restart.c; the loop is not running): checks the signatures of the n units at
 * units[i] (lens[i] bytes each, in memory nothing changes until precheck_batch_end) on up to
 * PRECHECK_THREADS_MAX threads, and makes the results current as for a delivery, so that the
 * member's precheck_verify and precheck_unit_hash answer from them for exactly those bytes.
 * Returns 0, or -1 without memory (the member then checks them itself). ctx: the precheck. */
int precheck_batch(void *ctx, const uint8_t *const *units, const size_t *lens, size_t n);
/* During a batch, like precheck_unit_hash without taking the answer: the hash the batch
 * computed for the unit at exactly that place with that signed length (the backup's record
 * checksum uses it before the member takes it). */
int precheck_hash_peek(void *ctx, const uint8_t *unit, size_t signed_len, uint8_t out[32]);
/* Ends the batch: its results are forgotten. */
void precheck_batch_end(void *ctx);
/* Stops delivering; frees what waits (messages on the thread pool when they come back). */
void precheck_close(precheck *pc);

#endif

/* Hostile bytes for the `garbage` faulty behaviour: a member that runs the honest core but
 * also sends messages that every receiver must reject. Built with the core's own encoders
 * (unit.h, message.h) so that rule-breaking units carry a VALID signature of the garbage
 * member's key: the core has to reject them on the rules, not on the signature.
 *
 * None of them is a structurally valid unit, so none can become an equivocation, and no
 * alert among them is valid, so none teaches a fork. */
#ifndef ALEPH_SIM_GARBAGE_H
#define ALEPH_SIM_GARBAGE_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"
#include "sim_rng.h"

typedef enum sim_garbage_kind {
    SIM_GARBAGE_RANDOM = 0,        /* random bytes */
    SIM_GARBAGE_TRUNCATED = 1,     /* a real unit message cut short */
    SIM_GARBAGE_BITFLIP = 2,       /* a real unit message with one bit flipped */
    SIM_GARBAGE_BAD_SIGNATURE = 3, /* a unit whose signature does not match */
    SIM_GARBAGE_WRONG_LENGTH = 4,  /* each message type with a wrong length or count */
    SIM_GARBAGE_RULE_BROKEN = 5,   /* validly signed unit breaking a unit rule */
    SIM_GARBAGE_ALERT = 6,         /* fork alerts with bad proofs or forged signatures, forged
                                      certificates, signatures and requests for no alert */
    SIM_GARBAGE_KINDS = 7,
} sim_garbage_kind;

typedef struct sim_garbage {
    aleph_config cfg;             /* the committee's: what the members' decoders check */
    uint64_t session;
    uint32_t members, quorum, index;
    int coin_share;               /* units must carry a coin share (threshold mode) */
    uint32_t payload_bytes_max;
    uint8_t sign_secret_key[64];
    uint8_t *last_unit;           /* the member's last real UNIT message (type byte included;
                                     without the epoch header: crafted messages have none, the
                                     simulator adds it, sim_epoch_header) */
    size_t last_unit_len;
    uint32_t last_round;
    uint64_t sent[SIM_GARBAGE_KINDS];
} sim_garbage;

void sim_garbage_init(sim_garbage *g, const aleph_config *cfg, const aleph_secret *secret);
void sim_garbage_free(sim_garbage *g);

/* Shows the garbage maker a message its honest half sent (it keeps the last own unit). */
void sim_garbage_observe(sim_garbage *g, const uint8_t *msg, size_t len);

/* The member moved to an epoch of session `session`: crafted units name it. */
void sim_garbage_epoch(sim_garbage *g, uint64_t session);

/* Number of variants of a kind (variant indices are 0..count-1). */
uint32_t sim_garbage_variants(sim_garbage_kind kind);

/* Crafts one hostile message of `kind` and `variant` (taken modulo the variant count; random
 * content comes from rng) into a malloc'd buffer *out (NULL for a 0-byte message) and returns
 * its length. *must_drop is 1 when every receiver must reject it and count it in
 * messages_dropped; 0 when a receiver may instead ignore it silently (a copy of a unit it
 * already holds with a damaged signature has the same hash as that unit). *label names the
 * variant. Returns (size_t)-1 when out of memory. */
size_t sim_garbage_craft(sim_garbage *g, sim_rng *rng, sim_garbage_kind kind, uint32_t variant,
                         uint8_t **out, int *must_drop, const char **label);

const char *sim_garbage_kind_name(sim_garbage_kind kind);

/* A validly signed variant of the last own unit observed (same round and parents, another
 * payload): a fork, for the forker's flood. Returns its UNIT message length in *out, 0 when
 * no unit was observed yet, (size_t)-1 when out of memory. */
size_t sim_garbage_fork_variant(sim_garbage *g, sim_rng *rng, uint8_t **out);

#endif

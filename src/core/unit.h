/* A unit on the wire: canonical binary encoding, strict decoding, hash and signature.
 *
 * Layout (little-endian):
 *   u8  version (1)
 *   u64 session
 *   u16 creator
 *   u32 round
 *   u16 parent count P, then P x (u16 creator, u32 round), creators strictly ascending
 *   32  control hash (only when round > 0)
 *   u32 payload length, payload
 *   u8  coin share flag (0 or 1), then 96 bytes of share when 1
 *   64  signature (Ed25519 over the unit hash)
 * The unit hash is BLAKE2b-256("aleph/unit" || every byte before the signature).
 */
#ifndef ALEPH_UNIT_H
#define ALEPH_UNIT_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"

#define UNIT_VERSION 1u
#define UNIT_NO_PARENT UINT32_MAX

/* A decoded unit. Pointers refer into the decoded bytes. */
typedef struct unit_wire {
    uint64_t session;
    uint32_t creator;
    uint32_t round;
    uint32_t parents_len;        /* P */
    const uint8_t *parents_raw;  /* P x 6 bytes, validated */
    const uint8_t *control_hash; /* NULL for round 0 */
    const uint8_t *payload;
    uint32_t payload_len;
    uint32_t txs_len;          /* transactions in the payload */
    const uint8_t *coin_share; /* NULL when absent */
    const uint8_t *signature;
    size_t signed_len; /* bytes covered by the hash */
    size_t len;        /* whole encoding */
} unit_wire;

/* Limits a decoder checks against; they come from the committee's configuration. */
typedef struct unit_limits {
    uint64_t session;
    uint32_t members;
    uint32_t quorum;
    uint32_t payload_bytes_max;
    int coin_share_required; /* 1: must carry a share; 0: must not */
} unit_limits;

/* Decodes and checks everything that needs no DAG: field bounds, session, trailing bytes,
 * and the parent rules of PROTOCOL.md section 2 that the encoding alone shows (own parent of
 * round r-1, at least q parents of round r-1, every parent below r, one per creator).
 * Returns NULL when valid, or a static reason. */
const char *unit_decode(const uint8_t *data, size_t len, const unit_limits *lim, unit_wire *out);

/* The i-th parent slot of a decoded unit. */
void unit_wire_parent(const unit_wire *u, uint32_t i, uint32_t *creator, uint32_t *round);

/* Hash of a decoded unit (over its signed bytes). */
void unit_hash(const uint8_t *data, size_t signed_len, uint8_t out[32]);

/* Control hash over the parents' hashes in creator order. */
void unit_control_hash(const uint8_t *const *parent_hashes, uint32_t count, uint8_t out[32]);

/* What a creator fills in to encode a unit (the public header's testing section names it for
 * the tools that build hostile units). */
typedef aleph_testing_unit_draft unit_draft;

size_t unit_encoded_len(const unit_draft *d);

/* Where the payload starts in d's encoding (it does not depend on the payload): a creator may
 * put the payload there first and point d->payload at it, and encoding does not copy it. */
size_t unit_payload_offset(const unit_draft *d);

/* Encodes d into buf (unit_encoded_len bytes), signs it with secret_key and writes the hash.
 * Returns the length written. */
size_t unit_encode_signed(const unit_draft *d, const uint8_t secret_key[64], uint8_t *buf,
                          uint8_t hash_out[32]);

#endif

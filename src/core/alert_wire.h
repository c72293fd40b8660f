/* Fork alerts on the wire (PROTOCOL.md section 7): the alert, the signature on its hash and
 * the certificate of q such signatures. Strict decoders with bounds, like every message.
 *
 * ALERT body (little-endian):
 *   u16 sender · u16 forker
 *   u32 length, unit A · u32 length, unit B      the fork proof: two units of the forker,
 *                                                one round, different hashes, both signed
 *   u32 commit_round_lo · u32 commit_count       <= ALERT_COMMITS_MAX
 *   commit_count x 32-byte unit hash             the forker's unit of round lo + i
 *   64  signature of the sender over the alert hash
 * The alert hash is BLAKE2b-256("aleph/alert" || session (u64) || every byte before the
 * signature). One hash per round, rounds consecutive: "at most one unit per round".
 *
 * ALERT_SIGNATURE body: 32-byte alert hash · 64-byte signature (by the authenticated sender).
 * ALERT_CERT body: 32-byte alert hash · u16 count (q <= count <= N) · count x (u16 signer,
 *   64-byte signature), signers strictly ascending.
 * REQUEST_ALERT body: 32-byte alert hash. */
#ifndef ALEPH_ALERT_WIRE_H
#define ALEPH_ALERT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "unit.h"

/* Commitments per alert: 2 MiB of hashes. A forker's chain longer than this at the sender
 * is committed from its highest units down (see docs/PROTOCOL.md). */
#define ALERT_COMMITS_MAX 65536u
#define ALERT_SIGNATURE_BODY_BYTES (32u + 64u)
#define ALERT_CERT_ENTRY_BYTES (2u + 64u)

typedef struct alert_wire {
    uint32_t sender, forker;
    unit_wire a, b; /* the proof, decoded */
    uint8_t a_hash[32], b_hash[32];
    uint32_t commit_round_lo, commit_count;
    const uint8_t *commits;   /* commit_count x 32 */
    const uint8_t *signature; /* the sender's */
    size_t signed_len;        /* bytes before the signature */
    uint8_t hash[32];         /* the alert hash */
} alert_wire;

/* Decodes an ALERT body and checks everything that needs no key: bounds, both proof units
 * decode under the committee's limits, are the forker's, of one round, and differ. Signatures
 * are the caller's (alert_signatures_valid). Returns NULL or a static reason. */
const char *alert_decode(const uint8_t *data, size_t len, const unit_limits *lim, alert_wire *out);

size_t alert_encoded_len(uint32_t a_len, uint32_t b_len, uint32_t commit_count);

/* Writes an ALERT body (alert_encoded_len bytes) and its hash; signs it with secret_key. */
void alert_encode_signed(uint8_t *buf, uint64_t session, uint32_t sender, uint32_t forker,
                         const uint8_t *a, uint32_t a_len, const uint8_t *b, uint32_t b_len,
                         uint32_t commit_round_lo, const uint8_t *const *commits,
                         uint32_t commit_count, const uint8_t secret_key[64], uint8_t hash_out[32]);

typedef struct cert_wire {
    const uint8_t *alert_hash;
    uint32_t count;
    const uint8_t *entries; /* count x (u16 signer, 64 signature) */
} cert_wire;

/* Decodes an ALERT_CERT body: count in [quorum, members], signers ascending and inside the
 * committee, exact length. Signatures are the caller's. */
const char *cert_decode(const uint8_t *data, size_t len, uint32_t members, uint32_t quorum,
                        cert_wire *out);
uint32_t cert_signer(const cert_wire *c, uint32_t i);
const uint8_t *cert_signature(const cert_wire *c, uint32_t i);

#endif

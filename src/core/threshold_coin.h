/*
 * The threshold coin (docs/PROTOCOL.md section 5): the Cachin-Kursawe-Shoup construction on
 * ristretto255, built from libsodium primitives.
 *
 * A dealer shares a secret scalar x with a polynomial of degree threshold-1; member i holds
 * x_i = p(i+1) and everyone knows X_i = x_i*G. For a nonce m, member i publishes
 * S_i = x_i*H2G(m) with a Chaum-Pedersen proof that log_G(X_i) = log_H2G(m)(S_i). Any
 * `threshold` valid shares interpolate to x*H2G(m), whichever shares are used, and the coin is
 * a hash of that point. Fewer shares reveal nothing about it.
 *
 * Every function is pure: no I/O, no global state, no heap. The caller must have initialised
 * libsodium (aleph_init() does it).
 */
#ifndef ALEPH_THRESHOLD_COIN_H
#define ALEPH_THRESHOLD_COIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TC_SCALAR_BYTES 32
#define TC_POINT_BYTES 32
/* A share: the point S_i (32) || proof challenge c (32) || proof response s (32). */
#define TC_SHARE_BYTES 96
/* Largest committee: member indices are 0..TC_MEMBERS_MAX-1. */
#define TC_MEMBERS_MAX 1024u

/* Dealer. Draws a polynomial p of degree threshold-1 over the scalar field and writes, for
 * each member i in 0..n-1, secret_shares[i] = p(i+1) and verification_keys[i] = p(i+1)*G.
 * seed != NULL: coefficient j is scalar_reduce(BLAKE2b-512 keyed with seed over
 * "aleph/coin-deal" || j as 4 bytes little-endian), so the same seed gives the same deal
 * (tests, simulation). seed == NULL: coefficients from the system's random source.
 * Requires 1 <= threshold <= n <= TC_MEMBERS_MAX. Returns 0, or -1 on bad parameters or if
 * a share came out zero (probability about n/2^252); on failure the outputs are wiped. */
int tc_deal(uint32_t n, uint32_t threshold, const uint8_t seed[32], uint8_t (*secret_shares)[32],
            uint8_t (*verification_keys)[32]);

/* Member's share for a nonce, with its Chaum-Pedersen proof. Deterministic: the same secret
 * and nonce always give the same 96 bytes. Returns 0, or -1 if the secret is zero or not a
 * canonical scalar, if verification_key is not secret_share*G (a mismatched key file would
 * otherwise produce shares that everyone else rejects), or if a scalar multiplication fails. */
int tc_share_create(const uint8_t secret_share[32], const uint8_t verification_key[32],
                    const uint8_t *nonce, size_t nonce_len, uint8_t share_out[TC_SHARE_BYTES]);

/* 1 if share is a valid share for this verification key and nonce, 0 otherwise: bad or
 * identity point (in the share or the key), c or s not canonical (>= L) or zero, or a proof
 * that does not check. Safe on any 96 bytes. */
int tc_share_verify(const uint8_t verification_key[32], const uint8_t *nonce, size_t nonce_len,
                    const uint8_t share[TC_SHARE_BYTES]);

/* Lagrange interpolation at 0 of k shares; shares[j] belongs to member member_indices[j]
 * (0-based, x-coordinate index+1). Only the point S of each share is used: the caller passes
 * shares that already passed tc_share_verify. With k >= threshold this writes x*H2G(nonce).
 * Returns 0, or -1 if k == 0, an index repeats or is >= TC_MEMBERS_MAX, a point is invalid, or
 * the result is the identity (impossible for valid shares of a nonzero secret). */
int tc_combine(const uint32_t *member_indices, const uint8_t (*shares)[TC_SHARE_BYTES], size_t k,
               uint8_t point_out[TC_POINT_BYTES]);

/* The coin value: BLAKE2b-256("aleph/coin" || point). */
void tc_coin_value(const uint8_t point[TC_POINT_BYTES], uint8_t value_out[32]);

/* 1 if point is the canonical encoding of a ristretto255 element other than the identity
 * (what a verification key in a key file must be), 0 otherwise. */
int tc_point_valid(const uint8_t point[32]);

#ifdef __cplusplus
}
#endif

#endif

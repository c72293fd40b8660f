/* The authenticated handshake between two members (one TCP connection per pair; the member
 * with the lower index dials, the higher one only accepts, so two connections between a pair
 * never race).
 *
 *   both:     HELLO = "ALPH" || u8 version || u64 session || 32-byte fresh random nonce
 *   dialer:   AUTH  = u32 own index || u32 peer index || Ed25519 signature
 *   acceptor: checks it, then answers with its own AUTH; the dialer checks that.
 *
 * The signature is over H("aleph/handshake" || session || signer's nonce || verifier's
 * nonce || signer's index || verifier's index), made with the signer's member key, so each
 * side proves it holds the key of the index it claims, bound to this connection by both
 * fresh nonces (a recorded handshake cannot be replayed). Every handshake message travels
 * in a frame of at most HS_FRAME_MAX bytes. */
#ifndef ALEPH_NODE_HANDSHAKE_H
#define ALEPH_NODE_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#define HS_VERSION 1u
#define HS_NONCE_BYTES 32u
#define HS_HELLO_BYTES (4u + 1u + 8u + HS_NONCE_BYTES)
#define HS_AUTH_BYTES (4u + 4u + 64u)
#define HS_FRAME_MAX 128u

void handshake_hello(uint8_t out[HS_HELLO_BYTES], uint64_t session,
                     const uint8_t nonce[HS_NONCE_BYTES]);
/* NULL when valid (and the peer's nonce is copied out), else the reason. */
const char *handshake_hello_check(const uint8_t *data, size_t len, uint64_t session,
                                  uint8_t peer_nonce[HS_NONCE_BYTES]);

void handshake_auth(uint8_t out[HS_AUTH_BYTES], uint64_t session,
                    const uint8_t own_nonce[HS_NONCE_BYTES],
                    const uint8_t peer_nonce[HS_NONCE_BYTES], uint32_t own_index,
                    uint32_t peer_index, const uint8_t secret_key[64]);

/* Checks a peer's AUTH. expected_peer: the index dialed, or UINT32_MAX when accepting (any
 * index below own_index, the dialing rule). NULL when valid, with *peer_out set. */
const char *handshake_auth_check(const uint8_t *data, size_t len, uint64_t session,
                                 const uint8_t own_nonce[HS_NONCE_BYTES],
                                 const uint8_t peer_nonce[HS_NONCE_BYTES], uint32_t own_index,
                                 uint32_t members, const uint8_t (*public_keys)[32],
                                 uint32_t expected_peer, uint32_t *peer_out);

#endif

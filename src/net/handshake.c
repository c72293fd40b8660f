#include "handshake.h"

#include <sodium.h>
#include <string.h>

#include "base/util.h"

static const uint8_t magic[4] = {'A', 'L', 'P', 'H'};

void handshake_hello(uint8_t out[HS_HELLO_BYTES], uint64_t session,
                     const uint8_t nonce[HS_NONCE_BYTES])
{
    memcpy(out, magic, 4);
    out[4] = HS_VERSION;
    le64_put(out + 5, session);
    memcpy(out + 13, nonce, HS_NONCE_BYTES);
}

const char *handshake_hello_check(const uint8_t *data, size_t len, uint64_t session,
                                  uint8_t peer_nonce[HS_NONCE_BYTES])
{
    if (len != HS_HELLO_BYTES || memcmp(data, magic, 4) != 0)
        return "handshake: not an aleph member hello";
    if (data[4] != HS_VERSION) return "handshake: unsupported protocol version";
    if (le64_get(data + 5) != session)
        return "handshake: wrong session (another committee or another configuration)";
    memcpy(peer_nonce, data + 13, HS_NONCE_BYTES);
    return NULL;
}

static void transcript(uint8_t out[32], uint64_t session, const uint8_t signer_nonce[32],
                       const uint8_t verifier_nonce[32], uint32_t signer, uint32_t verifier)
{
    static const char tag[] = "aleph/handshake";
    uint8_t buf[8 + 32 + 32 + 4 + 4];
    le64_put(buf, session);
    memcpy(buf + 8, signer_nonce, 32);
    memcpy(buf + 40, verifier_nonce, 32);
    le32_put(buf + 72, signer);
    le32_put(buf + 76, verifier);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag);
    crypto_generichash_update(&st, buf, sizeof buf);
    crypto_generichash_final(&st, out, 32);
}

void handshake_auth(uint8_t out[HS_AUTH_BYTES], uint64_t session,
                    const uint8_t own_nonce[HS_NONCE_BYTES],
                    const uint8_t peer_nonce[HS_NONCE_BYTES], uint32_t own_index,
                    uint32_t peer_index, const uint8_t secret_key[64])
{
    uint8_t h[32];
    transcript(h, session, own_nonce, peer_nonce, own_index, peer_index);
    le32_put(out, own_index);
    le32_put(out + 4, peer_index);
    crypto_sign_detached(out + 8, NULL, h, 32, secret_key);
}

const char *handshake_auth_check(const uint8_t *data, size_t len, uint64_t session,
                                 const uint8_t own_nonce[HS_NONCE_BYTES],
                                 const uint8_t peer_nonce[HS_NONCE_BYTES], uint32_t own_index,
                                 uint32_t members, const uint8_t (*public_keys)[32],
                                 uint32_t expected_peer, uint32_t *peer_out)
{
    if (len != HS_AUTH_BYTES) return "handshake: malformed auth message";
    uint32_t signer = le32_get(data), target = le32_get(data + 4);
    if (signer >= members) return "handshake: member index outside the committee";
    if (signer == own_index) return "handshake: peer claims our own index";
    if (target != own_index) return "handshake: peer meant another member";
    if (expected_peer == UINT32_MAX) {
        if (signer > own_index) return "handshake: the higher index must not dial the lower";
    } else if (signer != expected_peer) {
        return "handshake: peer answered with another index than the one dialed";
    }
    uint8_t h[32];
    transcript(h, session, peer_nonce, own_nonce, signer, own_index);
    if (crypto_sign_verify_detached(data + 8, h, 32, public_keys[signer]) != 0)
        return "handshake: bad signature (wrong key for the claimed index)";
    *peer_out = signer;
    return NULL;
}

/* libFuzzer target: a member's side of the handshake (src/net/handshake.c) over the framing
 * of src/net/framing.c, as peer.c runs it on a connection: frames of at most HS_FRAME_MAX
 * bytes, the peer's HELLO, then its AUTH; anything wrong ends the connection. Whatever the
 * bytes, nothing crashes, and a peer is accepted only with a valid signature, by the key of
 * the index it claims, on this connection's transcript, with the index the dialing rule
 * allows (property checked here with libsodium directly).
 *
 * Input: byte 0: bit 0 dial (else accept), bits 1-2 the own index, bit 3: the harness signs
 * the peer's AUTH itself (with the key of the index it claims, over the nonces of this
 * connection), so that a fuzzer that cannot forge a signature still reaches the checks after
 * it; then the peer's byte stream, cut into reads of (byte 1 % 64 + 1) bytes. The committee
 * is the seed corpus's simulator run (fuzz_support.h): scripts/fuzz-corpus.sh writes real
 * hellos and auths of its session. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "net/framing.h"
#include "net/handshake.h"

typedef struct conn {
    int dial, sign;
    uint32_t own, dialed;
    uint64_t session;
    uint8_t own_nonce[HS_NONCE_BYTES], peer_nonce[HS_NONCE_BYTES];
    int state; /* 0: wants HELLO, 1: wants AUTH, 2: authenticated, 3: refused */
    const aleph_config *cfg;
    const aleph_secret *secrets;
} conn;

static int on_frame(void *ctx, const uint8_t *data, size_t len)
{
    conn *c = ctx;
    if (c->state == 0) {
        c->state = handshake_hello_check(data, len, c->session, c->peer_nonce) ? 3 : 1;
        return c->state == 3;
    }
    if (c->state != 1) return 1;
    uint8_t auth[HS_AUTH_BYTES];
    const uint8_t *msg = data;
    uint32_t signer = UINT32_MAX, target = UINT32_MAX;
    if (len == sizeof auth) {
        memcpy(auth, data, len);
        signer = (uint32_t)auth[0] | (uint32_t)auth[1] << 8 | (uint32_t)auth[2] << 16 |
                 (uint32_t)auth[3] << 24;
        target = (uint32_t)auth[4] | (uint32_t)auth[5] << 8 | (uint32_t)auth[6] << 16 |
                 (uint32_t)auth[7] << 24;
        if (c->sign && signer < FUZZ_SIM_MEMBERS)
            handshake_auth(auth, c->session, c->peer_nonce, c->own_nonce, signer, target,
                           c->secrets[signer].sign_secret_key);
        msg = auth;
    }
    uint32_t peer = UINT32_MAX;
    const char *why = handshake_auth_check(msg, len, c->session, c->own_nonce, c->peer_nonce,
                                           c->own, c->cfg->members, c->cfg->sign_public_keys,
                                           c->dial ? c->dialed : UINT32_MAX, &peer);
    if (why) {
        c->state = 3;
        return 1;
    }
    /* Accepted: the claimed index, allowed by the dialing rule, and a real signature. */
    if (peer != signer || peer >= FUZZ_SIM_MEMBERS || peer == c->own || target != c->own) abort();
    if (c->dial ? peer != c->dialed : peer > c->own) abort();
    static const char tag[] = "aleph/handshake";
    uint8_t t[8 + 32 + 32 + 4 + 4], h[32];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(c->session >> (8 * i));
    memcpy(t + 8, c->peer_nonce, 32);
    memcpy(t + 40, c->own_nonce, 32);
    memcpy(t + 72, auth, 4);
    memcpy(t + 76, auth + 4, 4);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag);
    crypto_generichash_update(&st, t, sizeof t);
    crypto_generichash_final(&st, h, 32);
    if (crypto_sign_verify_detached(auth + 8, h, 32, c->cfg->sign_public_keys[peer]) != 0)
        abort();
    c->state = 2;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static aleph_config cfg;
    static aleph_secret secrets[FUZZ_SIM_MEMBERS];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < FUZZ_SIM_MEMBERS; i++)
            fuzz_sim_committee(&cfg, &secrets[i], i, ALEPH_COIN_OFF);
        ready = 1;
    }
    conn c = {.dial = data[0] & 1, .sign = (data[0] >> 3) & 1, .own = (data[0] >> 1) & 3,
              .session = cfg.session, .cfg = &cfg, .secrets = secrets};
    /* The lower index dials: a dialer's peer is above it (the top member dials no one). */
    c.dialed = c.own + 1 < FUZZ_SIM_MEMBERS ? c.own + 1 : 0;
    memset(c.own_nonce, 0x5a, sizeof c.own_nonce);
    size_t step = (size_t)(data[1] % 64) + 1, off = 2;
    frame_reader r;
    frame_reader_init(&r, HS_FRAME_MAX);
    while (off < size && c.state < 2) {
        size_t n = size - off < step ? size - off : step;
        if (frame_reader_feed(&r, data + off, n, on_frame, &c, NULL) != FRAME_OK) break;
        off += n;
    }
    frame_reader_free(&r);
    return 0;
}

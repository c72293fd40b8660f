/*
 * Tests of the threshold coin (src/core/threshold_coin.c, docs/PROTOCOL.md section 5).
 *
 * The expected combined point is computed here independently of tc_combine: the test
 * interpolates the dealer's secret x from the secret shares with plain scalar arithmetic and
 * multiplies H2G(nonce), written out again from its definition, by it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "test_support.h"
#include "threshold_coin.h"

#define MEMBERS_N_MAX TC_MEMBERS_MAX

/* Large per-test tables live here rather than on the stack. */
static uint8_t g_sk[MEMBERS_N_MAX][32];
static uint8_t g_vk[MEMBERS_N_MAX][32];
static uint8_t g_shares[MEMBERS_N_MAX][TC_SHARE_BYTES];
static uint32_t g_indices[MEMBERS_N_MAX];
static uint8_t g_subset_shares[MEMBERS_N_MAX][TC_SHARE_BYTES];

static void seed_from_byte(uint8_t seed[32], uint8_t b)
{
    memset(seed, 0, 32);
    seed[0] = b;
    seed[31] = (uint8_t)(b ^ 0x5a);
}

static void deal_seeded(uint32_t n, uint32_t threshold, uint8_t seed_byte)
{
    uint8_t seed[32];
    seed_from_byte(seed, seed_byte);
    assert_int_equal(tc_deal(n, threshold, seed, g_sk, g_vk), 0);
}

static void create_all_shares(uint32_t n, const uint8_t *nonce, size_t nonce_len)
{
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(tc_share_create(g_sk[i], g_vk[i], nonce, nonce_len, g_shares[i]), 0);
    }
}

/* H2G from its definition: from_hash(BLAKE2b-512("aleph/h2g" || nonce)). */
static void reference_h2g(uint8_t out[32], const uint8_t *nonce, size_t nonce_len)
{
    uint8_t buf[256];
    uint8_t wide[64];
    assert_true(9 + nonce_len <= sizeof buf);
    memcpy(buf, "aleph/h2g", 9);
    memcpy(buf + 9, nonce, nonce_len);
    crypto_generichash(wide, sizeof wide, buf, 9 + nonce_len, NULL, 0);
    crypto_core_ristretto255_from_hash(out, wide);
}

static void reference_coin(uint8_t out[32], const uint8_t point[32])
{
    uint8_t buf[10 + 32];
    memcpy(buf, "aleph/coin", 10);
    memcpy(buf + 10, point, 32);
    crypto_generichash(out, 32, buf, sizeof buf, NULL, 0);
}

static void scalar_of(uint8_t out[32], uint32_t v)
{
    memset(out, 0, 32);
    out[0] = (uint8_t)v;
    out[1] = (uint8_t)(v >> 8);
    out[2] = (uint8_t)(v >> 16);
    out[3] = (uint8_t)(v >> 24);
}

/* x = p(0) interpolated from the secret shares of members indices[0..k-1], one field
 * operation at a time (no batching, unlike the library). */
static void reference_secret(uint8_t x_out[32], const uint32_t *indices, size_t k)
{
    uint8_t sum[32] = {0};
    for (size_t j = 0; j < k; j++) {
        uint8_t num[32];
        uint8_t den[32];
        uint8_t xj[32];
        scalar_of(num, 1);
        scalar_of(den, 1);
        scalar_of(xj, indices[j] + 1);
        for (size_t m = 0; m < k; m++) {
            if (m == j) {
                continue;
            }
            uint8_t xm[32];
            uint8_t diff[32];
            uint8_t t[32];
            scalar_of(xm, indices[m] + 1);
            crypto_core_ristretto255_scalar_mul(t, num, xm);
            memcpy(num, t, 32);
            crypto_core_ristretto255_scalar_sub(diff, xm, xj);
            crypto_core_ristretto255_scalar_mul(t, den, diff);
            memcpy(den, t, 32);
        }
        uint8_t inv[32];
        uint8_t lambda[32];
        uint8_t term[32];
        uint8_t t[32];
        assert_int_equal(crypto_core_ristretto255_scalar_invert(inv, den), 0);
        crypto_core_ristretto255_scalar_mul(lambda, num, inv);
        crypto_core_ristretto255_scalar_mul(term, lambda, g_sk[indices[j]]);
        crypto_core_ristretto255_scalar_add(t, sum, term);
        memcpy(sum, t, 32);
    }
    memcpy(x_out, sum, 32);
}

/* The true x*H2G(nonce) for the current deal, from all n secret shares. */
static void reference_point(uint8_t out[32], uint32_t n, const uint8_t *nonce, size_t nonce_len)
{
    uint32_t all[MEMBERS_N_MAX];
    for (uint32_t i = 0; i < n; i++) {
        all[i] = i;
    }
    uint8_t x[32];
    uint8_t h[32];
    reference_secret(x, all, n);
    reference_h2g(h, nonce, nonce_len);
    assert_int_equal(crypto_scalarmult_ristretto255(out, x, h), 0);
}

/* Combines the shares of the members whose bits are set in mask (n <= 32). */
static int combine_mask(uint32_t mask, uint32_t n, uint8_t point[32], size_t *k_out)
{
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (mask & (1u << i)) {
            g_indices[k] = i;
            memcpy(g_subset_shares[k], g_shares[i], TC_SHARE_BYTES);
            k++;
        }
    }
    *k_out = k;
    return tc_combine(g_indices, (const uint8_t(*)[TC_SHARE_BYTES])g_subset_shares, k, point);
}

static unsigned popcount32(uint32_t v)
{
    unsigned c = 0;
    for (; v; v &= v - 1) {
        c++;
    }
    return c;
}

/* ---- Dealing -------------------------------------------------------------------------------- */

static void test_deal_rejects_bad_parameters(void **state)
{
    (void)state;
    uint8_t seed[32];
    seed_from_byte(seed, 1);
    assert_int_equal(tc_deal(0, 0, seed, g_sk, g_vk), -1);
    assert_int_equal(tc_deal(4, 0, seed, g_sk, g_vk), -1);
    assert_int_equal(tc_deal(4, 5, seed, g_sk, g_vk), -1);
    assert_int_equal(tc_deal(MEMBERS_N_MAX + 1, 2, seed, g_sk, g_vk), -1);
    assert_int_equal(tc_deal(4, 2, seed, NULL, g_vk), -1);
    assert_int_equal(tc_deal(4, 2, seed, g_sk, NULL), -1);
    assert_int_equal(tc_deal(1, 1, seed, g_sk, g_vk), 0);
    assert_int_equal(tc_deal(4, 4, seed, g_sk, g_vk), 0);
}

static void test_deal_deterministic_with_seed(void **state)
{
    (void)state;
    static uint8_t sk2[16][32], vk2[16][32];
    uint8_t seed[32];

    seed_from_byte(seed, 7);
    assert_int_equal(tc_deal(16, 6, seed, g_sk, g_vk), 0);
    assert_int_equal(tc_deal(16, 6, seed, sk2, vk2), 0);
    assert_memory_equal(g_sk, sk2, sizeof sk2);
    assert_memory_equal(g_vk, vk2, sizeof vk2);

    /* Another seed, another polynomial: no share or key in common. */
    seed[5] ^= 1;
    assert_int_equal(tc_deal(16, 6, seed, sk2, vk2), 0);
    for (int i = 0; i < 16; i++) {
        assert_memory_not_equal(g_sk[i], sk2[i], 32);
        assert_memory_not_equal(g_vk[i], vk2[i], 32);
    }

    /* Without a seed, two deals differ. */
    assert_int_equal(tc_deal(16, 6, NULL, g_sk, g_vk), 0);
    assert_int_equal(tc_deal(16, 6, NULL, sk2, vk2), 0);
    assert_memory_not_equal(g_vk[0], vk2[0], 32);
}

static void test_deal_keys_match_shares(void **state)
{
    (void)state;
    for (int seeded = 0; seeded < 2; seeded++) {
        uint8_t seed[32];
        seed_from_byte(seed, 3);
        assert_int_equal(tc_deal(10, 4, seeded ? seed : NULL, g_sk, g_vk), 0);
        for (int i = 0; i < 10; i++) {
            uint8_t x_g[32];
            assert_int_equal(crypto_scalarmult_ristretto255_base(x_g, g_sk[i]), 0);
            assert_memory_equal(x_g, g_vk[i], 32);
            assert_int_equal(tc_point_valid(g_vk[i]), 1);
            for (int j = 0; j < i; j++) {
                assert_memory_not_equal(g_sk[i], g_sk[j], 32);
            }
        }
    }
}

/* The seeded deal follows its documented derivation, so that a seed names the same committee
 * in every build: coefficient j = reduce(BLAKE2b-512 keyed with seed over "aleph/coin-deal" ||
 * j as 4 bytes little-endian), member i holds p(i+1). */
static void test_deal_matches_documented_derivation(void **state)
{
    (void)state;
    const uint32_t n = 5, threshold = 3;
    uint8_t seed[32];
    seed_from_byte(seed, 9);
    assert_int_equal(tc_deal(n, threshold, seed, g_sk, g_vk), 0);
    uint8_t coef[3][32];
    for (uint32_t j = 0; j < threshold; j++) {
        uint8_t msg[15 + 4], wide[64];
        memcpy(msg, "aleph/coin-deal", 15);
        msg[15] = (uint8_t)j;
        msg[16] = msg[17] = msg[18] = 0;
        crypto_generichash(wide, sizeof wide, msg, sizeof msg, seed, 32);
        crypto_core_ristretto255_scalar_reduce(coef[j], wide);
    }
    for (uint32_t i = 0; i < n; i++) {
        /* a0 + a1*x + a2*x^2 at x = i+1. */
        uint8_t x[32], x2[32], t1[32], t2[32], sum[32], expected[32];
        scalar_of(x, i + 1);
        crypto_core_ristretto255_scalar_mul(x2, x, x);
        crypto_core_ristretto255_scalar_mul(t1, coef[1], x);
        crypto_core_ristretto255_scalar_mul(t2, coef[2], x2);
        crypto_core_ristretto255_scalar_add(sum, coef[0], t1);
        crypto_core_ristretto255_scalar_add(expected, sum, t2);
        assert_memory_equal(g_sk[i], expected, 32);
    }
}

/* A degree-(threshold-1) polynomial: interpolating threshold+1 points of it from the secret
 * shares must agree with interpolating any other threshold of them. */
static void test_deal_polynomial_degree(void **state)
{
    (void)state;
    deal_seeded(9, 4, 11);
    uint32_t a[4] = {0, 1, 2, 3};
    uint32_t b[4] = {8, 6, 4, 2};
    uint32_t c[3] = {0, 4, 8};
    uint8_t xa[32], xb[32], xc[32];
    reference_secret(xa, a, 4);
    reference_secret(xb, b, 4);
    reference_secret(xc, c, 3);
    assert_memory_equal(xa, xb, 32);
    assert_memory_not_equal(xa, xc, 32);
    assert_int_equal(sodium_is_zero(xa, 32), 0);
}

/* ---- Shares and proofs ---------------------------------------------------------------------- */

static void test_valid_shares_verify(void **state)
{
    (void)state;
    deal_seeded(7, 3, 21);
    const char *nonces[] = {"", "r", "session 5 round 1", "session 5 round 2"};
    for (size_t t = 0; t < sizeof nonces / sizeof nonces[0]; t++) {
        const uint8_t *nonce = (const uint8_t *)nonces[t];
        size_t len = strlen(nonces[t]);
        create_all_shares(7, nonce, len);
        for (int i = 0; i < 7; i++) {
            assert_int_equal(tc_share_verify(g_vk[i], nonce, len, g_shares[i]), 1);
            /* Deterministic: the same share every time. */
            uint8_t again[TC_SHARE_BYTES];
            assert_int_equal(tc_share_create(g_sk[i], g_vk[i], nonce, len, again), 0);
            assert_memory_equal(again, g_shares[i], TC_SHARE_BYTES);
            /* S is x_i * H2G(nonce). */
            uint8_t h[32], s_point[32];
            reference_h2g(h, nonce, len);
            assert_int_equal(crypto_scalarmult_ristretto255(s_point, g_sk[i], h), 0);
            assert_memory_equal(s_point, g_shares[i], 32);
        }
    }
    /* An empty nonce may be passed as NULL. */
    uint8_t share[TC_SHARE_BYTES];
    assert_int_equal(tc_share_create(g_sk[0], g_vk[0], NULL, 0, share), 0);
    assert_int_equal(tc_share_verify(g_vk[0], NULL, 0, share), 1);
    assert_int_equal(tc_share_verify(g_vk[0], (const uint8_t *)"", 0, share), 1);
}

static void test_tampered_shares_fail(void **state)
{
    (void)state;
    deal_seeded(7, 3, 22);
    const uint8_t nonce[] = "session 1 round 9";
    const size_t len = sizeof nonce - 1;
    create_all_shares(7, nonce, len);
    const uint8_t *good = g_shares[2];
    assert_int_equal(tc_share_verify(g_vk[2], nonce, len, good), 1);

    /* Any single changed bit: low and high bit of every byte. */
    for (int byte = 0; byte < TC_SHARE_BYTES; byte++) {
        for (int bit = 0; bit < 8; bit += 7) {
            uint8_t bad[TC_SHARE_BYTES];
            memcpy(bad, good, sizeof bad);
            bad[byte] ^= (uint8_t)(1u << bit);
            assert_int_equal(tc_share_verify(g_vk[2], nonce, len, bad), 0);
        }
    }

    /* c + 1 and s + 1 stay canonical scalars, so only the proof check can catch them. */
    uint8_t one[32];
    scalar_of(one, 1);
    for (int off = 32; off <= 64; off += 32) {
        uint8_t bad[TC_SHARE_BYTES];
        memcpy(bad, good, sizeof bad);
        crypto_core_ristretto255_scalar_add(bad + off, good + off, one);
        assert_int_equal(tc_share_verify(g_vk[2], nonce, len, bad), 0);
    }

    /* S moved to another valid point, with the proof left as it was. */
    {
        uint8_t bad[TC_SHARE_BYTES];
        uint8_t g[32];
        memcpy(bad, good, sizeof bad);
        assert_int_equal(crypto_scalarmult_ristretto255_base(g, one), 0);
        assert_int_equal(crypto_core_ristretto255_add(bad, good, g), 0);
        assert_int_equal(tc_point_valid(bad), 1);
        assert_int_equal(tc_share_verify(g_vk[2], nonce, len, bad), 0);
    }

    /* Another member's S under this member's proof, and whole shares swapped between keys. */
    {
        uint8_t bad[TC_SHARE_BYTES];
        memcpy(bad, good, sizeof bad);
        memcpy(bad, g_shares[3], 32);
        assert_int_equal(tc_share_verify(g_vk[2], nonce, len, bad), 0);
    }
    for (int i = 0; i < 7; i++) {
        for (int j = 0; j < 7; j++) {
            assert_int_equal(tc_share_verify(g_vk[i], nonce, len, g_shares[j]), i == j);
        }
    }

    /* The share is bound to its nonce. */
    uint8_t other[sizeof nonce];
    memcpy(other, nonce, sizeof other);
    other[len - 1] ^= 1;
    assert_int_equal(tc_share_verify(g_vk[2], other, len, good), 0);
    assert_int_equal(tc_share_verify(g_vk[2], nonce, len - 1, good), 0);
    assert_int_equal(tc_share_verify(g_vk[2], nonce, len + 1, good), 0);
    assert_int_equal(tc_share_verify(g_vk[2], NULL, 0, good), 0);
    assert_int_equal(tc_share_verify(g_vk[2], NULL, len, good), 0);

    /* Zero c or s are refused before any arithmetic. */
    for (int off = 32; off <= 64; off += 32) {
        uint8_t bad[TC_SHARE_BYTES];
        memcpy(bad, good, sizeof bad);
        memset(bad + off, 0, 32);
        assert_int_equal(tc_share_verify(g_vk[2], nonce, len, bad), 0);
    }
}

static void test_noncanonical_proof_scalars_fail(void **state)
{
    (void)state;
    deal_seeded(4, 2, 23);
    const uint8_t nonce[] = "n";
    create_all_shares(4, nonce, 1);
    const uint8_t *good = g_shares[0];
    /* c + L and s + L are the same residues as c and s, so a verifier that reduced them
     * would accept; they must be refused as non-canonical. */
    static const uint8_t order[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
        0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10,
    };
    for (int off = 32; off <= 64; off += 32) {
        uint8_t bad[TC_SHARE_BYTES];
        memcpy(bad, good, sizeof bad);
        unsigned carry = 0;
        for (int i = 0; i < 32; i++) {
            unsigned v = (unsigned)good[off + i] + order[i] + carry;
            bad[off + i] = (uint8_t)v;
            carry = v >> 8;
        }
        /* c, L < 2^253, so c + L fits in 32 bytes. */
        assert_int_equal(carry, 0);
        uint8_t reduced[32], wide[64] = {0};
        memcpy(wide, bad + off, 32);
        crypto_core_ristretto255_scalar_reduce(reduced, wide);
        assert_memory_equal(reduced, good + off, 32);
        assert_int_equal(tc_share_verify(g_vk[0], nonce, 1, bad), 0);
    }
    /* L itself and all-0xff are not scalars either. */
    uint8_t bad[TC_SHARE_BYTES];
    memcpy(bad, good, sizeof bad);
    memcpy(bad + 64, order, 32);
    assert_int_equal(tc_share_verify(g_vk[0], nonce, 1, bad), 0);
    memset(bad + 32, 0xff, 32);
    assert_int_equal(tc_share_verify(g_vk[0], nonce, 1, bad), 0);
}

static void test_share_create_rejects_bad_secret(void **state)
{
    (void)state;
    deal_seeded(4, 2, 24);
    const uint8_t nonce[] = "round 3";
    uint8_t out[TC_SHARE_BYTES];
    uint8_t secret[32];

    memset(secret, 0, sizeof secret);
    memset(out, 0xaa, sizeof out);
    assert_int_equal(tc_share_create(secret, g_vk[0], nonce, 7, out), -1);
    /* Nothing usable is left behind on failure. */
    for (size_t i = 0; i < sizeof out; i++) {
        assert_int_equal(out[i], 0);
    }

    /* L (non-canonical zero) and all-0xff. */
    static const uint8_t order[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
        0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10,
    };
    assert_int_equal(tc_share_create(order, g_vk[0], nonce, 7, out), -1);
    memset(secret, 0xff, sizeof secret);
    assert_int_equal(tc_share_create(secret, g_vk[0], nonce, 7, out), -1);

    /* A key that is not this secret's: refused, since a proof under a wrong key both fails
     * everywhere and, reusing the deterministic proof nonce, would leak the secret. */
    assert_int_equal(tc_share_create(g_sk[0], g_vk[1], nonce, 7, out), -1);
    uint8_t bad_key[32];
    memset(bad_key, 0xff, sizeof bad_key);
    assert_int_equal(tc_share_create(g_sk[0], bad_key, nonce, 7, out), -1);
    assert_int_equal(tc_share_create(g_sk[0], g_vk[0], NULL, 7, out), -1);
    assert_int_equal(tc_share_create(g_sk[0], g_vk[0], nonce, 7, out), 0);
}

/* ---- Point encodings ------------------------------------------------------------------------ */

/* Encodings that are not a valid non-identity ristretto255 element. */
static const uint8_t bad_points[][32] = {
    /* all 0xff */
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
    /* the identity (all zero): valid ristretto255, but refused as a key or share */
    {0},
    /* p = 2^255 - 19: a field element that is not reduced */
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    /* p + 1, the non-canonical encoding of 1 */
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    /* 1: a negative field element, never the ristretto255 encoding */
    {1},
    /* the identity with bit 255 set, which libsodium 1.0.18 alone decodes as the identity */
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80},
};

static void test_invalid_points_rejected(void **state)
{
    (void)state;
    deal_seeded(4, 2, 25);
    const uint8_t nonce[] = "x";
    create_all_shares(4, nonce, 1);
    assert_int_equal(tc_point_valid(g_vk[0]), 1);
    assert_int_equal(tc_point_valid(g_shares[0]), 1);
    assert_int_equal(tc_point_valid(NULL), 0);

    for (size_t b = 0; b < sizeof bad_points / sizeof bad_points[0]; b++) {
        assert_int_equal(tc_point_valid(bad_points[b]), 0);
        /* As a verification key. */
        assert_int_equal(tc_share_verify(bad_points[b], nonce, 1, g_shares[0]), 0);
        /* As the share's point. */
        uint8_t bad[TC_SHARE_BYTES];
        memcpy(bad, g_shares[0], sizeof bad);
        memcpy(bad, bad_points[b], 32);
        assert_int_equal(tc_share_verify(g_vk[0], nonce, 1, bad), 0);
        /* In a combination. */
        uint32_t idx[2] = {0, 1};
        uint8_t two[2][TC_SHARE_BYTES];
        memcpy(two[0], bad, TC_SHARE_BYTES);
        memcpy(two[1], g_shares[1], TC_SHARE_BYTES);
        uint8_t point[32];
        assert_int_equal(tc_combine(idx, (const uint8_t(*)[TC_SHARE_BYTES])two, 2, point), -1);
    }

    /* A valid point with its top bit set is a non-canonical encoding of it. */
    uint8_t high[32];
    memcpy(high, g_vk[0], 32);
    high[31] |= 0x80;
    assert_int_equal(tc_point_valid(high), 0);
    assert_int_equal(tc_share_verify(high, nonce, 1, g_shares[0]), 0);

    /* A member can prove over any encoding of its own S, so a second encoding would give it a
     * second valid share for the same nonce. Build a correct proof over S with bit 255 set (and,
     * as a control, over S itself) and check that only the canonical one is accepted. */
    for (int set_high = 0; set_high < 2; set_high++) {
        uint8_t share[TC_SHARE_BYTES], h[32], k[32], a[32], b[32], wide[64], cx[32];
        uint8_t buf[8 + 5 * 32];
        memcpy(share, g_shares[0], 32);
        share[31] |= (uint8_t)(set_high << 7);
        reference_h2g(h, nonce, 1);
        crypto_core_ristretto255_scalar_random(k);
        assert_int_equal(crypto_scalarmult_ristretto255_base(a, k), 0);
        assert_int_equal(crypto_scalarmult_ristretto255(b, k, h), 0);
        memcpy(buf, "aleph/cp", 8);
        memcpy(buf + 8, g_vk[0], 32);
        memcpy(buf + 40, h, 32);
        memcpy(buf + 72, share, 32);
        memcpy(buf + 104, a, 32);
        memcpy(buf + 136, b, 32);
        crypto_generichash(wide, sizeof wide, buf, sizeof buf, NULL, 0);
        crypto_core_ristretto255_scalar_reduce(share + 32, wide);
        crypto_core_ristretto255_scalar_mul(cx, share + 32, g_sk[0]);
        crypto_core_ristretto255_scalar_add(share + 64, k, cx);
        assert_int_equal(tc_share_verify(g_vk[0], nonce, 1, share), !set_high);
    }
}

static void test_verify_survives_arbitrary_bytes(void **state)
{
    (void)state;
    deal_seeded(4, 2, 26);
    const uint8_t nonce[] = "fuzz";
    create_all_shares(4, nonce, 4);
    uint8_t share[TC_SHARE_BYTES];
    uint8_t key[32];
    unsigned valid_keys = 0;
    for (int i = 0; i < 500; i++) {
        randombytes_buf(share, sizeof share);
        assert_int_equal(tc_share_verify(g_vk[0], nonce, 4, share), 0);
        /* A real point with random proof scalars (top bits cleared so they may be canonical). */
        memcpy(share, g_shares[0], 32);
        share[63] &= 0x0f;
        share[95] &= 0x0f;
        assert_int_equal(tc_share_verify(g_vk[0], nonce, 4, share), 0);
        randombytes_buf(key, sizeof key);
        valid_keys += (unsigned)tc_point_valid(key);
        assert_int_equal(tc_share_verify(key, nonce, 4, g_shares[0]), 0);
    }
    /* Roughly 1 in 16 random strings encodes a point; none may pass as a key for the share
     * above, but some must be accepted as points or tc_point_valid rejects everything. */
    assert_true(valid_keys > 0);
}

/* ---- Combination ---------------------------------------------------------------------------- */

static void check_all_subsets(uint32_t n, uint32_t threshold, uint8_t seed_byte)
{
    deal_seeded(n, threshold, seed_byte);
    const uint8_t nonce[] = "session 42 round 17";
    const size_t len = sizeof nonce - 1;
    create_all_shares(n, nonce, len);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(tc_share_verify(g_vk[i], nonce, len, g_shares[i]), 1);
    }

    uint8_t truth[32], truth_coin[32];
    reference_point(truth, n, nonce, len);
    reference_coin(truth_coin, truth);

    unsigned at_threshold = 0, below = 0, above = 0;
    for (uint32_t mask = 1; mask < (1u << n); mask++) {
        unsigned size = popcount32(mask);
        if (size + 1 < threshold) {
            continue;
        }
        uint8_t point[32], coin[32];
        size_t k;
        assert_int_equal(combine_mask(mask, n, point, &k), 0);
        tc_coin_value(point, coin);
        if (size >= threshold) {
            assert_memory_equal(point, truth, 32);
            assert_memory_equal(coin, truth_coin, 32);
            if (size == threshold) {
                at_threshold++;
            } else {
                above++;
            }
        } else {
            /* threshold-1 shares: a point, but not the coin's. */
            assert_memory_not_equal(point, truth, 32);
            assert_memory_not_equal(coin, truth_coin, 32);
            below++;
        }
    }
    /* C(n, threshold) and C(n, threshold-1) subsets were really checked. */
    unsigned long c_t = 1, c_t1 = 1;
    for (uint32_t i = 0; i < threshold; i++) {
        c_t = c_t * (n - i) / (i + 1);
    }
    for (uint32_t i = 0; i + 1 < threshold; i++) {
        c_t1 = c_t1 * (n - i) / (i + 1);
    }
    assert_int_equal(at_threshold, c_t);
    assert_int_equal(below, threshold > 1 ? c_t1 : 0);
    assert_true(above > 0);

    /* The order in which the shares are passed does not matter. */
    uint32_t idx[3] = {n - 1, 0, n / 2};
    uint8_t three[3][TC_SHARE_BYTES];
    for (int j = 0; j < 3; j++) {
        memcpy(three[j], g_shares[idx[j]], TC_SHARE_BYTES);
    }
    if (threshold <= 3) {
        uint8_t point[32];
        assert_int_equal(tc_combine(idx, (const uint8_t(*)[TC_SHARE_BYTES])three, 3, point), 0);
        assert_memory_equal(point, truth, 32);
    }
}

static void test_combine_every_subset_n7_t3(void **state)
{
    (void)state;
    check_all_subsets(7, 3, 31);
}

static void test_combine_every_subset_n10_t4(void **state)
{
    (void)state;
    check_all_subsets(10, 4, 32);
}

static void test_combine_threshold_one(void **state)
{
    (void)state;
    check_all_subsets(5, 1, 33);
    /* A constant polynomial: every member holds x, every share's point is x*H. */
    for (int i = 1; i < 5; i++) {
        assert_memory_equal(g_sk[i], g_sk[0], 32);
        assert_memory_equal(g_shares[i], g_shares[0], 32);
    }
}

static void test_combine_different_nonces_differ(void **state)
{
    (void)state;
    deal_seeded(4, 2, 34);
    uint8_t points[2][32];
    const char *nonces[2] = {"round 1", "round 2"};
    for (int t = 0; t < 2; t++) {
        create_all_shares(4, (const uint8_t *)nonces[t], 7);
        size_t k;
        assert_int_equal(combine_mask(0x5, 4, points[t], &k), 0);
    }
    assert_memory_not_equal(points[0], points[1], 32);
}

/* The largest committee: f = 341, threshold 342, x-coordinates up to 1024, so the Lagrange
 * weights use the largest factors the library batches. */
static void test_combine_largest_committee(void **state)
{
    (void)state;
    const uint32_t n = MEMBERS_N_MAX, f = (MEMBERS_N_MAX - 1) / 3, threshold = f + 1;
    deal_seeded(n, threshold, 35);
    const uint8_t nonce[] = "big";
    create_all_shares(n, nonce, 3);

    uint8_t truth[32], x[32], h[32];
    for (uint32_t i = 0; i < threshold; i++) {
        g_indices[i] = i;
    }
    reference_secret(x, g_indices, threshold);
    reference_h2g(h, nonce, 3);
    assert_int_equal(crypto_scalarmult_ristretto255(truth, x, h), 0);

    /* First, last and spread-out threshold-sized subsets, and one short by a share. */
    for (int pattern = 0; pattern < 4; pattern++) {
        size_t k = pattern == 3 ? threshold - 1 : threshold;
        for (uint32_t j = 0; j < k; j++) {
            uint32_t idx = pattern == 0 ? j : pattern == 1 ? n - 1 - j : pattern == 2 ? 3 * j : j;
            g_indices[j] = idx;
            memcpy(g_subset_shares[j], g_shares[idx], TC_SHARE_BYTES);
        }
        uint8_t point[32];
        assert_int_equal(
            tc_combine(g_indices, (const uint8_t(*)[TC_SHARE_BYTES])g_subset_shares, k, point), 0);
        if (pattern == 3) {
            assert_memory_not_equal(point, truth, 32);
        } else {
            assert_memory_equal(point, truth, 32);
        }
    }
}

static void test_combine_rejects_bad_input(void **state)
{
    (void)state;
    deal_seeded(4, 2, 36);
    const uint8_t nonce[] = "d";
    create_all_shares(4, nonce, 1);
    uint8_t point[32];
    const uint8_t(*shares)[TC_SHARE_BYTES] = (const uint8_t(*)[TC_SHARE_BYTES])g_shares;

    uint32_t dup[3] = {0, 1, 0};
    assert_int_equal(tc_combine(dup, shares, 3, point), -1);
    uint32_t dup2[2] = {2, 2};
    assert_int_equal(tc_combine(dup2, shares, 2, point), -1);
    uint32_t ok[2] = {0, 1};
    assert_int_equal(tc_combine(ok, shares, 0, point), -1);
    assert_int_equal(tc_combine(NULL, shares, 2, point), -1);
    assert_int_equal(tc_combine(ok, NULL, 2, point), -1);
    assert_int_equal(tc_combine(ok, shares, 2, NULL), -1);
    uint32_t out_of_range[2] = {0, MEMBERS_N_MAX};
    assert_int_equal(tc_combine(out_of_range, shares, 2, point), -1);
    /* UINT32_MAX + 1 would wrap to x-coordinate 0, the point being interpolated. */
    uint32_t wrap[2] = {0, UINT32_MAX};
    assert_int_equal(tc_combine(wrap, shares, 2, point), -1);
    assert_int_equal(tc_combine(ok, shares, 2, point), 0);
}

/* ---- The coin value ------------------------------------------------------------------------- */

static void test_coin_value_definition(void **state)
{
    (void)state;
    deal_seeded(4, 2, 37);
    create_all_shares(4, (const uint8_t *)"c", 1);
    uint8_t mine[32], expected[32], other[32];
    tc_coin_value(g_shares[0], mine);
    reference_coin(expected, g_shares[0]);
    assert_memory_equal(mine, expected, 32);
    tc_coin_value(g_shares[1], other);
    assert_memory_not_equal(mine, other, 32);
}

/*
 * Balance. With the coin a random oracle on distinct points, each bit of the value is an
 * independent fair coin, so over 2000 nonces the count of ones is Binomial(2000, 1/2): mean
 * 1000, standard deviation 22.4. P(count < 900 or count > 1100) = 6.9e-6 (exact binomial
 * tail, 4.47 standard deviations) < 1e-5 per bit; with 8 bits checked the union bound gives
 * 5.5e-5 for a correct coin. The deal is seeded, so the run is reproducible anyway; the bound
 * says a correct implementation fails it for almost no seed. A constant or biased coin (e.g.
 * hashing the nonce instead of the point, or a combination that ignored the shares) would
 * still pass, which is what the subset tests above are for; this catches a value that is
 * stuck or badly skewed.
 */
static void test_coin_balance(void **state)
{
    (void)state;
    deal_seeded(4, 2, 38);
    unsigned ones[8] = {0};
    const unsigned rounds = 2000;
    for (unsigned r = 0; r < rounds; r++) {
        uint8_t nonce[12] = {'b', 'a', 'l', 'a', 'n', 'c', 'e', ':'};
        nonce[8] = (uint8_t)r;
        nonce[9] = (uint8_t)(r >> 8);
        nonce[10] = (uint8_t)(r >> 16);
        nonce[11] = (uint8_t)(r >> 24);
        /* Rotate through the pairs of members so every share takes part. */
        uint32_t idx[2] = {r % 4, (r + 1 + (r / 4) % 3) % 4};
        uint8_t two[2][TC_SHARE_BYTES];
        for (int j = 0; j < 2; j++) {
            assert_int_equal(
                tc_share_create(g_sk[idx[j]], g_vk[idx[j]], nonce, sizeof nonce, two[j]), 0);
        }
        uint8_t point[32], value[32];
        assert_int_equal(tc_combine(idx, (const uint8_t(*)[TC_SHARE_BYTES])two, 2, point), 0);
        tc_coin_value(point, value);
        for (int bit = 0; bit < 8; bit++) {
            ones[bit] += (value[0] >> bit) & 1u;
        }
    }
    for (int bit = 0; bit < 8; bit++) {
        if (ones[bit] < 900 || ones[bit] > 1100) {
            print_error("bit %d of byte 0 was 1 in %u of %u coins\n", bit, ones[bit], rounds);
        }
        assert_in_range(ones[bit], 900, 1100);
    }
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deal_rejects_bad_parameters),
        cmocka_unit_test(test_deal_deterministic_with_seed),
        cmocka_unit_test(test_deal_keys_match_shares),
        cmocka_unit_test(test_deal_matches_documented_derivation),
        cmocka_unit_test(test_deal_polynomial_degree),
        cmocka_unit_test(test_valid_shares_verify),
        cmocka_unit_test(test_tampered_shares_fail),
        cmocka_unit_test(test_noncanonical_proof_scalars_fail),
        cmocka_unit_test(test_share_create_rejects_bad_secret),
        cmocka_unit_test(test_invalid_points_rejected),
        cmocka_unit_test(test_verify_survives_arbitrary_bytes),
        cmocka_unit_test(test_combine_every_subset_n7_t3),
        cmocka_unit_test(test_combine_every_subset_n10_t4),
        cmocka_unit_test(test_combine_threshold_one),
        cmocka_unit_test(test_combine_different_nonces_differ),
        cmocka_unit_test(test_combine_largest_committee),
        cmocka_unit_test(test_combine_rejects_bad_input),
        cmocka_unit_test(test_coin_value_definition),
        cmocka_unit_test(test_coin_balance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

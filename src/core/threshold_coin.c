/*
 * Threshold coin on ristretto255 (docs/PROTOCOL.md section 5). See threshold_coin.h for the
 * construction. Secret scalars only ever go through libsodium's constant-time scalar and
 * point operations, and every secret temporary is wiped before return.
 */
#include "threshold_coin.h"

#include <string.h>

#include <sodium.h>

static const char TAG_H2G[] = "aleph/h2g";
static const char TAG_CP[] = "aleph/cp";
static const char TAG_CP_NONCE[] = "aleph/cp-nonce";
static const char TAG_DEAL[] = "aleph/coin-deal";
static const char TAG_COIN[] = "aleph/coin";

/* The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t GROUP_ORDER[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* 1 if s < L. Runs in constant time because it is also applied to secret shares; the loop
 * walks from the most significant byte and keeps only the first difference. */
static int scalar_is_canonical(const uint8_t s[32])
{
    uint32_t less = 0;
    uint32_t equal_so_far = 1;
    for (int i = 31; i >= 0; i--) {
        uint32_t a = s[i];
        uint32_t b = GROUP_ORDER[i];
        /* a - b wraps to 0xffffff.. exactly when a < b. */
        less |= ((a - b) >> 8) & 1u & equal_so_far;
        /* (a ^ b) - 1 wraps exactly when a == b. */
        equal_so_far &= (((a ^ b) - 1u) >> 8) & 1u;
    }
    return (int)less;
}

static void scalar_from_u64(uint8_t out[32], uint64_t v)
{
    memset(out, 0, 32);
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(v >> (8 * i));
    }
}

static void hash_to_group(uint8_t point_out[32], const uint8_t *nonce, size_t nonce_len)
{
    uint8_t wide[crypto_core_ristretto255_HASHBYTES];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof wide);
    crypto_generichash_update(&st, (const uint8_t *)TAG_H2G, sizeof TAG_H2G - 1);
    if (nonce_len > 0) {
        crypto_generichash_update(&st, nonce, nonce_len);
    }
    crypto_generichash_final(&st, wide, sizeof wide);
    crypto_core_ristretto255_from_hash(point_out, wide);
}

/* Fiat-Shamir challenge of the Chaum-Pedersen proof. Every input has a fixed length, so the
 * concatenation is unambiguous. */
static void cp_challenge(uint8_t c_out[32], const uint8_t vk[32], const uint8_t h[32],
                         const uint8_t s_point[32], const uint8_t a[32], const uint8_t b[32])
{
    uint8_t wide[64];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof wide);
    crypto_generichash_update(&st, (const uint8_t *)TAG_CP, sizeof TAG_CP - 1);
    crypto_generichash_update(&st, vk, 32);
    crypto_generichash_update(&st, h, 32);
    crypto_generichash_update(&st, s_point, 32);
    crypto_generichash_update(&st, a, 32);
    crypto_generichash_update(&st, b, 32);
    crypto_generichash_final(&st, wide, sizeof wide);
    crypto_core_ristretto255_scalar_reduce(c_out, wide);
}

/* Coefficient j of the dealer's polynomial. */
static void deal_coefficient(uint8_t out[32], const uint8_t *seed, uint32_t j)
{
    if (seed == NULL) {
        crypto_core_ristretto255_scalar_random(out);
        return;
    }
    uint8_t wide[64];
    uint8_t index[4] = {(uint8_t)j, (uint8_t)(j >> 8), (uint8_t)(j >> 16), (uint8_t)(j >> 24)};
    crypto_generichash_state st;
    crypto_generichash_init(&st, seed, 32, sizeof wide);
    crypto_generichash_update(&st, (const uint8_t *)TAG_DEAL, sizeof TAG_DEAL - 1);
    crypto_generichash_update(&st, index, sizeof index);
    crypto_generichash_final(&st, wide, sizeof wide);
    crypto_core_ristretto255_scalar_reduce(out, wide);
    sodium_memzero(wide, sizeof wide);
    sodium_memzero(&st, sizeof st);
}

int tc_deal(uint32_t n, uint32_t threshold, const uint8_t seed[32], uint8_t (*secret_shares)[32],
            uint8_t (*verification_keys)[32])
{
    if (secret_shares == NULL || verification_keys == NULL || n == 0 || n > TC_MEMBERS_MAX ||
        threshold == 0 || threshold > n) {
        return -1;
    }
    /* Horner's rule run for all members at once, highest coefficient first, so only one
     * coefficient exists at a time and nothing of size threshold sits on the stack. */
    uint8_t coefficient[32];
    uint8_t x[32];
    uint8_t product[32];
    memset(secret_shares, 0, (size_t)n * 32);
    for (uint32_t j = threshold; j-- > 0;) {
        deal_coefficient(coefficient, seed, j);
        for (uint32_t i = 0; i < n; i++) {
            scalar_from_u64(x, (uint64_t)i + 1);
            crypto_core_ristretto255_scalar_mul(product, secret_shares[i], x);
            crypto_core_ristretto255_scalar_add(secret_shares[i], product, coefficient);
        }
    }
    sodium_memzero(coefficient, sizeof coefficient);
    sodium_memzero(product, sizeof product);

    int rc = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* Fails only for a zero share, which would make X_i the identity. */
        if (crypto_scalarmult_ristretto255_base(verification_keys[i], secret_shares[i]) != 0) {
            rc = -1;
            break;
        }
    }
    if (rc != 0) {
        sodium_memzero(secret_shares, (size_t)n * 32);
        memset(verification_keys, 0, (size_t)n * 32);
    }
    return rc;
}

int tc_point_valid(const uint8_t point[32])
{
    if (point == NULL) {
        return 0;
    }
    /* libsodium 1.0.18 ignores bit 255 when decoding, so without the explicit test every
     * point (the identity included, as 00..0080) would have a second, non-canonical encoding.
     * is_valid_point also accepts the identity (all zeros); a key or share equal to it would
     * make every proof about it trivial, so it is refused here. */
    return (point[31] & 0x80) == 0 && crypto_core_ristretto255_is_valid_point(point) == 1 &&
           !sodium_is_zero(point, 32);
}

int tc_share_create(const uint8_t secret_share[32], const uint8_t verification_key[32],
                    const uint8_t *nonce, size_t nonce_len, uint8_t share_out[TC_SHARE_BYTES])
{
    if (secret_share == NULL || verification_key == NULL || share_out == NULL ||
        (nonce == NULL && nonce_len > 0)) {
        return -1;
    }
    memset(share_out, 0, TC_SHARE_BYTES);
    /* Bitwise | so that the zero test runs whatever the canonicity test says. */
    int unusable = (scalar_is_canonical(secret_share) ^ 1) | sodium_is_zero(secret_share, 32);
    if (unusable) {
        return -1;
    }
    if (!tc_point_valid(verification_key)) {
        return -1;
    }

    int rc = -1;
    uint8_t own_key[32];
    uint8_t h[32];
    uint8_t s_point[32];
    uint8_t wide[64];
    uint8_t k[32];
    uint8_t a[32];
    uint8_t b[32];
    uint8_t c[32];
    uint8_t cx[32];
    uint8_t s[32];
    crypto_generichash_state st;

    /* The proof nonce k is derived from (secret, nonce) only. If the key fed into the
     * challenge could differ from secret*G, two calls with the same nonce would give two
     * challenges for one k, and s1 - s2 = (c1 - c2)*x would reveal the secret share. */
    if (crypto_scalarmult_ristretto255_base(own_key, secret_share) != 0 ||
        sodium_memcmp(own_key, verification_key, 32) != 0) {
        goto done;
    }
    hash_to_group(h, nonce, nonce_len);
    if (crypto_scalarmult_ristretto255(s_point, secret_share, h) != 0) {
        goto done;
    }

    crypto_generichash_init(&st, NULL, 0, sizeof wide);
    crypto_generichash_update(&st, (const uint8_t *)TAG_CP_NONCE, sizeof TAG_CP_NONCE - 1);
    crypto_generichash_update(&st, secret_share, 32);
    if (nonce_len > 0) {
        crypto_generichash_update(&st, nonce, nonce_len);
    }
    crypto_generichash_final(&st, wide, sizeof wide);
    crypto_core_ristretto255_scalar_reduce(k, wide);

    if (crypto_scalarmult_ristretto255_base(a, k) != 0 ||
        crypto_scalarmult_ristretto255(b, k, h) != 0) {
        goto done;
    }
    cp_challenge(c, verification_key, h, s_point, a, b);
    crypto_core_ristretto255_scalar_mul(cx, c, secret_share);
    crypto_core_ristretto255_scalar_add(s, k, cx);

    memcpy(share_out, s_point, 32);
    memcpy(share_out + 32, c, 32);
    memcpy(share_out + 64, s, 32);
    rc = 0;

done:
    sodium_memzero(&st, sizeof st);
    sodium_memzero(wide, sizeof wide);
    sodium_memzero(k, sizeof k);
    sodium_memzero(cx, sizeof cx);
    return rc;
}

int tc_share_verify(const uint8_t verification_key[32], const uint8_t *nonce, size_t nonce_len,
                    const uint8_t share[TC_SHARE_BYTES])
{
    if (verification_key == NULL || share == NULL || (nonce == NULL && nonce_len > 0)) {
        return 0;
    }
    const uint8_t *s_point = share;
    const uint8_t *c = share + 32;
    const uint8_t *s = share + 64;
    /* Non-canonical c or s would let one proof have several encodings; zero c would make the
     * proof say nothing about S. */
    if (!tc_point_valid(verification_key) || !tc_point_valid(s_point) || !scalar_is_canonical(c) ||
        !scalar_is_canonical(s) || sodium_is_zero(c, 32) || sodium_is_zero(s, 32)) {
        return 0;
    }

    uint8_t h[32];
    uint8_t sg[32];
    uint8_t cx[32];
    uint8_t sh[32];
    uint8_t cs[32];
    uint8_t a[32];
    uint8_t b[32];
    uint8_t expected[32];
    hash_to_group(h, nonce, nonce_len);
    /* A = s*G - c*X_i and B = s*H - c*S equal the prover's k*G and k*H exactly when
     * log_G(X_i) = log_H(S). A failing multiplication means an identity result, which a valid
     * share cannot produce except with negligible probability. */
    if (crypto_scalarmult_ristretto255_base(sg, s) != 0 ||
        crypto_scalarmult_ristretto255(cx, c, verification_key) != 0 ||
        crypto_scalarmult_ristretto255(sh, s, h) != 0 ||
        crypto_scalarmult_ristretto255(cs, c, s_point) != 0 ||
        crypto_core_ristretto255_sub(a, sg, cx) != 0 ||
        crypto_core_ristretto255_sub(b, sh, cs) != 0) {
        return 0;
    }
    cp_challenge(expected, verification_key, h, s_point, a, b);
    return sodium_memcmp(expected, c, 32) == 0;
}

/* A product of small positive integers (at most TC_MEMBERS_MAX = 2^10 each) as a scalar.
 * Six factors fit in a uint64 (2^60), so only every sixth factor costs a scalar
 * multiplication; Lagrange coefficients need k^2 factors for k shares. */
typedef struct small_product {
    uint8_t value[32];
    uint64_t pending;
    unsigned pending_count;
} small_product;

static void small_product_init(small_product *p)
{
    scalar_from_u64(p->value, 1);
    p->pending = 1;
    p->pending_count = 0;
}

static void small_product_flush(small_product *p)
{
    uint8_t factor[32];
    uint8_t product[32];
    scalar_from_u64(factor, p->pending);
    crypto_core_ristretto255_scalar_mul(product, p->value, factor);
    memcpy(p->value, product, 32);
    p->pending = 1;
    p->pending_count = 0;
}

static void small_product_mul(small_product *p, uint32_t factor)
{
    if (p->pending_count == 6) {
        small_product_flush(p);
    }
    p->pending *= factor;
    p->pending_count++;
}

/* lambda_j = prod_{m != j} x_m / (x_m - x_j) with x = index + 1: the weight of share j when
 * interpolating at 0. Indices are public, so nothing here needs to be constant-time. Returns
 * -1 only if the denominator is zero, which distinct indices rule out. */
static int lagrange_at_zero(uint8_t lambda_out[32], const uint32_t *indices, size_t k, size_t j)
{
    small_product num;
    small_product den;
    small_product_init(&num);
    small_product_init(&den);
    unsigned negative = 0;
    uint32_t xj = indices[j] + 1;
    for (size_t m = 0; m < k; m++) {
        if (m == j) {
            continue;
        }
        uint32_t xm = indices[m] + 1;
        small_product_mul(&num, xm);
        if (xm > xj) {
            small_product_mul(&den, xm - xj);
        } else {
            small_product_mul(&den, xj - xm);
            negative ^= 1u;
        }
    }
    small_product_flush(&num);
    small_product_flush(&den);
    uint8_t den_inv[32];
    if (crypto_core_ristretto255_scalar_invert(den_inv, den.value) != 0) {
        return -1;
    }
    if (negative) {
        uint8_t positive[32];
        crypto_core_ristretto255_scalar_mul(positive, num.value, den_inv);
        crypto_core_ristretto255_scalar_negate(lambda_out, positive);
    } else {
        crypto_core_ristretto255_scalar_mul(lambda_out, num.value, den_inv);
    }
    return 0;
}

int tc_combine(const uint32_t *member_indices, const uint8_t (*shares)[TC_SHARE_BYTES], size_t k,
               uint8_t point_out[TC_POINT_BYTES])
{
    if (member_indices == NULL || shares == NULL || point_out == NULL || k == 0 ||
        k > TC_MEMBERS_MAX) {
        return -1;
    }
    /* A repeated index would make a Lagrange denominator zero; an index past the committee
     * size could overflow x = index + 1 and the small-factor products. */
    uint8_t seen[TC_MEMBERS_MAX / 8];
    memset(seen, 0, sizeof seen);
    for (size_t j = 0; j < k; j++) {
        uint32_t idx = member_indices[j];
        if (idx >= TC_MEMBERS_MAX || (seen[idx / 8] >> (idx % 8)) & 1u) {
            return -1;
        }
        seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
        if (!tc_point_valid(shares[j])) {
            return -1;
        }
    }

    uint8_t sum[32];
    for (size_t j = 0; j < k; j++) {
        uint8_t lambda[32];
        uint8_t term[32];
        if (lagrange_at_zero(lambda, member_indices, k, j) != 0 ||
            crypto_scalarmult_ristretto255(term, lambda, shares[j]) != 0) {
            return -1;
        }
        if (j == 0) {
            memcpy(sum, term, 32);
        } else {
            uint8_t next[32];
            if (crypto_core_ristretto255_add(next, sum, term) != 0) {
                return -1;
            }
            memcpy(sum, next, 32);
        }
    }
    if (sodium_is_zero(sum, 32)) {
        return -1;
    }
    memcpy(point_out, sum, 32);
    return 0;
}

void tc_coin_value(const uint8_t point[TC_POINT_BYTES], uint8_t value_out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)TAG_COIN, sizeof TAG_COIN - 1);
    crypto_generichash_update(&st, point, TC_POINT_BYTES);
    crypto_generichash_final(&st, value_out, 32);
}

#include "crypto.h"

#include <sodium.h>
#include <string.h>

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(hash_state),
               "hash_state too small for libsodium's state");

void hash_begin(hash_state *st, const char *tag)
{
    crypto_generichash_state *s = (crypto_generichash_state *)st->opaque;
    crypto_generichash_init(s, NULL, 0, HASH_BYTES);
    crypto_generichash_update(s, (const uint8_t *)tag, strlen(tag) + 1);
}

void hash_update(hash_state *st, const uint8_t *data, size_t len)
{
    crypto_generichash_update((crypto_generichash_state *)st->opaque, data, len);
}

void hash_finish(hash_state *st, uint8_t out[HASH_BYTES])
{
    crypto_generichash_final((crypto_generichash_state *)st->opaque, out, HASH_BYTES);
}

void hash_tagged2(uint8_t out[HASH_BYTES], const char *tag, const uint8_t *a, size_t alen,
                  const uint8_t *b, size_t blen)
{
    hash_state st;
    hash_begin(&st, tag);
    if (alen) hash_update(&st, a, alen);
    if (blen) hash_update(&st, b, blen);
    hash_finish(&st, out);
}

void hash_tagged(uint8_t out[HASH_BYTES], const char *tag, const uint8_t *data, size_t len)
{
    hash_tagged2(out, tag, data, len, NULL, 0);
}

void sign_hash(uint8_t sig[64], const uint8_t hash[HASH_BYTES], const uint8_t secret_key[64])
{
    crypto_sign_detached(sig, NULL, hash, HASH_BYTES, secret_key);
}

int verify_hash(const uint8_t hash[HASH_BYTES], const uint8_t sig[64], const uint8_t public_key[32])
{
    return crypto_sign_verify_detached(sig, hash, HASH_BYTES, public_key) == 0;
}

/* Hashing and signatures, with the domain tags that keep their uses apart. */
#ifndef ALEPH_CRYPTO_H
#define ALEPH_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define HASH_BYTES 32

/* BLAKE2b-256 of tag || data. Tags are NUL-terminated ASCII and hashed with their NUL, so
 * that no tag is a prefix of another tag's input. */
void hash_tagged(uint8_t out[HASH_BYTES], const char *tag, const uint8_t *data, size_t len);

/* BLAKE2b-256 of tag || a || b (either may be empty). */
void hash_tagged2(uint8_t out[HASH_BYTES], const char *tag, const uint8_t *a, size_t alen,
                  const uint8_t *b, size_t blen);

/* Incremental form for hashing many pieces. */
typedef struct hash_state {
    uint8_t opaque[384] __attribute__((aligned(64)));
} hash_state;
void hash_begin(hash_state *st, const char *tag);
void hash_update(hash_state *st, const uint8_t *data, size_t len);
void hash_finish(hash_state *st, uint8_t out[HASH_BYTES]);

void sign_hash(uint8_t sig[64], const uint8_t hash[HASH_BYTES], const uint8_t secret_key[64]);
int verify_hash(const uint8_t hash[HASH_BYTES], const uint8_t sig[64],
                const uint8_t public_key[32]);

#endif

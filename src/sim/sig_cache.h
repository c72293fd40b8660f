/* A signature check shared by every simulated member: the core signs the 32-byte unit hash,
 * so the answer for (hash, signature, public key) is the same at every member, and caching it
 * turns N-1 Ed25519 checks per unit into one. Installed as aleph_config.verify_signature. */
#ifndef ALEPH_SIM_SIG_CACHE_H
#define ALEPH_SIM_SIG_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_sig_entry {
    uint8_t hash[32];
    uint8_t sig[64];
    uint8_t pk[32];
    uint8_t used;
    uint8_t valid;
} sim_sig_entry;

typedef struct sim_sig_table {
    sim_sig_entry *entries;
    size_t cap, len;
} sim_sig_table;

/* Two generations: answers go into `fresh`; when it holds len_max entries it becomes `old`
 * (the previous old is emptied and reused), so the last len_max..2*len_max answers are kept
 * and the memory stays bounded however long the run. */
typedef struct sim_sig_cache {
    sim_sig_table fresh, old;
    size_t len_max;           /* entries per generation */
    uint64_t checks, hits;    /* calls, and calls answered from the cache */
} sim_sig_cache;

void sim_sig_cache_init(sim_sig_cache *c, size_t len_max);
void sim_sig_cache_free(sim_sig_cache *c);

/* The aleph_config.verify_signature callback (ctx: the cache). Returns 1 when
 * crypto_sign_verify_detached(sig, hash, 32, pk) accepts, 0 otherwise. */
int sim_sig_cache_verify(void *ctx, const uint8_t hash[32], const uint8_t sig[64],
                         const uint8_t public_key[32]);

#endif

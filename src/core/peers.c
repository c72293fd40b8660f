/* The other members as the modules see them: a random peer to ask (local choices only, never
 * ordering) and a member's signature checked by its index. */
#include "crypto.h"
#include "member.h"

static uint64_t random_next(aleph_member *m)
{
    /* splitmix64 */
    uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t peer_random(aleph_member *m)
{
    if (m->n == 1) return m->secret.index;
    uint32_t p = (uint32_t)(random_next(m) % (m->n - 1));
    return p >= m->secret.index ? p + 1 : p;
}

int peer_signature_valid(const aleph_member *m, const uint8_t hash[32], const uint8_t sig[64],
                         uint32_t signer)
{
    const uint8_t *pk = m->sign_pks[signer];
    if (m->cfg.verify_signature)
        return m->cfg.verify_signature(m->cfg.verify_signature_ctx, hash, sig, pk);
    return verify_hash(hash, sig, pk);
}

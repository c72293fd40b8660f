/* The output's chain of batch digests (output.h): what a chain-mode member records and what
 * every reader checks agreement on. */
#include "output.h"

#include "base/util.h"

void output_chain_begin(output_chain_state *st, const uint8_t prev[32], uint32_t epoch,
                        uint32_t index, uint32_t round, uint32_t head_creator, uint32_t units,
                        const uint8_t head_hash[32])
{
    uint8_t h[20];
    crypto_generichash_init(st, NULL, 0, 32);
    crypto_generichash_update(st, prev, 32);
    le32_put(h, epoch);
    le32_put(h + 4, index);
    le32_put(h + 8, round);
    le32_put(h + 12, head_creator);
    le32_put(h + 16, units);
    crypto_generichash_update(st, h, sizeof h);
    crypto_generichash_update(st, head_hash, 32);
}

void output_chain_unit(output_chain_state *st, uint32_t round, uint32_t creator,
                       uint32_t payload_len, const uint8_t hash[32])
{
    uint8_t h[12];
    le32_put(h, round);
    le32_put(h + 4, creator);
    le32_put(h + 8, payload_len);
    crypto_generichash_update(st, h, sizeof h);
    crypto_generichash_update(st, hash, 32);
}

void output_chain_end(output_chain_state *st, uint8_t out[32])
{
    crypto_generichash_final(st, out, 32);
}

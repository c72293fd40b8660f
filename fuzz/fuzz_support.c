#include "fuzz_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sig_cache.h"
#include "sim/sim.h"

static aleph_secret secrets[FUZZ_SIM_MEMBERS];
static uint8_t sign_pks[FUZZ_SIM_MEMBERS][32], coin_vks[FUZZ_SIM_MEMBERS][32];
static uint64_t session, rng_seed;
static sim_sig_cache sigs;

void fuzz_sim_committee(aleph_config *cfg, aleph_secret *secret, uint32_t index,
                        aleph_coin_mode coin)
{
    static int dealt;
    if (!dealt) {
        if (sim_keys_deal(FUZZ_SIM_SEED, FUZZ_SIM_MEMBERS, secrets, sign_pks, coin_vks, &session,
                          &rng_seed) != 0)
            abort();
        sim_sig_cache_init(&sigs, 1u << 14);
        dealt = 1;
    }
    aleph_config_defaults(cfg);
    cfg->members = FUZZ_SIM_MEMBERS;
    cfg->session = session;
    cfg->rng_seed = rng_seed;
    cfg->coin_mode = coin;
    cfg->sign_public_keys = (const uint8_t(*)[32])sign_pks;
    cfg->coin_verification_keys = (const uint8_t(*)[32])coin_vks;
    /* The simulator's limits (src/sim/sim_state.h), so that its units decode; a small pool. */
    cfg->unit_bytes_max = 64u << 10;
    cfg->tx_bytes_max = 1024;
    cfg->pool_bytes_max = 64u << 10;
    /* Ed25519 answers cached by (hash, signature, key), as in the simulator: the same answer,
     * but a mutated input re-checks only the units it changed. */
    cfg->verify_signature = sim_sig_cache_verify;
    cfg->verify_signature_ctx = &sigs;
    *secret = secrets[index % FUZZ_SIM_MEMBERS];
}

void fuzz_update_check(const aleph_update *up)
{
    for (size_t b = 0; b < up->batches_len; b++)
        for (size_t u = 0; u < up->batches[b].units_len; u++) {
            const aleph_ordered_unit *ou = &up->batches[b].units[u];
            size_t off = 0, len, txs = 0;
            const uint8_t *tx;
            while (aleph_payload_next(ou->payload, ou->payload_len, &off, &tx, &len) == 1) txs++;
            if (off != ou->payload_len || txs != ou->txs_len) abort();
        }
}

static char file_path[4096];

static void file_remove(void)
{
    unlink(file_path);
}

const char *fuzz_file_write(const char *name, const uint8_t *data, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    if (!file_path[0]) atexit(file_remove);
    snprintf(file_path, sizeof file_path, "%s/aleph-fuzz-%ld-%s", tmp && *tmp ? tmp : "/tmp",
             (long)getpid(), name);
    const char *path = file_path;
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) abort();
    return path;
}

/* The configuration: defaults, the checks aleph_member_new applies, and the committee's
 * arithmetic (faulty members at most, quorum), the default creator of a round. */
#include <sodium.h>
#include <string.h>

#include "member.h"
#include "unit_store.h"

uint32_t aleph_config_epochs_kept(const aleph_config *cfg)
{
    if (!cfg->epoch_rounds) return 0;
    return cfg->epochs_kept ? cfg->epochs_kept : ALEPH_EPOCHS_KEPT_DEFAULT;
}

uint32_t aleph_faulty_max(uint32_t n)
{
    return n ? (n - 1) / 3 : 0;
}

uint32_t aleph_quorum(uint32_t n)
{
    return n - aleph_faulty_max(n);
}

int aleph_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void aleph_config_defaults(aleph_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->coin_mode = ALEPH_COIN_THRESHOLD;
    cfg->unit_bytes_max = 1u << 20;
    cfg->tx_bytes_max = 64u << 10;
    cfg->pool_bytes_max = 64u << 20;
    cfg->pending_units_max = 4096;
    cfg->round_delay_ms_min = 2;
    cfg->round_delay_ms_idle = 500;
    cfg->parent_wait_ms_max = 0;
    cfg->candidate_wait_ms_max = 30;
    cfg->head_parent_wait_ms_max = 0;
    cfg->shed_lag_rounds = 32;
    cfg->anti_entropy_ms = 200;
    cfg->request_retry_ms = 100;
    cfg->epochs_kept = ALEPH_EPOCHS_KEPT_DEFAULT;
}

const char *aleph_config_check(const aleph_config *cfg)
{
    if (cfg->members < 1 || cfg->members > ALEPH_MEMBERS_MAX)
        return "committee size must be between 1 and 1024";
    if (!cfg->sign_public_keys) return "signing public keys missing";
    if (cfg->unit_store && store_members(cfg->unit_store) != cfg->members)
        return "unit store made for another committee size";
    if (cfg->coin_mode > ALEPH_COIN_THRESHOLD) return "unknown coin mode";
    if (cfg->coin_mode == ALEPH_COIN_THRESHOLD && !cfg->coin_verification_keys)
        return "threshold coin needs the members' coin verification keys";
    if (cfg->unit_bytes_max > ALEPH_PAYLOAD_BYTES_MAX) return "max_unit_bytes over 4 MiB";
    if (cfg->tx_bytes_max == 0 || (uint64_t)cfg->tx_bytes_max + 4 > cfg->unit_bytes_max)
        return "max_tx_bytes must be at least 1 and fit in a unit with its 4-byte length";
    if ((uint64_t)cfg->tx_bytes_max + 4 > cfg->pool_bytes_max)
        return "pool_bytes_max must hold at least one transaction";
    if (cfg->pending_units_max == 0) return "pending_units_max must be at least 1";
    if (cfg->default_creators_len > ALEPH_DEFAULT_CREATORS_MAX)
        return "default-creator schedule longer than 4096";
    if (cfg->default_creators_len && !cfg->default_creators)
        return "default-creator schedule missing";
    for (uint32_t i = 0; i < cfg->default_creators_len; i++)
        if (cfg->default_creators[i] >= cfg->members)
            return "default-creator schedule names a member outside the committee";
    if (cfg->anti_entropy_ms == 0 || cfg->request_retry_ms == 0)
        return "anti_entropy_ms and request_retry_ms must be positive";
    if (cfg->epochs_kept > ALEPH_EPOCHS_KEPT_MAX) return "epochs_kept over 16";
    return NULL;
}

uint32_t config_default_creator(const aleph_member *m, uint32_t round)
{
    uint32_t len = m->cfg.default_creators_len;
    return len ? m->default_creators[round % len] : round % m->n;
}

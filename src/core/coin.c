/* Coin values per round, in the committee's mode (PROTOCOL.md section 5). A value is known
 * once the local DAG holds what it takes: f+1 units of the round in test mode, f+1 valid
 * shares from distinct creators' units of the round in threshold mode. Every member gets the
 * same value, whichever f+1 units it holds. */
#include <string.h>

#include "bytes.h"
#include "crypto.h"
#include "member.h"
#include "threshold_coin.h"
#include "unit.h"

void coin_nonce(uint64_t session, uint32_t round, uint8_t out[ALEPH_COIN_NONCE_BYTES])
{
    put_uint(out, session, 8);
    put_uint(out + 8, round, 4);
}

static int threshold_value(aleph_member *m, const round_index *ri, uint32_t round, uint8_t out[32])
{
    uint8_t nonce[12];
    coin_nonce(m->cfg.session, round, nonce);
    uint32_t need = m->f + 1, have = 0;
    uint32_t indices[ALEPH_MEMBERS_MAX];
    static _Thread_local uint8_t shares[ALEPH_MEMBERS_MAX][TC_SHARE_BYTES];
    for (uint32_t c = 0; c < m->n && have < need; c++) {
        /* One share per creator: the first valid one among its units of the round. */
        for (uint32_t id = ri->first_by_creator[c]; id != NONE; id = m->dag.units[id]->fork_next) {
            unit *u = m->dag.units[id];
            if (!u->share_off) continue;
            const uint8_t *share = u->bytes + u->share_off;
            if (u->share_state == SHARE_UNCHECKED) {
                int ok = tc_share_verify(m->coin_vks[c], nonce, sizeof nonce, share);
                m->stats.coin_shares_verified++;
                u->share_state = ok ? SHARE_VALID : SHARE_INVALID;
                if (!ok) m->stats.coin_shares_invalid++;
            }
            if (u->share_state != SHARE_VALID) continue;
            indices[have] = c;
            memcpy(shares[have], share, TC_SHARE_BYTES);
            have++;
            break;
        }
    }
    if (have < need) return 0;
    uint8_t point[TC_POINT_BYTES];
    if (tc_combine(indices, (const uint8_t(*)[TC_SHARE_BYTES])shares, have, point) != 0) return 0;
    tc_coin_value(point, out);
    return 1;
}

int coin_value(aleph_member *m, uint32_t round, uint8_t out[32])
{
    if (m->cfg.coin_mode == ALEPH_COIN_OFF || round >= m->dag.rounds_len) return 0;
    coin_cache_entry *slot = &m->coin_cache[round % COIN_CACHE_SLOTS];
    if (slot->round_plus1 == round + 1) {
        memcpy(out, slot->value, 32);
        return 1;
    }
    const round_index *ri = &m->dag.rounds[round];
    if (ri->creators_present < m->f + 1) return 0;
    if (m->cfg.coin_mode == ALEPH_COIN_TEST) {
        uint8_t nonce[12];
        coin_nonce(m->cfg.session, round, nonce);
        hash_tagged(out, "aleph/test-coin", nonce, sizeof nonce);
    } else if (!threshold_value(m, ri, round, out)) {
        return 0;
    }
    m->stats.coin_values++;
    slot->round_plus1 = round + 1;
    memcpy(slot->value, out, 32);
    return 1;
}

int aleph_member_coin(aleph_member *m, uint32_t round, uint8_t out[32])
{
    return coin_value(m, round, out);
}

int aleph_unit_share_check(const aleph_config *cfg, const uint8_t *data, size_t len,
                           uint8_t nonce_out[ALEPH_COIN_NONCE_BYTES])
{
    if (cfg->coin_mode != ALEPH_COIN_THRESHOLD || !cfg->coin_verification_keys) return 0;
    byte_reader r;
    reader_init(&r, data, len);
    (void)reader_u8(&r);
    unit_limits lim = {.session = reader_u64(&r), .members = cfg->members,
                       .quorum = aleph_quorum(cfg->members),
                       .payload_bytes_max = cfg->unit_bytes_max, .coin_share_required = 1};
    unit_wire w;
    if (r.failed || unit_decode(data, len, &lim, &w) != NULL) return 0;
    coin_nonce(w.session, w.round, nonce_out);
    return tc_share_verify(cfg->coin_verification_keys[w.creator], nonce_out,
                           ALEPH_COIN_NONCE_BYTES, w.coin_share);
}

/* Whether the share a unit received in the message being taken was found valid ahead, for
 * the very nonce this member checks it against. */
int coin_share_known_valid(const aleph_member *m, const uint8_t *data, const unit_wire *w)
{
    if (!m->cfg.share_valid_known || !w->coin_share) return 0;
    uint8_t nonce[ALEPH_COIN_NONCE_BYTES];
    coin_nonce(m->cfg.session, w->round, nonce);
    return m->cfg.share_valid_known(m->cfg.share_valid_ctx, data, w->len, nonce) == 1;
}

int aleph_testing_coin_share(const aleph_secret *secret, const uint8_t verification_key[32],
                             uint64_t session, uint32_t round,
                             uint8_t out[ALEPH_COIN_SHARE_BYTES])
{
    uint8_t nonce[ALEPH_COIN_NONCE_BYTES];
    coin_nonce(session, round, nonce);
    return tc_share_create(secret->coin_secret_share, verification_key, nonce, sizeof nonce, out);
}

int coin_share_for(aleph_member *m, uint32_t round, uint8_t out[ALEPH_COIN_SHARE_BYTES])
{
    if (m->cfg.coin_mode != ALEPH_COIN_THRESHOLD) return 0;
    uint8_t nonce[12];
    coin_nonce(m->cfg.session, round, nonce);
    if (tc_share_create(m->secret.coin_secret_share, m->coin_vks[m->secret.index], nonce,
                        sizeof nonce, out) != 0)
        return -1;
    m->stats.coin_shares_created++;
    return 1;
}

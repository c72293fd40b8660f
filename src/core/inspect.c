/* The public header's unit inspection, testing section and version: thin doors onto the
 * unit codec (unit.c) and the message types (message.h), so that no shell needs a private
 * header. */
#include <stdio.h>
#include <string.h>

#include "member.h"
#include "message.h"
#include "unit.h"

_Static_assert((int)ALEPH_TESTING_MSG_UNIT == (int)MSG_UNIT && (int)ALEPH_TESTING_MSG_HIGHEST == (int)MSG_HIGHEST,
               "the testing section's message types are message.h's");
_Static_assert(ALEPH_TESTING_MSG_LIST_MAX == MSG_LIST_MAX, "one list bound");
_Static_assert(ALEPH_TESTING_UNIT_VERSION == UNIT_VERSION, "one unit version");

#define STR2(x) #x
#define STR(x) STR2(x)

const char *aleph_version(void)
{
    return STR(ALEPH_VERSION_MAJOR) "." STR(ALEPH_VERSION_MINOR) "." STR(ALEPH_VERSION_PATCH);
}

const char *aleph_unit_inspect(const aleph_config *cfg, const uint8_t *data, size_t len,
                               aleph_unit_info *out)
{
    unit_limits lim = {.session = cfg->session, .members = cfg->members,
                       .quorum = aleph_quorum(cfg->members),
                       .payload_bytes_max = cfg->unit_bytes_max,
                       .coin_share_required = cfg->coin_mode == ALEPH_COIN_THRESHOLD};
    unit_wire w;
    const char *why = unit_decode(data, len, &lim, &w);
    if (why) return why;
    memset(out, 0, sizeof *out);
    out->session = w.session;
    out->creator = w.creator;
    out->round = w.round;
    unit_hash(data, w.signed_len, out->hash);
    out->parents_len = w.parents_len;
    out->parents_raw_ = w.parents_raw;
    out->control_hash = w.control_hash;
    out->payload = w.payload;
    out->payload_len = w.payload_len;
    out->txs_len = w.txs_len;
    out->coin_share = w.coin_share;
    out->len = w.len;
    return NULL;
}

void aleph_unit_parent(const aleph_unit_info *u, uint32_t i, uint32_t *creator, uint32_t *round)
{
    unit_wire w = {.parents_len = u->parents_len, .parents_raw = u->parents_raw_};
    unit_wire_parent(&w, i, creator, round);
}

void aleph_unit_control_hash(const uint8_t *const *parent_hashes, uint32_t count,
                             uint8_t out[ALEPH_HASH_BYTES])
{
    unit_control_hash(parent_hashes, count, out);
}

int aleph_message_header(const aleph_config *cfg, const uint8_t *msg, size_t len, uint32_t *type,
                         uint32_t *epoch, size_t *body_off)
{
    size_t header = cfg->epoch_rounds ? 5 : 1;
    if (len < header) return 0;
    *type = msg[0];
    *epoch = cfg->epoch_rounds ? (uint32_t)msg[1] | (uint32_t)msg[2] << 8 |
                                     (uint32_t)msg[3] << 16 | (uint32_t)msg[4] << 24
                               : 0;
    *body_off = header;
    return 1;
}

int aleph_message_unit(const uint8_t *msg, size_t len, const uint8_t **unit_bytes, size_t *unit_len)
{
    if (len < 2 || msg[0] != MSG_UNIT) return 0;
    *unit_bytes = msg + 1;
    *unit_len = len - 1;
    return 1;
}

int aleph_message_units_next(const aleph_config *cfg, const uint8_t *msg, size_t len,
                             size_t *offset, const uint8_t **unit_bytes, size_t *unit_len)
{
    if (*offset == 0) {
        size_t header = cfg->epoch_rounds ? 5 : 1;
        message m;
        uint32_t epoch;
        if (len < header || msg[0] != MSG_UNITS ||
            message_decode_epoch(msg, len, cfg->members, cfg->epoch_rounds != 0, &epoch, &m))
            return 0;
        *offset = (size_t)(m.items - msg);
    }
    if (*offset > len || len - *offset < 4) return 0;
    const uint8_t *p = msg + *offset;
    size_t n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
    if (n == 0 || n > len - *offset - 4) return 0;
    *unit_bytes = p + 4;
    *unit_len = n;
    *offset += 4 + n;
    return 1;
}

int aleph_unit_signed_parts(const uint8_t *data, size_t len, uint32_t *creator,
                            uint8_t hash[ALEPH_HASH_BYTES], const uint8_t **signature)
{
    if (len < ALEPH_UNIT_BYTES_MIN) return 0;
    *creator = (uint32_t)data[9] | (uint32_t)data[10] << 8;
    unit_hash(data, len - ALEPH_SIGNATURE_BYTES, hash);
    *signature = data + len - ALEPH_SIGNATURE_BYTES;
    return 1;
}

int aleph_unit_slot(const uint8_t *data, size_t len, uint32_t *creator, uint32_t *round)
{
    if (len < ALEPH_UNIT_BYTES_MIN) return 0;
    *creator = (uint32_t)data[9] | (uint32_t)data[10] << 8;
    *round = (uint32_t)data[11] | (uint32_t)data[12] << 8 | (uint32_t)data[13] << 16 |
             (uint32_t)data[14] << 24;
    return 1;
}

size_t aleph_testing_unit_encoded_len(const aleph_testing_unit_draft *d)
{
    return unit_encoded_len(d);
}

size_t aleph_testing_unit_encode_signed(const aleph_testing_unit_draft *d,
                                        const uint8_t secret_key[ALEPH_SIGN_SK_BYTES],
                                        uint8_t *buf, uint8_t hash_out[ALEPH_HASH_BYTES])
{
    return unit_encode_signed(d, secret_key, buf, hash_out);
}

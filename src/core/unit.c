#include "unit.h"

#include "bytes.h"
#include "crypto.h"

#define PARENT_ENTRY_BYTES 6u

const char *unit_decode(const uint8_t *data, size_t len, const unit_limits *lim, unit_wire *out)
{
    byte_reader r;
    reader_init(&r, data, len);
    if (reader_u8(&r) != UNIT_VERSION) return r.failed ? "truncated unit" : "unknown unit version";
    out->session = reader_u64(&r);
    out->creator = reader_u16(&r);
    out->round = reader_u32(&r);
    out->parents_len = reader_u16(&r);
    if (r.failed) return "truncated unit header";
    if (out->session != lim->session) return "unit of another session";
    if (out->creator >= lim->members) return "unit creator outside the committee";
    if (out->round > ALEPH_ROUND_MAX) return "unit round out of range";
    if (out->parents_len > lim->members) return "more parents than members";
    if (out->round == 0 && out->parents_len != 0) return "round-0 unit with parents";

    out->parents_raw = reader_take(&r, (size_t)out->parents_len * PARENT_ENTRY_BYTES);
    if (!out->parents_raw) return "truncated parent list";
    if (out->round > 0) {
        uint32_t previous_round = 0, has_own = 0;
        int64_t last_creator = -1;
        for (uint32_t i = 0; i < out->parents_len; i++) {
            uint32_t pc, pr;
            unit_wire_parent(out, i, &pc, &pr);
            if ((int64_t)pc <= last_creator)
                return "parents not in strictly ascending creator order";
            if (pc >= lim->members) return "parent creator outside the committee";
            if (pr >= out->round) return "parent not below the unit's round";
            last_creator = pc;
            if (pc == out->creator) has_own = 1;
            if (pr == out->round - 1) previous_round++;
        }
        /* The own parent is the creator's newest unit below r: of round r-1, or older when a
         * member far behind resumes at the committee's round (PROTOCOL.md, "Catch-up"). */
        if (!has_own) return "own unit is not a parent";
        if (previous_round < lim->quorum) return "fewer than a quorum of previous-round parents";
        out->control_hash = reader_take(&r, 32);
        if (!out->control_hash) return "truncated control hash";
    } else {
        out->control_hash = NULL;
    }

    out->payload_len = reader_u32(&r);
    if (r.failed) return "truncated payload length";
    if (out->payload_len > lim->payload_bytes_max) return "payload over the size limit";
    out->payload = reader_take(&r, out->payload_len);
    if (!out->payload) return "truncated payload";
    /* The payload's format is checked here, once: every member judges a unit alike, honest
     * creators never make a malformed one, and every later reader walks it unchecked. */
    out->txs_len = 0;
    const uint8_t *tx;
    size_t offset = 0, tx_len;
    int more;
    while ((more = aleph_payload_next(out->payload, out->payload_len, &offset, &tx, &tx_len)) == 1)
        out->txs_len++;
    if (more < 0) return "payload is not a sequence of transactions";

    uint8_t has_share = reader_u8(&r);
    if (r.failed) return "truncated coin share flag";
    if (has_share > 1) return "bad coin share flag";
    if (has_share != (lim->coin_share_required ? 1 : 0))
        return has_share ? "unexpected coin share" : "missing coin share";
    out->coin_share = has_share ? reader_take(&r, ALEPH_COIN_SHARE_BYTES) : NULL;
    if (has_share && !out->coin_share) return "truncated coin share";

    out->signed_len = len - r.left;
    out->signature = reader_take(&r, ALEPH_SIGNATURE_BYTES);
    if (!out->signature) return "truncated signature";
    if (r.left != 0) return "trailing bytes after unit";
    out->len = len;
    return NULL;
}

void unit_wire_parent(const unit_wire *u, uint32_t i, uint32_t *creator, uint32_t *round)
{
    const uint8_t *p = u->parents_raw + (size_t)i * PARENT_ENTRY_BYTES;
    *creator = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    *round = (uint32_t)p[2] | (uint32_t)p[3] << 8 | (uint32_t)p[4] << 16 | (uint32_t)p[5] << 24;
}

void unit_hash(const uint8_t *data, size_t signed_len, uint8_t out[32])
{
    hash_tagged(out, "aleph/unit", data, signed_len);
}

void unit_control_hash(const uint8_t *const *parent_hashes, uint32_t count, uint8_t out[32])
{
    hash_state st;
    hash_begin(&st, "aleph/parents");
    for (uint32_t i = 0; i < count; i++) hash_update(&st, parent_hashes[i], 32);
    hash_finish(&st, out);
}

size_t unit_payload_offset(const unit_draft *d)
{
    size_t n = 1 + 8 + 2 + 4 + 2 + (size_t)d->parents_len * PARENT_ENTRY_BYTES;
    if (d->round > 0) n += 32;
    return n + 4;
}

size_t unit_encoded_len(const unit_draft *d)
{
    size_t n = unit_payload_offset(d) + d->payload_len + 1;
    if (d->coin_share) n += ALEPH_COIN_SHARE_BYTES;
    return n + ALEPH_SIGNATURE_BYTES;
}

size_t unit_encode_signed(const unit_draft *d, const uint8_t secret_key[64], uint8_t *buf,
                          uint8_t hash_out[32])
{
    size_t total = unit_encoded_len(d);
    byte_writer w;
    writer_init(&w, buf, total);
    writer_uint(&w, UNIT_VERSION, 1);
    writer_uint(&w, d->session, 8);
    writer_uint(&w, d->creator, 2);
    writer_uint(&w, d->round, 4);
    writer_uint(&w, d->parents_len, 2);
    for (uint32_t i = 0; i < d->parents_len; i++) {
        writer_uint(&w, d->parent_creators[i], 2);
        writer_uint(&w, d->parent_rounds[i], 4);
    }
    if (d->round > 0) writer_bytes(&w, d->control_hash, 32);
    writer_uint(&w, d->payload_len, 4);
    if (d->payload == w.p && w.left >= d->payload_len) {
        w.p += d->payload_len; /* already in place */
        w.left -= d->payload_len;
    } else {
        writer_bytes(&w, d->payload, d->payload_len);
    }
    writer_uint(&w, d->coin_share ? 1 : 0, 1);
    if (d->coin_share) writer_bytes(&w, d->coin_share, ALEPH_COIN_SHARE_BYTES);
    size_t signed_len = total - ALEPH_SIGNATURE_BYTES;
    unit_hash(buf, signed_len, hash_out);
    sign_hash(buf + signed_len, hash_out, secret_key);
    return total;
}

int aleph_payload_next(const uint8_t *payload, size_t len, size_t *offset, const uint8_t **tx,
                       size_t *tx_len)
{
    if (*offset == len) return 0;
    if (len - *offset < 4) return -1;
    const uint8_t *p = payload + *offset;
    size_t n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
    if (n > len - *offset - 4) return -1;
    *tx = p + 4;
    *tx_len = n;
    *offset += 4 + n;
    return 1;
}

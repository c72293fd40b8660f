#include "message.h"

#include "aleph/aleph.h"
#include "asserts.h"
#include "bytes.h"

static const char *decode_list(byte_reader *r, size_t entry_bytes, uint32_t max, message *out)
{
    out->count = reader_u16(r);
    if (r->failed) return "truncated list length";
    if (out->count > max) return "list longer than allowed";
    out->items = reader_take(r, (size_t)out->count * entry_bytes);
    if (!out->items) return "truncated list";
    if (r->left != 0) return "trailing bytes after list";
    return NULL;
}

static const char *decode_range(byte_reader *r, uint32_t members, message *out)
{
    out->range_lo = reader_u32(r);
    out->range_hi = reader_u32(r);
    if (r->failed) return "truncated range request";
    if (out->range_lo >= out->range_hi || out->range_hi - out->range_lo > RANGE_ROUNDS_MAX ||
        out->range_hi > (uint32_t)ALEPH_ROUND_MAX + 1u)
        return "range request of a bad range";
    const char *err = decode_list(r, 4, members, out);
    if (err) return err;
    if (out->count != members) return "range request's round vector of the wrong length";
    for (uint32_t i = 0; i < members; i++)
        if (message_highest(out, i) > (uint32_t)ALEPH_ROUND_MAX + 1u)
            return "range request's round out of range";
    return NULL;
}

/* Walks the whole list once: every length is checked here, readers trust it. */
static const char *decode_units(byte_reader *r, message *out)
{
    out->range_lo = reader_u32(r);
    out->range_hi = reader_u32(r);
    out->count = reader_u16(r);
    if (r->failed) return "truncated units message";
    if (out->range_lo > out->range_hi || out->range_hi > (uint32_t)ALEPH_ROUND_MAX + 1u)
        return "units message of a bad range";
    if (out->count > UNITS_PER_MESSAGE_MAX) return "units message with too many units";
    out->items = r->p;
    out->body_len = r->left;
    for (uint32_t i = 0; i < out->count; i++) {
        uint32_t len = reader_u32(r);
        if (r->failed) return "truncated unit length in units message";
        if (len == 0) return "empty unit in units message";
        if (!reader_take(r, len)) return "truncated unit in units message";
    }
    if (r->left != 0) return "trailing bytes after units";
    return NULL;
}

const char *message_decode(const uint8_t *data, size_t len, uint32_t members, message *out)
{
    uint32_t epoch;
    return message_decode_epoch(data, len, members, 0, &epoch, out);
}

/* The body of a message of type `type`: `len` bytes at `data`. */
static const char *decode_body(uint8_t type, const uint8_t *data, size_t len, uint32_t members,
                               message *out)
{
    byte_reader r;
    reader_init(&r, data, len);
    out->type = (enum message_type)type;
    out->body = NULL;
    out->body_len = 0;
    out->count = 0;
    out->items = NULL;
    out->own_plus1 = out->rounds_plus1 = 0;
    out->range_lo = out->range_hi = 0;
    switch (type) {
    case MSG_UNIT:
        out->body = data;
        out->body_len = len;
        return NULL;
    case MSG_REQUEST_UNITS: return decode_list(&r, 6, MSG_LIST_MAX, out);
    case MSG_REQUEST_PARENTS:
    case MSG_REQUEST_HASHES: return decode_list(&r, 32, MSG_LIST_MAX, out);
    case MSG_PARENTS:
        out->body = reader_take(&r, 32);
        out->body_len = 32;
        if (!out->body) return "truncated parents message";
        return decode_list(&r, 32, members, out);
    case MSG_HIGHEST: {
        const char *err = decode_list(&r, 4, members, out);
        if (err) return err;
        if (out->count != members) return "highest-round vector of the wrong length";
        for (uint32_t i = 0; i < members; i++)
            if (message_highest(out, i) > (uint32_t)ALEPH_ROUND_MAX + 1u)
                return "highest round out of range";
        return NULL;
    }
    case MSG_OWN_QUERY: return r.left == 0 ? NULL : "trailing bytes after own query";
    case MSG_OWN_ANSWER:
        out->own_plus1 = reader_u32(&r);
        out->rounds_plus1 = reader_u32(&r);
        if (r.failed) return "truncated own answer";
        if (out->own_plus1 > (uint32_t)ALEPH_ROUND_MAX + 1u ||
            out->rounds_plus1 > (uint32_t)ALEPH_ROUND_MAX + 1u)
            return "own answer round out of range";
        out->body = data + (len - r.left);
        out->body_len = r.left;
        return NULL;
    case MSG_ALERT:
    case MSG_ALERT_CERT:
        /* Decoded strictly by alert_wire.c, which knows the committee's limits. */
        out->body = data;
        out->body_len = len;
        return NULL;
    case MSG_ALERT_SIGNATURE:
    case MSG_REQUEST_ALERT: {
        size_t want = type == MSG_ALERT_SIGNATURE ? 96 : 32;
        if (len != want) return "alert signature or request of the wrong length";
        out->body = data;
        out->body_len = want;
        return NULL;
    }
    case MSG_REQUEST_RANGE: return decode_range(&r, members, out);
    case MSG_UNITS: return decode_units(&r, out);
    default: return "unknown message type";
    }
}

const char *message_decode_epoch(const uint8_t *data, size_t len, uint32_t members,
                                 int with_epoch, uint32_t *epoch, message *out)
{
    if (len == 0) return "empty message";
    if (len > ALEPH_MESSAGE_BYTES_MAX) return "message over the size limit";
    size_t header = 1;
    *epoch = 0;
    if (with_epoch) {
        if (len < 5) return "truncated epoch";
        *epoch = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
                 (uint32_t)data[4] << 24;
        header = 5;
    }
    return decode_body(data[0], data + header, len - header, members, out);
}

void message_slot(const message *m, uint32_t i, uint32_t *creator, uint32_t *round)
{
    const uint8_t *p = m->items + (size_t)i * 6;
    *creator = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    *round = (uint32_t)p[2] | (uint32_t)p[3] << 8 | (uint32_t)p[4] << 16 | (uint32_t)p[5] << 24;
}

const uint8_t *message_hash(const message *m, uint32_t i)
{
    return m->items + (size_t)i * 32;
}

uint32_t message_highest(const message *m, uint32_t i)
{
    const uint8_t *p = m->items + (size_t)i * 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int message_units_next(const message *m, size_t *offset, const uint8_t **unit, size_t *len)
{
    if (*offset >= m->body_len) return 0;
    const uint8_t *p = m->items + *offset;
    size_t n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
    ALEPH_ASSERT(n >= 1 && n <= m->body_len - *offset - 4); /* checked by the decoder */
    *unit = p + 4;
    *len = n;
    *offset += 4 + n;
    return 1;
}

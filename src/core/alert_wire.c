#include "alert_wire.h"

#include <string.h>

#include "bytes.h"
#include "crypto.h"

/* The largest alert fits in one message: two units of the largest payload with N = 1024
 * parents (6 B each) and every other field, 2 MiB of commitments, header and signature. */
_Static_assert(1u + 2u * (ALEPH_PAYLOAD_BYTES_MAX + 4u + 6u * ALEPH_MEMBERS_MAX + 256u) +
                       32u * ALERT_COMMITS_MAX + 16u + 64u <=
                   ALEPH_MESSAGE_BYTES_MAX,
               "an alert must fit in one message");

static void alert_hash_of(uint64_t session, const uint8_t *data, size_t signed_len, uint8_t out[32])
{
    uint8_t s[8];
    put_uint(s, session, 8);
    hash_tagged2(out, "aleph/alert", s, 8, data, signed_len);
}

static const char *decode_proof_unit(byte_reader *r, const unit_limits *lim, unit_wire *u,
                                     uint8_t hash[32])
{
    uint32_t len = reader_u32(r);
    if (r->failed) return "truncated alert proof length";
    const uint8_t *bytes = reader_take(r, len);
    if (!bytes) return "truncated alert proof unit";
    if (unit_decode(bytes, len, lim, u) != NULL) return "alert proof unit does not decode";
    unit_hash(bytes, u->signed_len, hash);
    return NULL;
}

const char *alert_decode(const uint8_t *data, size_t len, const unit_limits *lim, alert_wire *out)
{
    byte_reader r;
    reader_init(&r, data, len);
    out->sender = reader_u16(&r);
    out->forker = reader_u16(&r);
    if (r.failed) return "truncated alert header";
    if (out->sender >= lim->members || out->forker >= lim->members)
        return "alert member outside the committee";
    const char *err = decode_proof_unit(&r, lim, &out->a, out->a_hash);
    if (!err) err = decode_proof_unit(&r, lim, &out->b, out->b_hash);
    if (err) return err;
    if (out->a.creator != out->forker || out->b.creator != out->forker)
        return "alert proof unit not by the forker";
    if (out->a.round != out->b.round) return "alert proof units of different rounds";
    if (memcmp(out->a_hash, out->b_hash, 32) == 0) return "alert proof units are one unit";
    out->commit_round_lo = reader_u32(&r);
    out->commit_count = reader_u32(&r);
    if (r.failed) return "truncated alert commitments";
    if (out->commit_count > ALERT_COMMITS_MAX) return "alert commits to too many units";
    if ((uint64_t)out->commit_round_lo + out->commit_count > (uint64_t)ALEPH_ROUND_MAX + 1)
        return "alert commitment round out of range";
    out->commits = reader_take(&r, (size_t)out->commit_count * 32);
    if (!out->commits) return "truncated alert commitments";
    out->signed_len = len - r.left;
    out->signature = reader_take(&r, ALEPH_SIGNATURE_BYTES);
    if (!out->signature) return "truncated alert signature";
    if (r.left != 0) return "trailing bytes after alert";
    alert_hash_of(lim->session, data, out->signed_len, out->hash);
    return NULL;
}

size_t alert_encoded_len(uint32_t a_len, uint32_t b_len, uint32_t commit_count)
{
    return 2 + 2 + 4 + (size_t)a_len + 4 + (size_t)b_len + 4 + 4 + 32 * (size_t)commit_count +
           ALEPH_SIGNATURE_BYTES;
}

void alert_encode_signed(uint8_t *buf, uint64_t session, uint32_t sender, uint32_t forker,
                         const uint8_t *a, uint32_t a_len, const uint8_t *b, uint32_t b_len,
                         uint32_t commit_round_lo, const uint8_t *const *commits,
                         uint32_t commit_count, const uint8_t secret_key[64], uint8_t hash_out[32])
{
    size_t total = alert_encoded_len(a_len, b_len, commit_count);
    byte_writer w;
    writer_init(&w, buf, total);
    writer_uint(&w, sender, 2);
    writer_uint(&w, forker, 2);
    writer_uint(&w, a_len, 4);
    writer_bytes(&w, a, a_len);
    writer_uint(&w, b_len, 4);
    writer_bytes(&w, b, b_len);
    writer_uint(&w, commit_round_lo, 4);
    writer_uint(&w, commit_count, 4);
    for (uint32_t i = 0; i < commit_count; i++) writer_bytes(&w, commits[i], 32);
    size_t signed_len = total - ALEPH_SIGNATURE_BYTES;
    alert_hash_of(session, buf, signed_len, hash_out);
    sign_hash(buf + signed_len, hash_out, secret_key);
}

const char *cert_decode(const uint8_t *data, size_t len, uint32_t members, uint32_t quorum,
                        cert_wire *out)
{
    byte_reader r;
    reader_init(&r, data, len);
    out->alert_hash = reader_take(&r, 32);
    out->count = reader_u16(&r);
    if (r.failed) return "truncated certificate";
    if (out->count < quorum) return "certificate with fewer than a quorum of signatures";
    if (out->count > members) return "certificate with more signatures than members";
    out->entries = reader_take(&r, (size_t)out->count * ALERT_CERT_ENTRY_BYTES);
    if (!out->entries) return "truncated certificate";
    if (r.left != 0) return "trailing bytes after certificate";
    int64_t last = -1;
    for (uint32_t i = 0; i < out->count; i++) {
        uint32_t s = cert_signer(out, i);
        if (s >= members) return "certificate signer outside the committee";
        if ((int64_t)s <= last) return "certificate signers not strictly ascending";
        last = s;
    }
    return NULL;
}

uint32_t cert_signer(const cert_wire *c, uint32_t i)
{
    const uint8_t *p = c->entries + (size_t)i * ALERT_CERT_ENTRY_BYTES;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

const uint8_t *cert_signature(const cert_wire *c, uint32_t i)
{
    return c->entries + (size_t)i * ALERT_CERT_ENTRY_BYTES + 2;
}

size_t aleph_testing_alert_encoded_len(uint32_t a_len, uint32_t b_len, uint32_t commit_count)
{
    return alert_encoded_len(a_len, b_len, commit_count);
}

void aleph_testing_alert_encode_signed(uint8_t *buf, uint64_t session, uint32_t sender,
                                       uint32_t forker, const uint8_t *a, uint32_t a_len,
                                       const uint8_t *b, uint32_t b_len, uint32_t commit_round_lo,
                                       const uint8_t *const *commits, uint32_t commit_count,
                                       const uint8_t secret_key[ALEPH_SIGN_SK_BYTES],
                                       uint8_t hash_out[ALEPH_HASH_BYTES])
{
    alert_encode_signed(buf, session, sender, forker, a, a_len, b, b_len, commit_round_lo,
                        commits, commit_count, secret_key, hash_out);
}

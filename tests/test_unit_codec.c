/* The unit and message codecs: round trips, and every field malformed in turn is rejected
 * with a reason, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "message.h"
#include "test_support.h"
#include "unit.h"

static ts_committee committee;

typedef struct sample {
    uint8_t buf[2048];
    size_t len;
    uint8_t hash[32];
    unit_limits lim;
} sample;

/* A round-2 unit of creator 1 in a committee of 4 (q = 3), with 3 previous-round parents
 * and one older parent, a payload and, when share != 0, a coin share. */
static void make_sample(sample *s, int share)
{
    uint32_t creators[] = {0, 1, 2, 3}, rounds[] = {1, 1, 0, 1};
    uint8_t control[32], coin[ALEPH_COIN_SHARE_BYTES], payload[] = {3, 0, 0, 0, 'a', 'b', 'c'};
    memset(control, 0xc0, sizeof control);
    memset(coin, 0x11, sizeof coin);
    unit_draft d = {.session = committee.cfg.session, .creator = 1, .round = 2, .parents_len = 4,
                    .parent_creators = creators, .parent_rounds = rounds, .control_hash = control,
                    .payload = payload, .payload_len = sizeof payload,
                    .coin_share = share ? coin : NULL};
    s->len = unit_encoded_len(&d);
    assert_true(s->len <= sizeof s->buf);
    assert_int_equal(unit_encode_signed(&d, committee.secrets[1].sign_secret_key, s->buf, s->hash),
                     s->len);
    s->lim = (unit_limits){.session = committee.cfg.session, .members = 4, .quorum = 3,
                           .payload_bytes_max = 100, .coin_share_required = share};
}

static int setup(void **state)
{
    (void)state;
    ts_committee_init(&committee, 4, ALEPH_COIN_OFF, 1);
    return 0;
}

static void round_trip(void **state)
{
    (void)state;
    for (int share = 0; share <= 1; share++) {
        sample s;
        make_sample(&s, share);
        unit_wire w;
        assert_null(unit_decode(s.buf, s.len, &s.lim, &w));
        assert_int_equal(w.creator, 1);
        assert_int_equal(w.round, 2);
        assert_int_equal(w.parents_len, 4);
        uint32_t c, r;
        unit_wire_parent(&w, 2, &c, &r);
        assert_int_equal(c, 2);
        assert_int_equal(r, 0);
        assert_int_equal(w.payload_len, 7);
        assert_memory_equal(w.payload + 4, "abc", 3);
        assert_true((w.coin_share != NULL) == share);
        uint8_t h[32];
        unit_hash(s.buf, w.signed_len, h);
        assert_memory_equal(h, s.hash, 32);
        assert_int_equal(w.signed_len + 64, s.len);
    }
}

/* Offsets in the sample's encoding. */
enum { OFF_VERSION = 0, OFF_SESSION = 1, OFF_CREATOR = 9, OFF_ROUND = 11, OFF_PCOUNT = 15,
       OFF_PARENTS = 17 };

/* Rejected, and for the expected reason (a substring of it) when one is given. */
static void expect_rejected(const sample *s, const uint8_t *buf, size_t len, const char *what,
                            const char *reason_part)
{
    unit_wire w;
    const char *reason = unit_decode(buf, len, &s->lim, &w);
    if (!reason) fail_msg("accepted a unit with %s", what);
    if (reason_part && !strstr(reason, reason_part))
        fail_msg("a unit with %s rejected as '%s', expected '%s'", what, reason, reason_part);
}

static void each_field_malformed(void **state)
{
    (void)state;
    sample s;
    make_sample(&s, 0);
    uint8_t b[2048];
#define MUTATE(what, reason, stmt)                                                                 \
    do {                                                                                           \
        memcpy(b, s.buf, s.len);                                                                   \
        stmt;                                                                                      \
        expect_rejected(&s, b, s.len, what, reason);                                               \
    } while (0)
    MUTATE("an unknown version", "version", b[OFF_VERSION] = 2);
    MUTATE("another session", "session", b[OFF_SESSION] ^= 1);
    MUTATE("a creator outside the committee", "creator outside", b[OFF_CREATOR] = 4);
    MUTATE("a round over the maximum", "round out of range", b[OFF_ROUND + 3] = 0x80);
    MUTATE("more parents than members", "more parents", b[OFF_PCOUNT] = 5);
    /* parent entries: 6 bytes each (u16 creator, u32 round) */
    MUTATE("parents out of creator order", "ascending", b[OFF_PARENTS + 6] = 0);
    MUTATE("a parent creator outside the committee", "parent creator outside", b[OFF_PARENTS + 18] = 9);
    MUTATE("a parent not below the unit's round", "not below", b[OFF_PARENTS + 2] = 2);
    /* An older own parent is allowed (a member resuming at the committee's round), but then
     * the quorum must come from the others. */
    MUTATE("an old own parent and fewer than q of the previous round", "quorum",
           b[OFF_PARENTS + 8] = 0);
    {
        /* No own parent at all: creator 4 of a committee of 5, parents 0..3. */
        sample five = s;
        five.lim.members = 5;
        memcpy(b, s.buf, s.len);
        b[OFF_CREATOR] = 4;
        expect_rejected(&five, b, s.len, "no own parent", "own unit is not a parent");
    }
    MUTATE("fewer than q previous-round parents", "quorum", (b[OFF_PARENTS + 2] = 0, b[OFF_PARENTS + 20] = 0));
    size_t off_payload_len = OFF_PARENTS + 4 * 6 + 32;
    MUTATE("a payload over the limit", "over the size limit", b[off_payload_len] = 101);
    MUTATE("a payload longer than the unit", "truncated", b[off_payload_len] = 90);
    size_t off_share_flag = off_payload_len + 4 + 7;
    MUTATE("a bad coin share flag", "flag", b[off_share_flag] = 2);
    MUTATE("an unexpected coin share", "unexpected coin share", b[off_share_flag] = 1);

    /* Round 0 with parents. */
    memcpy(b, s.buf, s.len);
    memset(b + OFF_ROUND, 0, 4);
    expect_rejected(&s, b, s.len, "round 0 and parents", "round-0 unit with parents");

    /* A missing share where one is required. */
    sample need = s;
    need.lim.coin_share_required = 1;
    expect_rejected(&need, s.buf, s.len, "a missing coin share", "missing coin share");

    /* Trailing bytes, and every truncation. */
    memcpy(b, s.buf, s.len);
    b[s.len] = 0;
    expect_rejected(&s, b, s.len + 1, "trailing bytes", "trailing");
    for (size_t cut = 0; cut < s.len; cut++) expect_rejected(&s, s.buf, cut, "a truncation", NULL);
#undef MUTATE
}

/* Random corruption never crashes the decoder (run under ASan/UBSan in CI), and never makes
 * a unit a member would take: whatever still decodes keeps every bound, and the signature
 * of anything changed no longer verifies (so a changed unit can only be dropped). */
static void random_corruption_is_safe(void **state)
{
    (void)state;
    sample s;
    make_sample(&s, 1);
    uint8_t b[2048];
    unit_wire w;
    srand(12345);
    int decoded = 0, rejected = 0;
    for (int i = 0; i < 20000; i++) {
        memcpy(b, s.buf, s.len);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++) b[rand() % s.len] ^= (uint8_t)(1 + rand() % 255);
        size_t len = (rand() % 8 == 0) ? (size_t)(rand() % (int)s.len) : s.len;
        const char *reason = unit_decode(b, len, &s.lim, &w);
        if (reason) {
            rejected++;
        } else {
            decoded++;
            assert_int_equal(len, s.len); /* no truncation decodes */
            assert_true(w.creator < 4 && w.parents_len <= 4 && w.round <= ALEPH_ROUND_MAX);
            assert_true(w.payload_len <= s.lim.payload_bytes_max);
            assert_non_null(w.coin_share);
            assert_int_equal(w.signed_len + 64, len);
            if (memcmp(b, s.buf, len) != 0) {
                uint8_t h[32];
                unit_hash(b, w.signed_len, h);
                assert_int_not_equal(
                    crypto_sign_verify_detached(w.signature, h, 32, committee.sign_pks[w.creator]), 0);
            }
        }
        message msg;
        (void)message_decode(b, len, 4, &msg);
    }
    /* Both paths are well exercised: about half break a bound (9,848 of 20,000 on this seed),
     * the rest change bytes no bound covers (control hash, payload, share, signature). */
    assert_true(rejected > 5000);
    assert_true(decoded > 5000);
}

/* The exact boundaries: a payload of exactly the limit is taken (an honest creator that fills
 * a unit exactly would otherwise be refused by everyone, itself included, and halt) and one
 * byte more is not; exactly q previous-round parents are enough and q-1 are not. Also through
 * a member: a round-0 unit with a payload of exactly unit_bytes_max enters its DAG. Checked to
 * fail with the payload test made >= (mutant payload_max_exclusive) and the quorum test made
 * <= (mutant parents_quorum_exclusive). */
static void exact_boundaries(void **state)
{
    (void)state;
    static uint8_t payload[4096];
    uint32_t creators[] = {0, 1, 2, 3}, rounds[] = {1, 1, 0, 1};
    uint8_t control[32];
    memset(control, 0xc0, sizeof control);
    memset(payload, 'p', sizeof payload);
    payload[0] = 96; /* one transaction of 96 bytes: 100 bytes in all */
    payload[1] = payload[2] = payload[3] = 0;
    unit_draft d = {.session = committee.cfg.session, .creator = 1, .round = 2, .parents_len = 4,
                    .parent_creators = creators, .parent_rounds = rounds, .control_hash = control,
                    .payload = payload, .payload_len = 100};
    uint8_t buf[8192], hash[32];
    size_t len = unit_encode_signed(&d, committee.secrets[1].sign_secret_key, buf, hash);
    unit_limits lim = {.session = committee.cfg.session, .members = 4, .quorum = 3,
                       .payload_bytes_max = 100};
    unit_wire w;
    assert_null(unit_decode(buf, len, &lim, &w)); /* 100 of 100; 3 (= q) of 3 */
    assert_int_equal(w.payload_len, 100);
    lim.payload_bytes_max = 99;
    const char *reason = unit_decode(buf, len, &lim, &w);
    assert_non_null(reason);
    assert_non_null(strstr(reason, "over the size limit"));
    lim.payload_bytes_max = 100;
    lim.quorum = 4;
    reason = unit_decode(buf, len, &lim, &w);
    assert_non_null(reason);
    assert_non_null(strstr(reason, "quorum"));

    /* A member with unit_bytes_max = 4096 takes a round-0 unit with a 4096-byte payload. */
    ts_committee c = committee;
    c.cfg.observer = 1;
    c.cfg.sign_public_keys = (const uint8_t(*)[32])c.sign_pks;
    c.cfg.coin_verification_keys = (const uint8_t(*)[32])c.coin_vks;
    assert_int_equal(c.cfg.unit_bytes_max, sizeof payload);
    payload[0] = 0xfc; /* one transaction of 4092 bytes */
    payload[1] = 0x0f;
    ts_member tm;
    ts_member_init(&tm, &c, 0);
    size_t mlen = ts_make_unit(&c, 2, 0, NULL, NULL, payload, sizeof payload, buf, sizeof buf, hash);
    ts_member_deliver(&tm, 2, buf, mlen);
    aleph_member_stats st;
    aleph_member_stats_get(tm.m, &st);
    assert_int_equal(st.dag_units, 1);
    assert_int_equal(tm.log.dropped, 0);
    ts_member_free(&tm);
}

static void messages_are_bounded(void **state)
{
    (void)state;
    message msg;
    uint8_t b[4 + 32 * 300] = {0};
    assert_non_null(message_decode(b, 0, 4, &msg));
    b[0] = 99;
    assert_non_null(message_decode(b, 1, 4, &msg));

    b[0] = MSG_REQUEST_UNITS;
    b[1] = 2;
    assert_null(message_decode(b, 3 + 12, 4, &msg));
    assert_int_equal(msg.count, 2);
    assert_non_null(message_decode(b, 3 + 11, 4, &msg)); /* truncated */
    assert_non_null(message_decode(b, 3 + 13, 4, &msg)); /* trailing */
    b[1] = 0x01;
    b[2] = 0x01; /* 257 entries: over MSG_LIST_MAX */
    assert_non_null(message_decode(b, 3 + 257 * 6, 4, &msg));

    b[0] = MSG_HIGHEST;
    b[1] = 4;
    b[2] = 0;
    memset(b + 3, 0, 16);
    assert_null(message_decode(b, 3 + 16, 4, &msg));
    b[1] = 3;
    assert_non_null(message_decode(b, 3 + 12, 4, &msg)); /* wrong length for the committee */
    b[1] = 4;
    memset(b + 3, 0xff, 4);
    assert_non_null(message_decode(b, 3 + 16, 4, &msg)); /* round out of range */

    b[0] = MSG_PARENTS;
    memset(b + 1, 7, 32);
    b[33] = 5;
    b[34] = 0;
    assert_non_null(message_decode(b, 35 + 5 * 32, 4, &msg)); /* more parents than members */
    b[33] = 4;
    assert_null(message_decode(b, 35 + 4 * 32, 4, &msg));

    assert_non_null(message_decode(b, ALEPH_MESSAGE_BYTES_MAX + 1, 4, &msg));
}

static void payload_walk(void **state)
{
    (void)state;
    uint8_t p[] = {1, 0, 0, 0, 'x', 2, 0, 0, 0, 'y', 'z'};
    size_t off = 0, len;
    const uint8_t *tx;
    assert_int_equal(aleph_payload_next(p, sizeof p, &off, &tx, &len), 1);
    assert_int_equal(len, 1);
    assert_int_equal(aleph_payload_next(p, sizeof p, &off, &tx, &len), 1);
    assert_int_equal(len, 2);
    assert_memory_equal(tx, "yz", 2);
    assert_int_equal(aleph_payload_next(p, sizeof p, &off, &tx, &len), 0);
    off = 0;
    assert_int_equal(aleph_payload_next(p, sizeof p - 1, &off, &tx, &len), 1);
    assert_int_equal(aleph_payload_next(p, sizeof p - 1, &off, &tx, &len), -1);
    off = 0;
    assert_int_equal(aleph_payload_next(p, 3, &off, &tx, &len), -1);
}

/* The payload's format is checked at decoding (validate at the boundary, then trust): a
 * validly signed unit whose payload is cut inside a transaction is refused, and a good one
 * reports its transaction count. Seen to fail with the check removed from unit_decode. */
static void malformed_payload_rejected(void **state)
{
    (void)state;
    uint32_t creators[] = {0, 1, 2, 3}, rounds[] = {1, 1, 0, 1};
    uint8_t control[32] = {0}, good[] = {1, 0, 0, 0, 'x', 2, 0, 0, 0, 'y', 'z'};
    uint8_t cut[] = {1, 0, 0, 0, 'x', 9, 0, 0, 0, 'y', 'z'}, short_len[] = {1, 0, 0};
    const uint8_t *payloads[] = {good, cut, short_len};
    uint32_t lens[] = {sizeof good, sizeof cut, sizeof short_len};
    for (int k = 0; k < 3; k++) {
        unit_draft d = {.session = committee.cfg.session, .creator = 1, .round = 2,
                        .parents_len = 4, .parent_creators = creators, .parent_rounds = rounds,
                        .control_hash = control, .payload = payloads[k], .payload_len = lens[k]};
        uint8_t buf[512], hash[32];
        size_t len = unit_encode_signed(&d, committee.secrets[1].sign_secret_key, buf, hash);
        unit_limits lim = {.session = committee.cfg.session, .members = 4, .quorum = 3,
                           .payload_bytes_max = 100};
        unit_wire w;
        const char *why = unit_decode(buf, len, &lim, &w);
        if (k == 0) {
            assert_null(why);
            assert_int_equal(w.txs_len, 2);
        } else {
            assert_non_null(why);
            assert_non_null(strstr(why, "payload"));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(each_field_malformed),
        cmocka_unit_test(random_corruption_is_safe),
        cmocka_unit_test(exact_boundaries),
        cmocka_unit_test(messages_are_bounded),
        cmocka_unit_test(payload_walk),
        cmocka_unit_test(malformed_payload_rejected),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

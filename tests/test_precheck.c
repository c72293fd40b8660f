/* The node's signature prechecks of range answers (src/node/precheck.c) and the public
 * header's doors they use (aleph_message_units_next, aleph_unit_signed_parts):
 * - a UNITS message is walked unit by unit; a truncated one, one of another type or one
 *   with trailing bytes gives no unit;
 * - messages come out in arrival order, a small one waiting behind a UNITS message still on
 *   the thread pool; with nothing waiting a small one is the caller's to deliver at once;
 * - the member's checks are answered only for exactly the (hash, signature, key) checked on
 *   the pool: a forged signature is invalid, the right signature under another creator's key
 *   is invalid, and a check of bytes not in the message is done there and then;
 * - over the byte bound a message is dropped and counted;
 * - a unit's hash is given only for the unit at that place in the message being delivered
 *   and with its signed length, and is the hash of those bytes.
 * Seen to fail: with `same` comparing only the hash, the other-key check answered 1; with
 * drain not waiting for `done`, the UNITS message came out before its check; with
 * precheck_unit_hash matching only the signed length, the copy outside the message got one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <uv.h>

#include "aleph/aleph.h"
#include "node/precheck.h"

#define N 4u
#define UNITS 3u

typedef struct fixture {
    aleph_secret secrets[N];
    uint8_t pks[N][32];
    uint8_t vks[N][32];
    aleph_config cfg;
    uint8_t units[UNITS][400];
    size_t unit_len[UNITS];
    uint8_t hashes[UNITS][32];
    uint8_t msg[4096];
    size_t msg_len;
} fixture;

typedef struct seen {
    fixture *fx;
    precheck *pc;
    uint32_t from[8];
    size_t len[8];
    int results[8][4]; /* precheck_verify's answers during each delivery */
    size_t count;
} seen;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void setup_fixture(fixture *fx)
{
    assert_int_equal(aleph_init(), 0);
    uint8_t seed[32] = {7};
    assert_int_equal(aleph_keys_deal(N, seed, fx->secrets, fx->pks, fx->vks), 0);
    aleph_config_defaults(&fx->cfg);
    fx->cfg.members = N;
    fx->cfg.session = 42;
    fx->cfg.coin_mode = ALEPH_COIN_OFF;
    fx->cfg.sign_public_keys = (const uint8_t(*)[32])fx->pks;
    /* A UNITS message: type, range lo, range hi, count, then (u32 length, unit) each. */
    uint8_t *p = fx->msg;
    p[0] = ALEPH_TESTING_MSG_UNITS;
    put32(p + 1, 0);
    put32(p + 5, 1);
    p[9] = UNITS;
    p[10] = 0;
    size_t at = 11;
    for (uint32_t i = 0; i < UNITS; i++) {
        uint8_t payload[8] = {0};
        aleph_testing_unit_draft d = {.session = 42, .creator = i, .round = 0,
                                      .payload = payload, .payload_len = 0};
        fx->unit_len[i] = aleph_testing_unit_encode_signed(&d, fx->secrets[i].sign_secret_key,
                                                           fx->units[i], fx->hashes[i]);
        put32(fx->msg + at, (uint32_t)fx->unit_len[i]);
        memcpy(fx->msg + at + 4, fx->units[i], fx->unit_len[i]);
        at += 4 + fx->unit_len[i];
    }
    fx->msg_len = at;
}

static void units_walked(void **state)
{
    (void)state;
    fixture fx;
    setup_fixture(&fx);
    size_t off = 0, len;
    const uint8_t *u;
    for (uint32_t i = 0; i < UNITS; i++) {
        assert_int_equal(aleph_message_units_next(&fx.cfg, fx.msg, fx.msg_len, &off, &u, &len), 1);
        assert_int_equal(len, fx.unit_len[i]);
        assert_memory_equal(u, fx.units[i], len);
        uint32_t creator;
        uint8_t hash[32];
        const uint8_t *sig;
        assert_int_equal(aleph_unit_signed_parts(u, len, &creator, hash, &sig), 1);
        assert_int_equal(creator, i);
        assert_memory_equal(hash, fx.hashes[i], 32);
        assert_ptr_equal(sig, u + len - 64);
    }
    assert_int_equal(aleph_message_units_next(&fx.cfg, fx.msg, fx.msg_len, &off, &u, &len), 0);
    off = 0; /* truncated by one byte: the decoder refuses the whole message */
    assert_int_equal(aleph_message_units_next(&fx.cfg, fx.msg, fx.msg_len - 1, &off, &u, &len), 0);
    uint8_t longer[sizeof fx.msg + 1];
    memcpy(longer, fx.msg, fx.msg_len);
    longer[fx.msg_len] = 0;
    off = 0;
    assert_int_equal(aleph_message_units_next(&fx.cfg, longer, fx.msg_len + 1, &off, &u, &len), 0);
    uint8_t other[8] = {ALEPH_TESTING_MSG_HIGHEST};
    off = 0;
    assert_int_equal(aleph_message_units_next(&fx.cfg, other, sizeof other, &off, &u, &len), 0);
    uint32_t creator;
    uint8_t hash[32];
    const uint8_t *sig;
    assert_int_equal(aleph_unit_signed_parts(fx.units[0], 40, &creator, hash, &sig), 0);
}

/* During a delivery, asks creator 1's unit under creator 2's key, then what a member would
 * ask: each unit's signature in order. */
static void deliver(void *ctx, uint32_t from, const uint8_t *data, size_t len)
{
    seen *s = ctx;
    fixture *fx = s->fx;
    size_t k = s->count++;
    s->from[k] = from;
    s->len[k] = len;
    if (len != fx->msg_len) return;
    s->results[k][3] = precheck_verify(s->pc, fx->hashes[1], fx->units[1] + fx->unit_len[1] - 64,
                                       fx->pks[2]);
    for (uint32_t i = 0; i < UNITS; i++) {
        size_t off = 0, ul;
        const uint8_t *unit = NULL;
        for (uint32_t j = 0; j <= i; j++)
            assert_int_equal(aleph_message_units_next(&fx->cfg, data, len, &off, &unit, &ul), 1);
        s->results[k][i] = precheck_verify(s->pc, fx->hashes[i], unit + ul - 64, fx->pks[i]);
        /* the hash: only for the unit at that place in the message, with its signed length */
        uint8_t h[32] = {0};
        assert_int_equal(precheck_unit_hash(s->pc, fx->units[i], ul - 64, h), 0);
        assert_int_equal(precheck_unit_hash(s->pc, unit, ul - 65, h), 0);
        assert_int_equal(precheck_unit_hash(s->pc, unit, ul - 64, h), 1);
        assert_memory_equal(h, fx->hashes[i], 32);
    }
}

static void in_order_and_exact(void **state)
{
    (void)state;
    fixture fx;
    setup_fixture(&fx);
    /* creator 2's unit with a forged signature (one bit flipped) */
    uint8_t bad[sizeof fx.msg];
    memcpy(bad, fx.msg, fx.msg_len);
    bad[fx.msg_len - 1] ^= 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    precheck pc;
    seen s = {.fx = &fx, .pc = &pc};
    precheck_init(&pc, &loop, &fx.cfg, deliver, &s);
    uint8_t small[6] = {ALEPH_TESTING_MSG_HIGHEST, 0, 0, 0, 0, 0};
    assert_int_equal(precheck_message(&pc, 3, small, sizeof small), 0); /* nothing waits */
    assert_int_equal(precheck_message(&pc, 1, fx.msg, fx.msg_len), 1);
    assert_int_equal(precheck_message(&pc, 2, small, sizeof small), 1); /* waits behind it */
    assert_int_equal(precheck_message(&pc, 3, bad, fx.msg_len), 1);
    assert_int_equal(s.count, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.from[0], 1);
    assert_int_equal(s.from[1], 2);
    assert_int_equal(s.len[1], sizeof small);
    assert_int_equal(s.from[2], 3);
    for (uint32_t i = 0; i < UNITS; i++) assert_int_equal(s.results[0][i], 1);
    assert_int_equal(s.results[0][3], 0); /* the right signature, another creator's key */
    assert_int_equal(s.results[2][0], 1);
    assert_int_equal(s.results[2][1], 1);
    assert_int_equal(s.results[2][2], 0); /* forged */
    assert_int_equal(s.results[2][3], 0);
    assert_int_equal(pc.counters.messages, 2);
    assert_int_equal(pc.counters.signatures, 6);
    assert_int_equal(pc.counters.answered, 6);
    assert_int_equal(pc.counters.checked_here, 2);
    assert_int_equal(pc.counters.hashes, 6);
    /* outside a delivery nothing is answered from results */
    assert_int_equal(precheck_verify(&pc, fx.hashes[0], fx.units[0] + fx.unit_len[0] - 64,
                                     fx.pks[0]),
                     1);
    assert_int_equal(pc.counters.checked_here, 3);
    uint8_t h[32];
    assert_int_equal(precheck_unit_hash(&pc, fx.units[0], fx.unit_len[0] - 64, h), 0);
    precheck_close(&pc);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void bounded(void **state)
{
    (void)state;
    fixture fx;
    setup_fixture(&fx);
    uv_loop_t loop;
    uv_loop_init(&loop);
    precheck pc;
    seen s = {.fx = &fx};
    precheck_init(&pc, &loop, &fx.cfg, deliver, &s);
    /* one UNITS message on the pool, then small messages behind it up to the bound */
    assert_int_equal(precheck_message(&pc, 1, fx.msg, fx.msg_len), 1);
    size_t big_len = 1u << 20;
    uint8_t *big = calloc(1, big_len);
    assert_non_null(big);
    big[0] = ALEPH_TESTING_MSG_HIGHEST;
    size_t fit = (PRECHECK_BYTES_MAX - fx.msg_len) / big_len;
    for (size_t i = 0; i < fit; i++) assert_int_equal(precheck_message(&pc, 2, big, big_len), 1);
    assert_int_equal(pc.counters.dropped, 0);
    assert_int_equal(precheck_message(&pc, 2, big, big_len), 1);
    assert_int_equal(pc.counters.dropped, 1);
    /* closed with the UNITS message still on the pool: nothing is delivered, nothing leaks */
    precheck_close(&pc);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(s.count, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(units_walked),
        cmocka_unit_test(in_order_and_exact),
        cmocka_unit_test(bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

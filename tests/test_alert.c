/* Fork alerts (PROTOCOL.md section 7) as one member applies them: a fork found from two units
 * sends one alert committing the forker's chain; a known forker's units enter only when a
 * completed alert commits them; q signatures complete the own alert and its certificate goes
 * to everyone; a certificate without its alert asks for it; alerts and certificates that are
 * malformed, forged or repeated are rejected, counted and teach nothing.
 * Seen failing: with alert_committed() always true, committed_variant_enters_after_certificate
 * fails (the variant enters before the certificate); with the first-seen check removed from
 * receive_alert, a_second_alert_of_one_sender_is_not_signed fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alert_wire.h"
#include "bytes.h"
#include "crypto.h"
#include "dag_builder.h"
#include "message.h"

static dag_builder b;

typedef struct sent {
    uint32_t to;
    uint8_t type;
    uint8_t body[4096];
    size_t len;
} sent;

static sent out[64];
static size_t out_len;

static aleph_member_stats stats_of(const ts_member *tm)
{
    aleph_member_stats s;
    aleph_member_stats_get(tm->m, &s);
    return s;
}

/* Delivers a message and keeps a copy of every message the step sends. */
static void deliver(ts_member *tm, uint32_t from, const uint8_t *msg, size_t len)
{
    aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = ++tm->now, .from = from,
                      .data = msg, .len = len};
    aleph_update up;
    aleph_member_step(tm->m, &ev, &up);
    out_len = 0;
    for (size_t i = 0; i < up.messages_len && out_len < 64; i++) {
        sent *s = &out[out_len++];
        s->to = up.messages[i].to;
        s->type = up.messages[i].data[0];
        s->len = up.messages[i].len - 1;
        assert_true(s->len <= sizeof s->body);
        memcpy(s->body, up.messages[i].data + 1, s->len);
    }
    ts_log_take(&tm->log, &up);
}

static size_t sent_count(uint8_t type, uint32_t to)
{
    size_t n = 0;
    for (size_t i = 0; i < out_len; i++) n += out[i].type == type && out[i].to == to;
    return n;
}

static const sent *sent_find(uint8_t type)
{
    for (size_t i = 0; i < out_len; i++)
        if (out[i].type == type) return &out[i];
    return NULL;
}

/* An ALERT message by `sender` about `forker` with proof units (MSG_UNIT messages) a and b. */
static size_t make_alert(uint32_t sender, uint32_t forker, const db_unit *a, const db_unit *bu,
                         uint32_t lo, const uint8_t *const *commits, uint32_t count,
                         const uint8_t *key, uint8_t *msg, uint8_t hash[32])
{
    msg[0] = MSG_ALERT;
    alert_encode_signed(msg + 1, b.c.cfg.session, sender, forker, a->msg + 1,
                        (uint32_t)a->len - 1, bu->msg + 1, (uint32_t)bu->len - 1, lo, commits,
                        count, key ? key : b.c.secrets[sender].sign_secret_key, hash);
    return 1 + alert_encoded_len((uint32_t)a->len - 1, (uint32_t)bu->len - 1, count);
}

/* An ALERT_CERT message with the signatures of the members in `mask`. */
static size_t make_cert(const uint8_t hash[32], uint32_t mask, uint8_t *msg)
{
    msg[0] = MSG_ALERT_CERT;
    memcpy(msg + 1, hash, 32);
    uint32_t count = 0;
    uint8_t *p = msg + 35;
    for (uint32_t s = 0; s < b.c.n; s++) {
        if (!(mask >> s & 1)) continue;
        put_uint(p, s, 2);
        sign_hash(p + 2, hash, b.c.secrets[s].sign_secret_key);
        p += 66;
        count++;
    }
    put_uint(msg + 33, count, 2);
    return (size_t)(p - msg);
}

/* A round-0 variant of `creator`'s unit (another payload). */
static db_unit variant(uint32_t creator, uint8_t tag)
{
    db_unit v;
    uint8_t payload[8] = {4, 0, 0, 0, tag, 0, 0, 0};
    v.len = ts_make_unit(&b.c, creator, 0, NULL, NULL, payload, 8, v.msg, sizeof v.msg, v.hash);
    v.present = 1;
    return v;
}

/* An observer (member 0) of N = 4 holding round 0 of every creator. */
static void setup(ts_member *tm)
{
    db_init(&b, 4, ALEPH_COIN_OFF);
    db_add_round(&b, 0, 0xf, 0);
    db_observer(&b, tm);
    for (uint32_t c = 0; c < 4; c++) db_deliver(&b, tm, &b.units[0][c], c);
    assert_int_equal(stats_of(tm).dag_units, 4);
}

static void fork_found_sends_one_alert(void **state)
{
    (void)state;
    ts_member tm;
    setup(&tm);
    db_unit v1 = variant(2, 1), v2 = variant(2, 2);
    deliver(&tm, 2, v1.msg, v1.len);
    aleph_member_stats s = stats_of(&tm);
    assert_int_equal(s.forks_detected, 1);
    assert_int_equal(s.alerts_sent, 1);
    assert_int_equal(s.dag_units, 4); /* the second unit is the proof, not a DAG member */
    assert_int_equal(tm.log.forks, 1);
    assert_int_equal(sent_count(MSG_ALERT, ALEPH_TO_ALL), 1);
    /* The alert: sender 0, forker 2, both units, and the chain of 2 in the DAG. */
    alert_wire w;
    unit_limits lim = {.session = b.c.cfg.session, .members = 4, .quorum = 3,
                       .payload_bytes_max = b.c.cfg.unit_bytes_max};
    const sent *a = sent_find(MSG_ALERT);
    assert_null(alert_decode(a->body, a->len, &lim, &w));
    assert_int_equal(w.sender, 0);
    assert_int_equal(w.forker, 2);
    assert_int_equal(w.commit_round_lo, 0);
    assert_int_equal(w.commit_count, 1);
    assert_memory_equal(w.commits, b.units[0][2].hash, 32);
    assert_memory_equal(w.b_hash, v1.hash, 32);
    /* A third variant: refused (no completed alert commits it), not blamed on the sender,
     * and no second alert. */
    deliver(&tm, 1, v2.msg, v2.len);
    s = stats_of(&tm);
    assert_int_equal(s.forker_units_refused, 2); /* the proof and this one */
    assert_int_equal(s.messages_dropped, 0);
    assert_int_equal(s.alerts_sent, 1);
    assert_int_equal(s.dag_units, 4);
    assert_int_equal(out_len, 0);
    ts_member_free(&tm);
}

static void committed_variant_enters_after_certificate(void **state)
{
    (void)state;
    ts_member tm;
    setup(&tm);
    db_unit v1 = variant(2, 1);
    deliver(&tm, 2, v1.msg, v1.len); /* fork found: 2 is a known forker */
    /* A unit of creator 1 that took v1 as its parent (1 built on it before it knew). */
    uint8_t hashes[4][32];
    for (uint32_t c = 0; c < 4; c++) memcpy(hashes[c], b.units[0][c].hash, 32);
    memcpy(hashes[2], v1.hash, 32);
    int64_t parents[4] = {0, 0, 0, 0};
    uint8_t child[DB_UNIT_BYTES], child_hash[32];
    size_t child_len =
        ts_make_unit(&b.c, 1, 1, parents, hashes, NULL, 0, child, sizeof child, child_hash);
    deliver(&tm, 1, child, child_len);
    assert_int_equal(sent_count(MSG_REQUEST_PARENTS, 1), 1);
    uint8_t answer[1 + 32 + 2 + 4 * 32];
    answer[0] = MSG_PARENTS;
    memcpy(answer + 1, child_hash, 32);
    put_uint(answer + 33, 4, 2);
    memcpy(answer + 35, hashes, 4 * 32);
    deliver(&tm, 1, answer, sizeof answer);
    assert_int_equal(sent_count(MSG_REQUEST_HASHES, 1), 1);
    deliver(&tm, 1, v1.msg, v1.len);
    assert_int_equal(stats_of(&tm).dag_units, 4); /* refused: nothing commits it yet */
    assert_int_equal(stats_of(&tm).units_pending, 1);

    /* Member 1's alert about 2 commits v1: member 0 signs it for member 1. */
    const uint8_t *commits[1] = {v1.hash};
    uint8_t msg[4096], hash[32];
    size_t len = make_alert(1, 2, &b.units[0][2], &v1, 0, commits, 1, NULL, msg, hash);
    deliver(&tm, 1, msg, len);
    assert_int_equal(sent_count(MSG_ALERT_SIGNATURE, 1), 1);
    const sent *sig = sent_find(MSG_ALERT_SIGNATURE);
    assert_memory_equal(sig->body, hash, 32);
    assert_true(verify_hash(hash, sig->body + 32, b.c.sign_pks[0]));
    deliver(&tm, 1, v1.msg, v1.len);
    assert_int_equal(stats_of(&tm).dag_units, 4); /* signed is not complete */

    /* The certificate (q = 3 signatures): v1 enters, and the child with it. */
    uint8_t cert[512];
    size_t cert_len = make_cert(hash, 0xe, cert);
    deliver(&tm, 1, cert, cert_len);
    assert_int_equal(stats_of(&tm).alert_certificates_completed, 1);
    deliver(&tm, 3, v1.msg, v1.len);
    aleph_member_stats s = stats_of(&tm);
    assert_int_equal(s.forker_units_admitted, 1);
    assert_int_equal(s.dag_units, 6);
    assert_int_equal(s.units_pending, 0);
    /* Sending v1 on now sends the certificate first, so that it enters there too. */
    uint8_t req[3 + 32] = {MSG_REQUEST_HASHES, 1, 0};
    memcpy(req + 3, v1.hash, 32);
    deliver(&tm, 3, req, sizeof req);
    assert_int_equal(out_len, 2);
    assert_int_equal(out[0].type, MSG_ALERT_CERT);
    assert_int_equal(out[1].type, MSG_UNIT);
    ts_member_free(&tm);
}

static void own_alert_completes_with_a_quorum(void **state)
{
    (void)state;
    ts_member tm;
    setup(&tm);
    db_unit v1 = variant(2, 1);
    deliver(&tm, 2, v1.msg, v1.len);
    uint8_t hash[32];
    memcpy(hash, b.units[0][0].hash, 32);
    alert_wire w;
    unit_limits lim = {.session = b.c.cfg.session, .members = 4, .quorum = 3,
                       .payload_bytes_max = b.c.cfg.unit_bytes_max};
    assert_null(alert_decode(sent_find(MSG_ALERT)->body, sent_find(MSG_ALERT)->len, &lim, &w));
    memcpy(hash, w.hash, 32);
    uint8_t msg[1 + 96];
    msg[0] = MSG_ALERT_SIGNATURE;
    memcpy(msg + 1, hash, 32);
    sign_hash(msg + 33, hash, b.c.secrets[1].sign_secret_key);
    deliver(&tm, 1, msg, sizeof msg);
    assert_int_equal(stats_of(&tm).alert_certificates_completed, 0); /* 2 of q = 3 */
    /* Member 2 sends member 3's signature: rejected. */
    sign_hash(msg + 33, hash, b.c.secrets[3].sign_secret_key);
    deliver(&tm, 2, msg, sizeof msg);
    assert_int_equal(stats_of(&tm).alerts_invalid, 1);
    assert_int_equal(stats_of(&tm).alert_certificates_completed, 0);
    sign_hash(msg + 33, hash, b.c.secrets[2].sign_secret_key);
    deliver(&tm, 2, msg, sizeof msg);
    assert_int_equal(stats_of(&tm).alert_certificates_completed, 1);
    assert_int_equal(sent_count(MSG_ALERT_CERT, ALEPH_TO_ALL), 1);
    cert_wire c;
    const sent *cs = sent_find(MSG_ALERT_CERT);
    assert_null(cert_decode(cs->body, cs->len, 4, 3, &c));
    assert_int_equal(c.count, 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(cert_signer(&c, i), i);
        assert_true(verify_hash(hash, cert_signature(&c, i), b.c.sign_pks[i]));
    }
    /* A signature for an alert this member never sent. */
    msg[1] ^= 1;
    deliver(&tm, 3, msg, sizeof msg);
    assert_int_equal(tm.log.dropped, 2);
    ts_member_free(&tm);
}

static void bad_alerts_teach_nothing(void **state)
{
    (void)state;
    ts_member tm;
    setup(&tm);
    db_add_round(&b, 1, 0xf, 0xf);
    db_unit v1 = variant(2, 1), forged = variant(2, 3);
    forged.msg[forged.len - 1] ^= 1; /* the unit's signature no longer holds */
    const uint8_t *none[1] = {NULL};
    uint8_t msg[4096], hash[32];
    size_t len[8];
    uint8_t msgs[8][4096];
    len[0] = make_alert(1, 2, &b.units[0][2], &b.units[0][3], 0, none, 0, NULL, msgs[0], hash);
    len[1] = make_alert(1, 2, &b.units[0][2], &b.units[0][2], 0, none, 0, NULL, msgs[1], hash);
    len[2] = make_alert(1, 2, &b.units[0][2], &b.units[1][2], 0, none, 0, NULL, msgs[2], hash);
    len[3] = make_alert(1, 2, &b.units[0][2], &v1, 0, none, 0,
                        b.c.secrets[3].sign_secret_key, msgs[3], hash); /* forged sender */
    len[4] = make_alert(1, 2, &b.units[0][2], &forged, 0, none, 0, NULL, msgs[4], hash);
    len[5] = make_alert(1, 2, &b.units[0][2], &v1, 0, none, 0, NULL, msgs[5], hash);
    len[5] -= 1; /* truncated */
    len[6] = make_alert(1, 2, &b.units[0][2], &v1, 0, none, 0, NULL, msgs[6], hash);
    msgs[6][len[6]++] = 0; /* trailing byte */
    len[7] = make_alert(1, 2, &b.units[0][2], &v1, 0, none, 0, NULL, msgs[7], hash);
    put_uint(msgs[7] + len[7] - 64 - 4, ALERT_COMMITS_MAX + 1, 4);
    for (int i = 0; i < 8; i++) {
        deliver(&tm, 1, msgs[i], len[i]);
        assert_int_equal(tm.log.dropped, (size_t)i + 1);
        assert_int_equal(out_len, 0);
    }
    /* Certificates: too few signatures, a forged one, signers out of order. */
    uint8_t good_hash[32];
    make_alert(1, 2, &b.units[0][2], &v1, 0, none, 0, NULL, msg, good_hash);
    uint8_t cert[512];
    size_t cl = make_cert(good_hash, 0x3, cert);
    deliver(&tm, 1, cert, cl);
    cl = make_cert(good_hash, 0xe, cert);
    cert[35 + 2 + 5] ^= 1;
    deliver(&tm, 1, cert, cl);
    cl = make_cert(good_hash, 0xe, cert);
    cert[35] = 3; /* first signer 3, then 2 */
    deliver(&tm, 1, cert, cl);
    aleph_member_stats s = stats_of(&tm);
    assert_int_equal(tm.log.dropped, 11);
    assert_int_equal(s.alerts_invalid, 11);
    assert_int_equal(s.forks_detected, 0);
    assert_int_equal(s.alerts_held, 0);
    assert_int_equal(out_len, 0);
    ts_member_free(&tm);
}

static void a_second_alert_of_one_sender_is_not_signed(void **state)
{
    (void)state;
    ts_member tm;
    setup(&tm);
    db_unit v1 = variant(2, 1), v2 = variant(2, 2);
    const uint8_t *none[1] = {NULL};
    uint8_t msg[4096], hash[32];
    size_t len = make_alert(1, 2, &b.units[0][2], &v1, 0, none, 0, NULL, msg, hash);
    deliver(&tm, 1, msg, len);
    /* Learnt from the alert: reported, own alert to all, signature to its sender. */
    assert_int_equal(stats_of(&tm).forks_detected, 1);
    assert_int_equal(sent_count(MSG_ALERT, ALEPH_TO_ALL), 1);
    assert_int_equal(sent_count(MSG_ALERT_SIGNATURE, 1), 1);
    /* The same alert again: the sender lacks the signature, it gets it again. */
    deliver(&tm, 1, msg, len);
    assert_int_equal(sent_count(MSG_ALERT_SIGNATURE, 1), 1);
    /* Another alert of 1 about 2: never signed. */
    len = make_alert(1, 2, &b.units[0][2], &v2, 0, none, 0, NULL, msg, hash);
    deliver(&tm, 1, msg, len);
    assert_int_equal(stats_of(&tm).alerts_ignored, 1);
    assert_int_equal(out_len, 0);
    assert_int_equal(stats_of(&tm).alerts_sent, 1);
    ts_member_free(&tm);
}

static void certificate_before_alert_asks_for_it(void **state)
{
    (void)state;
    ts_member tm;
    setup(&tm);
    db_unit v1 = variant(2, 1);
    const uint8_t *commits[1] = {v1.hash};
    uint8_t msg[4096], hash[32], cert[512];
    size_t len = make_alert(1, 2, &b.units[0][2], &v1, 0, commits, 1, NULL, msg, hash);
    size_t cl = make_cert(hash, 0xe, cert);
    deliver(&tm, 3, cert, cl);
    assert_int_equal(sent_count(MSG_REQUEST_ALERT, 3), 1);
    assert_memory_equal(sent_find(MSG_REQUEST_ALERT)->body, hash, 32);
    deliver(&tm, 3, msg, len);
    aleph_member_stats s = stats_of(&tm);
    assert_int_equal(s.alert_certificates_completed, 1);
    assert_int_equal(s.forks_detected, 1);
    assert_int_equal(sent_count(MSG_ALERT_SIGNATURE, 1), 1);
    /* Committed, so v1 enters though 2 is a known forker (its slot holds another unit). */
    deliver(&tm, 3, v1.msg, v1.len);
    assert_int_equal(stats_of(&tm).dag_units, 5);
    assert_int_equal(stats_of(&tm).forker_units_admitted, 1);
    /* Asked for the alert: it is served, with the certificate. */
    uint8_t req[33] = {MSG_REQUEST_ALERT};
    memcpy(req + 1, hash, 32);
    deliver(&tm, 2, req, sizeof req);
    assert_int_equal(sent_count(MSG_ALERT, 2), 1);
    assert_int_equal(sent_count(MSG_ALERT_CERT, 2), 1);
    ts_member_free(&tm);
}

/* A fresh member 0 of the builder's committee (setup() made it), to restore records into. */
static aleph_member *fresh_member(void)
{
    const char *err = NULL;
    aleph_member *m = aleph_member_new(&b.c.cfg, &b.c.secrets[0], &err);
    assert_non_null(m);
    return m;
}

/* Restores into m the ALERT record of `sender` about `forker` with proof units a and bu
 * (committing nothing); the record's message goes into msg (4096 bytes), its length into
 * *len. Returns the restore's reason, or NULL. */
static const char *restore_alert(aleph_member *m, uint32_t sender, uint32_t forker,
                                 const db_unit *a, const db_unit *bu, uint8_t *msg, size_t *len)
{
    const uint8_t *none[1] = {NULL};
    uint8_t hash[32];
    *len = make_alert(sender, forker, a, bu, 0, none, 0, NULL, msg, hash);
    return aleph_member_restore_record(m, ALEPH_PERSIST_ALERT, msg + 1, *len - 1);
}

static aleph_member_stats member_stats(const aleph_member *m)
{
    aleph_member_stats s;
    aleph_member_stats_get(m, &s);
    return s;
}

/* Restoring alert records (aleph_member_restore_record) keeps what a running member keeps:
 * of one sender about one forker the alert it signed and at most one more (which a
 * certificate showed complete), never a third. Seen to fail with the bound at three (the
 * third alert restored, 3 held). */
static void restored_alerts_of_one_sender_are_bounded(void **state)
{
    (void)state;
    ts_member tm;
    setup(&tm);
    aleph_member *m = fresh_member();
    uint8_t msg[4096];
    size_t len;
    for (uint8_t k = 0; k < 3; k++) {
        db_unit v = variant(2, (uint8_t)(k + 1));
        const char *why = restore_alert(m, 1, 2, &b.units[0][2], &v, msg, &len);
        if (k < 2)
            assert_null(why);
        else
            assert_non_null(why);
    }
    assert_int_equal(member_stats(m).alerts_held, 2);
    aleph_member_free(m);
    ts_member_free(&tm);
}

/* Restored units of a restored forker (aleph_member_restore after the alert records): only
 * the variants a restored certificate commits enter, except the member's own units (an alert
 * about its own key, after a lost backup, does not keep it from restoring what it created).
 * Seen to fail: with the restored fork not marked (the uncommitted variant restored) and
 * with own units admitted like any forker's (member 0's own unit refused). */
static void restored_forkers_units_need_a_commitment(void **state)
{
    (void)state;
    ts_member tm;
    setup(&tm);
    aleph_member *m = fresh_member();
    uint8_t msg[4096];
    size_t len;
    db_unit v2 = variant(2, 1), v0 = variant(0, 1);
    assert_null(restore_alert(m, 1, 2, &b.units[0][2], &v2, msg, &len));
    assert_null(restore_alert(m, 1, 0, &b.units[0][0], &v0, msg, &len));
    /* forker 2's round-0 unit: no certificate commits it */
    assert_non_null(aleph_member_restore(m, b.units[0][2].msg + 1, b.units[0][2].len - 1));
    /* member 0's own round-0 unit, though an alert names member 0 a forker */
    assert_null(aleph_member_restore(m, b.units[0][0].msg + 1, b.units[0][0].len - 1));
    /* an honest creator's unit */
    assert_null(aleph_member_restore(m, b.units[0][1].msg + 1, b.units[0][1].len - 1));
    assert_int_equal(member_stats(m).units_restored, 2);
    aleph_member_free(m);
    ts_member_free(&tm);
}

/* A restored own alert goes out again as it is at the first tick, to every peer (the peers'
 * signatures are not in the backup), and the member signs no other alert about the forker.
 * Seen to fail with the own alert restored like another sender's (the mutant crashed here:
 * an own entry without its table of signatures). */
static void restored_own_alert_goes_out_again(void **state)
{
    (void)state;
    ts_member tm;
    setup(&tm);
    aleph_member *m = fresh_member();
    uint8_t msg[4096];
    size_t len;
    db_unit v2 = variant(2, 1);
    assert_null(restore_alert(m, 0, 2, &b.units[0][2], &v2, msg, &len));
    aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = 1};
    aleph_update up;
    aleph_member_step(m, &ev, &up);
    uint32_t to_mask = 0;
    for (size_t i = 0; i < up.messages_len; i++) {
        if (up.messages[i].len != len || up.messages[i].data[0] != MSG_ALERT) continue;
        assert_memory_equal(up.messages[i].data, msg, len);
        to_mask |= up.messages[i].to == ALEPH_TO_ALL ? 0xe : 1u << up.messages[i].to;
    }
    assert_int_equal(to_mask, 0xe); /* members 1, 2 and 3 */
    assert_int_equal(member_stats(m).alerts_sent, 0);
    aleph_member_free(m);
    ts_member_free(&tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fork_found_sends_one_alert),
        cmocka_unit_test(committed_variant_enters_after_certificate),
        cmocka_unit_test(own_alert_completes_with_a_quorum),
        cmocka_unit_test(bad_alerts_teach_nothing),
        cmocka_unit_test(a_second_alert_of_one_sender_is_not_signed),
        cmocka_unit_test(certificate_before_alert_asks_for_it),
        cmocka_unit_test(restored_alerts_of_one_sender_are_bounded),
        cmocka_unit_test(restored_forkers_units_need_a_commitment),
        cmocka_unit_test(restored_own_alert_goes_out_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

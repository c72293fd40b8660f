/*
 * Tests of the node's pure parts (src/node): framing in stages, the authenticated
 * handshake, committee and key files, and the output file format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "aleph/aleph.h"
#include "net/framing.h"
#include "net/handshake.h"
#include "base/keys.h"
#include "harness/loadgen.h"
#include "node/output.h"
#include "test_support.h"
#include "base/util.h"

/* ---- framing ------------------------------------------------------------------------------- */

typedef struct frames_seen {
    int count;
    size_t lens[16];
    uint8_t first[16];
} frames_seen;

static int collect(void *ctx, const uint8_t *data, size_t len)
{
    frames_seen *s = ctx;
    if (s->count < 16) {
        s->lens[s->count] = len;
        s->first[s->count] = len ? data[0] : 0;
    }
    s->count++;
    return 0;
}

static size_t put_frame(uint8_t *out, const uint8_t *body, uint32_t len)
{
    le32_put(out, len);
    memcpy(out + 4, body, len);
    return 4 + len;
}

static void test_framing_any_split(void **state)
{
    uint8_t stream[256];
    uint8_t a[10], b[1] = {0x42}, c[100];
    memset(a, 0xaa, sizeof a);
    memset(c, 0xcc, sizeof c);
    size_t n = 0;
    n += put_frame(stream + n, a, sizeof a);
    n += put_frame(stream + n, b, 0); /* an empty frame */
    n += put_frame(stream + n, b, sizeof b);
    n += put_frame(stream + n, c, sizeof c);
    /* Every way of cutting the stream in two, and byte by byte, gives the same frames. */
    for (size_t cut = 0; cut <= n; cut++) {
        frame_reader r;
        frame_reader_init(&r, 1000);
        frames_seen s = {0};
        assert_int_equal(frame_reader_feed(&r, stream, cut, collect, &s, NULL), FRAME_OK);
        assert_int_equal(frame_reader_feed(&r, stream + cut, n - cut, collect, &s, NULL), FRAME_OK);
        assert_int_equal(s.count, 4);
        assert_int_equal(s.lens[0], 10);
        assert_int_equal(s.lens[1], 0);
        assert_int_equal(s.lens[2], 1);
        assert_int_equal(s.first[2], 0x42);
        assert_int_equal(s.lens[3], 100);
        assert_int_equal(s.first[3], 0xcc);
        frame_reader_free(&r);
    }
    frame_reader r;
    frame_reader_init(&r, 1000);
    frames_seen s = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(frame_reader_feed(&r, stream + i, 1, collect, &s, NULL), FRAME_OK);
    assert_int_equal(s.count, 4);
    frame_reader_free(&r);
}

static void test_framing_over_limit(void **state)
{
    uint8_t hdr[4];
    le32_put(hdr, 1001);
    frame_reader r;
    frame_reader_init(&r, 1000);
    frames_seen s = {0};
    uint32_t declared = 0;
    /* Also when the header arrives in pieces: nothing is allocated for the body. */
    assert_int_equal(frame_reader_feed(&r, hdr, 2, collect, &s, &declared), FRAME_OK);
    assert_int_equal(frame_reader_feed(&r, hdr + 2, 2, collect, &s, &declared), FRAME_TOO_LARGE);
    assert_int_equal(declared, 1001);
    assert_null(r.body);
    assert_int_equal(s.count, 0);
    frame_reader_free(&r);
}

/* ---- handshake ------------------------------------------------------------------------------ */

typedef struct hs_keys {
    uint8_t pk[4][32];
    uint8_t sk[4][64];
} hs_keys;

static void make_keys(hs_keys *k)
{
    for (int i = 0; i < 4; i++) crypto_sign_keypair(k->pk[i], k->sk[i]);
}

static void test_handshake_valid_both_ways(void **state)
{
    hs_keys k;
    make_keys(&k);
    uint64_t session = 0x1122334455667788ull;
    uint8_t n1[32], n2[32], got[32];
    randombytes_buf(n1, 32);
    randombytes_buf(n2, 32);
    uint8_t hello[HS_HELLO_BYTES];
    handshake_hello(hello, session, n1);
    assert_null(handshake_hello_check(hello, sizeof hello, session, got));
    assert_memory_equal(got, n1, 32);
    assert_non_null(handshake_hello_check(hello, sizeof hello, session + 1, got));
    assert_non_null(handshake_hello_check(hello, sizeof hello - 1, session, got));

    /* member 1 (nonce n1) dials member 3 (nonce n2) */
    uint8_t auth[HS_AUTH_BYTES];
    uint32_t who = 99;
    handshake_auth(auth, session, n1, n2, 1, 3, k.sk[1]);
    assert_null(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4,
                                     (const uint8_t(*)[32])k.pk, UINT32_MAX, &who));
    assert_int_equal(who, 1);
    handshake_auth(auth, session, n2, n1, 3, 1, k.sk[3]);
    assert_null(handshake_auth_check(auth, sizeof auth, session, n1, n2, 1, 4,
                                     (const uint8_t(*)[32])k.pk, 3, &who));
    assert_int_equal(who, 3);
}

/* Rejected, for the reason expected (a part of the message). */
static void expect_reason(const char *got, const char *part, const char *what)
{
    if (!got) fail_msg("accepted %s", what);
    if (!strstr(got, part)) fail_msg("%s rejected as '%s', expected '%s'", what, got, part);
}

/* Every rejection, each for its own reason: checked to fail with the signer's nonce left out
 * of the transcript (mutant handshake_signer_nonce: the auth signed over another nonce of
 * the signer passes) and with the index check reading one entry past the key table (mutant
 * handshake_index_past_table: index == members reaches the signature check). */
static void test_handshake_rejections(void **state)
{
    hs_keys k;
    make_keys(&k);
    const uint8_t(*pks)[32] = (const uint8_t(*)[32])k.pk;
    uint64_t session = 7;
    uint8_t n1[32], n2[32], n3[32];
    randombytes_buf(n1, 32);
    randombytes_buf(n2, 32);
    randombytes_buf(n3, 32);
    uint8_t auth[HS_AUTH_BYTES];
    uint32_t who;
    const char *bad_sig = "bad signature";
    /* The valid case, against which each rejection below changes one thing. */
    handshake_auth(auth, session, n1, n2, 1, 3, k.sk[1]);
    assert_null(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4, pks, UINT32_MAX, &who));
    /* claims index 1 but signs with member 2's key */
    handshake_auth(auth, session, n1, n2, 1, 3, k.sk[2]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4, pks, UINT32_MAX, &who),
                  bad_sig, "another member's key");
    /* replay: signed for another verifier nonce */
    handshake_auth(auth, session, n1, n3, 1, 3, k.sk[1]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4, pks, UINT32_MAX, &who),
                  bad_sig, "another verifier nonce");
    /* replay: signed over another nonce of the signer than the one its hello sent */
    handshake_auth(auth, session, n3, n2, 1, 3, k.sk[1]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4, pks, UINT32_MAX, &who),
                  bad_sig, "another signer nonce");
    /* another session */
    handshake_auth(auth, session + 1, n1, n2, 1, 3, k.sk[1]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4, pks, UINT32_MAX, &who),
                  bad_sig, "another session");
    /* index outside the committee: just past the key table, and far past it */
    handshake_auth(auth, session, n1, n2, 4, 3, k.sk[1]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4, pks, UINT32_MAX, &who),
                  "outside the committee", "index == members");
    handshake_auth(auth, session, n1, n2, 0xffffffffu, 3, k.sk[1]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4, pks, UINT32_MAX, &who),
                  "outside the committee", "index 2^32-1");
    /* our own index */
    handshake_auth(auth, session, n1, n2, 3, 3, k.sk[3]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4, pks, UINT32_MAX, &who),
                  "our own index", "our own index");
    /* meant for another member */
    handshake_auth(auth, session, n1, n2, 1, 2, k.sk[1]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n2, n1, 3, 4, pks, UINT32_MAX, &who),
                  "another member", "an auth meant for another member");
    /* the higher index dials the lower: refused by the dialing rule */
    handshake_auth(auth, session, n1, n2, 3, 1, k.sk[3]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n2, n1, 1, 4, pks, UINT32_MAX, &who),
                  "higher index", "a dial from the higher index");
    /* the dialed peer answers as someone else */
    handshake_auth(auth, session, n2, n1, 2, 1, k.sk[2]);
    expect_reason(handshake_auth_check(auth, sizeof auth, session, n1, n2, 1, 4, pks, 3, &who),
                  "another index than the one dialed", "an answer from another index");
    /* malformed: one byte short */
    handshake_auth(auth, session, n1, n2, 1, 3, k.sk[1]);
    expect_reason(handshake_auth_check(auth, sizeof auth - 1, session, n2, n1, 3, 4, pks, UINT32_MAX, &who),
                  "malformed", "a short auth");
    /* hellos: each reason */
    uint8_t hello[HS_HELLO_BYTES], got[32];
    handshake_hello(hello, session, n1);
    expect_reason(handshake_hello_check(hello, sizeof hello, session + 1, got), "wrong session",
                  "a hello of another session");
    expect_reason(handshake_hello_check(hello, sizeof hello - 1, session, got), "not an aleph",
                  "a short hello");
    hello[4] = HS_VERSION + 1;
    expect_reason(handshake_hello_check(hello, sizeof hello, session, got), "version",
                  "a hello of another version");
    handshake_hello(hello, session, n1);
    hello[0] = 'X';
    expect_reason(handshake_hello_check(hello, sizeof hello, session, got), "not an aleph",
                  "a hello without the magic");
}

/* ---- key files ------------------------------------------------------------------------------- */

static char g_dir[256];

static int make_tmp(void **state)
{
    snprintf(g_dir, sizeof g_dir, "%s/aleph-test-node-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(g_dir));
    return 0;
}

static int remove_tmp(void **state)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_keygen_and_load(void **state)
{
    char out[300], path[400], err[KEYS_ERR_MAX];
    snprintf(out, sizeof out, "%s/keys", g_dir);
    keygen_params p = {.members = 4, .out_dir = out, .host = "127.0.0.1", .base_port = 62000,
                       .coin_mode = ALEPH_COIN_THRESHOLD, .unit_bytes_max = 1u << 20};
    assert_int_equal(keygen_write(&p, err, sizeof err), 0);
    /* never overwritten */
    assert_int_not_equal(keygen_write(&p, err, sizeof err), 0);
    assert_non_null(strstr(err, "already exists"));

    snprintf(path, sizeof path, "%s/committee.json", out);
    committee c;
    assert_int_equal(committee_load(path, &c, err, sizeof err), 0);
    assert_int_equal(c.size, 4);
    assert_int_equal(c.members[2].port, 62002);
    assert_int_equal(c.members[2].client_port, 62006);
    for (uint32_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/member-%u.key", out, i);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        aleph_secret s;
        assert_int_equal(member_key_load(path, &c, &s, err, sizeof err), 0);
        assert_int_equal(s.index, i);
        /* the core accepts it too */
        aleph_config cfg;
        aleph_config_defaults(&cfg);
        cfg.members = c.size;
        cfg.session = c.session;
        cfg.sign_public_keys = (const uint8_t(*)[32])c.sign_pks;
        cfg.coin_verification_keys = (const uint8_t(*)[32])c.coin_vks;
        const char *e = NULL;
        aleph_member *m = aleph_member_new(&cfg, &s, &e);
        assert_non_null(m);
        aleph_member_free(m);
    }
    /* a key of member 1 relabelled as member 2: does not match */
    snprintf(path, sizeof path, "%s/member-1.key", out);
    char *text = read_text(path);
    char *idx = strstr(text, "\"index\": 1");
    assert_non_null(idx);
    idx[9] = '2';
    snprintf(path, sizeof path, "%s/swapped.key", out);
    write_text(path, text);
    aleph_secret s;
    assert_int_not_equal(member_key_load(path, &c, &s, err, sizeof err), 0);
    assert_non_null(strstr(err, "does not match"));
    committee_free(&c);

    /* an edited public key changes the content but not the session: caught */
    snprintf(path, sizeof path, "%s/committee.json", out);
    text = read_text(path);
    char *pk = strstr(text, "\"sign_public_key\": \"");
    assert_non_null(pk);
    pk[20] = pk[20] == '0' ? '1' : '0';
    snprintf(path, sizeof path, "%s/edited.json", out);
    write_text(path, text);
    assert_int_not_equal(committee_load(path, &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "session"));

    /* malformed JSON: the line is named */
    snprintf(path, sizeof path, "%s/broken.json", out);
    write_text(path, "{\n  \"format\": \"aleph-committee/1\",\n  \"size\": 4\n  \"coin\": 1\n}\n");
    assert_int_not_equal(committee_load(path, &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "line 4"));

    /* missing file */
    snprintf(path, sizeof path, "%s/none.json", out);
    assert_int_not_equal(committee_load(path, &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "No such file"));

    /* committee too small */
    p.members = 0;
    assert_int_not_equal(keygen_write(&p, err, sizeof err), 0);
}

/* ---- output file ----------------------------------------------------------------------------- */

typedef struct read_back {
    int batches;
    uint32_t rounds[4];
    uint32_t units[4];
    uint64_t txs;
    uint64_t time_ns;
} read_back;

static void on_batch(void *ctx, const output_batch_view *b, const output_unit_view *units)
{
    read_back *rb = ctx;
    rb->rounds[rb->batches] = b->round;
    rb->units[rb->batches] = b->units;
    rb->time_ns = b->output_real_ns;
    for (uint32_t i = 0; i < b->units; i++) {
        size_t off = 0;
        const uint8_t *tx;
        size_t len;
        while (aleph_payload_next(units[i].payload, units[i].payload_len, &off, &tx, &len) == 1) {
            uint64_t send, seq;
            uint32_t client;
            assert_int_equal(probe_tx_parse(tx, len, &send, &seq, &client), 1);
            assert_int_equal(seq, rb->txs);
            assert_int_equal(client, 77);
            rb->txs++;
        }
    }
    rb->batches++;
}

static void test_output_round_trip(void **state)
{
    char path[400], err[256];
    snprintf(path, sizeof path, "%s/output.bin", g_dir);
    output_file o;
    output_policy pol = {.mode = OUTPUT_FULL};
    int gap;
    assert_int_equal(output_open(&o, g_dir, 3, 0xabcdefull, &pol, err, sizeof err), 0);
    uint8_t payload[3][2 * (4 + 64)];
    aleph_ordered_unit units[3];
    uint8_t hash[32] = {1};
    uint64_t seq = 0;
    for (int u = 0; u < 3; u++) {
        for (int t = 0; t < 2; t++) {
            le32_put(payload[u] + t * 68, 64);
            probe_tx_fill(payload[u] + t * 68 + 4, 64, 1000, seq++, 77);
        }
        units[u] = (aleph_ordered_unit){.creator = (uint32_t)u, .round = 5, .hash = hash,
                                        .payload = payload[u], .payload_len = sizeof payload[u],
                                        .txs_len = 2};
    }
    aleph_batch b1 = {.round = 5, .head_creator = 1, .head_hash = hash, .head_depth = 2,
                      .units_len = 2, .units = units};
    aleph_batch b2 = {.round = 6, .head_creator = 2, .head_hash = hash, .head_depth = 3,
                      .units_len = 1, .units = units + 2};
    output_batch(&o, &b1, 0, 123456789, &gap);
    assert_int_equal(output_flush(&o), 0);
    output_tail t;
    assert_int_equal(output_tail_open(&t, path), 0);
    read_back rb = {0};
    assert_int_equal(output_tail_poll(&t, on_batch, &rb), 1);
    output_batch(&o, &b2, 0, 223456789, &gap);
    output_close(&o);
    assert_int_equal(output_tail_poll(&t, on_batch, &rb), 1); /* follows the growing file */
    assert_int_equal(rb.batches, 2);
    assert_int_equal(rb.rounds[1], 6);
    assert_int_equal(rb.units[0], 2);
    assert_int_equal(rb.txs, 6);
    assert_int_equal(rb.time_ns, 223456789);
    assert_int_equal(t.member, 3);
    assert_int_equal(t.session, 0xabcdefull);
    output_tail_close(&t);
    /* a second node on the same file is refused */
    assert_int_not_equal(output_open(&o, g_dir, 3, 1, &pol, err, sizeof err), 0);
    output_close(&o);
}

int main(void)
{
    if (aleph_init() != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing_any_split),
        cmocka_unit_test(test_framing_over_limit),
        cmocka_unit_test(test_handshake_valid_both_ways),
        cmocka_unit_test(test_handshake_rejections),
        cmocka_unit_test_setup_teardown(test_keygen_and_load, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_output_round_trip, make_tmp, remove_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "garbage.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"


void sim_garbage_init(sim_garbage *g, const aleph_config *cfg, const aleph_secret *secret)
{
    memset(g, 0, sizeof *g);
    g->cfg = *cfg;
    g->session = cfg->session;
    g->members = cfg->members;
    g->quorum = aleph_quorum(cfg->members);
    g->index = secret->index;
    g->coin_share = cfg->coin_mode == ALEPH_COIN_THRESHOLD;
    g->payload_bytes_max = cfg->unit_bytes_max;
    memcpy(g->sign_secret_key, secret->sign_secret_key, 64);
}

void sim_garbage_free(sim_garbage *g)
{
    free(g->last_unit);
    sodium_memzero(g->sign_secret_key, sizeof g->sign_secret_key);
    g->last_unit = NULL;
}

void sim_garbage_observe(sim_garbage *g, const uint8_t *msg, size_t len)
{
    uint32_t type, epoch;
    size_t off;
    if (!aleph_message_header(&g->cfg, msg, len, &type, &epoch, &off) ||
        type != ALEPH_TESTING_MSG_UNIT || len < off + 1)
        return;
    aleph_unit_info w;
    if (aleph_unit_inspect(&g->cfg, msg + off, len - off, &w) != NULL || w.creator != g->index)
        return;
    size_t kept = 1 + len - off; /* the type byte and the unit, without the epoch */
    uint8_t *copy = malloc(kept);
    if (!copy) return;
    copy[0] = msg[0];
    memcpy(copy + 1, msg + off, len - off);
    free(g->last_unit);
    g->last_unit = copy;
    g->last_unit_len = kept;
    g->last_round = w.round;
}

void sim_garbage_epoch(sim_garbage *g, uint64_t session)
{
    g->session = g->cfg.session = session;
    free(g->last_unit); /* of the finished epoch: its session no longer decodes */
    g->last_unit = NULL;
    g->last_unit_len = 0;
    g->last_round = 0;
}

uint32_t sim_garbage_variants(sim_garbage_kind kind)
{
    switch (kind) {
    case SIM_GARBAGE_RANDOM: return 1;
    case SIM_GARBAGE_TRUNCATED: return 1;
    case SIM_GARBAGE_BITFLIP: return 2;
    case SIM_GARBAGE_BAD_SIGNATURE: return 3;
    case SIM_GARBAGE_WRONG_LENGTH: return 12;
    case SIM_GARBAGE_RULE_BROKEN: return 13;
    case SIM_GARBAGE_ALERT: return 7;
    default: return 1;
    }
}

const char *sim_garbage_kind_name(sim_garbage_kind kind)
{
    static const char *names[] = {"random", "truncated", "bitflip", "bad-signature",
                                  "wrong-length", "rule-broken", "alert"};
    return kind < SIM_GARBAGE_KINDS ? names[kind] : "?";
}

static uint8_t *take(size_t len)
{
    return malloc(len ? len : 1);
}

static void fill_random(sim_rng *rng, uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)sim_rng_next(rng);
}

/* A unit message (type byte + unit) from a draft signed with `key`; extra trailing bytes. */
static size_t encode_unit(const aleph_testing_unit_draft *d, const uint8_t key[64], size_t trailing,
                          uint8_t **out)
{
    size_t len = aleph_testing_unit_encoded_len(d);
    uint8_t *buf = take(1 + len + trailing);
    if (!buf) return (size_t)-1;
    buf[0] = ALEPH_TESTING_MSG_UNIT;
    uint8_t hash[32];
    aleph_testing_unit_encode_signed(d, key, buf + 1, hash);
    memset(buf + 1 + len, 0, trailing);
    *out = buf;
    return 1 + len + trailing;
}

/* A unit draft of round `round` with a chosen parent layout; every array is caller-owned. */
typedef struct draft_space {
    uint32_t creators[ALEPH_MEMBERS_MAX + 2];
    uint32_t rounds[ALEPH_MEMBERS_MAX + 2];
    uint8_t control[32];
    uint8_t share[ALEPH_COIN_SHARE_BYTES];
    uint8_t payload[64];
} draft_space;

static aleph_testing_unit_draft base_draft(sim_garbage *g, sim_rng *rng, draft_space *s, uint32_t round)
{
    fill_random(rng, s->control, sizeof s->control);
    fill_random(rng, s->share, sizeof s->share);
    fill_random(rng, s->payload, sizeof s->payload);
    /* A valid-looking full parent set: every member at round-1. */
    uint32_t n = 0;
    if (round > 0)
        for (uint32_t c = 0; c < g->members; c++, n++) {
            s->creators[n] = c;
            s->rounds[n] = round - 1;
        }
    aleph_testing_unit_draft d = {.session = g->session,
                    .creator = g->index,
                    .round = round,
                    .parents_len = n,
                    .parent_creators = s->creators,
                    .parent_rounds = s->rounds,
                    .control_hash = s->control,
                    .payload = s->payload,
                    .payload_len = 0,
                    .coin_share = g->coin_share ? s->share : NULL};
    return d;
}

static size_t rule_broken(sim_garbage *g, sim_rng *rng, uint32_t variant, uint8_t **out,
                          const char **label)
{
    draft_space *s = malloc(sizeof *s);
    if (!s) return (size_t)-1;
    uint32_t r = g->last_round + 1 < 2 ? 2 : g->last_round + 1;
    aleph_testing_unit_draft d = base_draft(g, rng, s, r);
    size_t trailing = 0, len;
    uint8_t *big = NULL;
    switch (variant) {
    case 0: { /* q parents of round r-1, none of them its own */
        *label = "own unit of the previous round missing";
        uint32_t n = 0;
        for (uint32_t c = 0; c < g->members; c++)
            if (c != g->index) s->creators[n] = c, s->rounds[n] = r - 1, n++;
        d.parents_len = n;
        break;
    }
    case 1: { /* own parent, but only q-1 parents of round r-1; the rest older */
        *label = "fewer than a quorum of previous-round parents";
        uint32_t others_prev = g->quorum >= 2 ? g->quorum - 2 : 0;
        for (uint32_t c = 0; c < g->members; c++) {
            if (c == g->index) {
                s->rounds[c] = r - 1;
            } else if (others_prev > 0) {
                s->rounds[c] = r - 1;
                others_prev--;
            } else {
                s->rounds[c] = r - 2;
            }
        }
        break;
    }
    case 2: /* a parent of the unit's own round */
        *label = "parent not below the unit's round";
        s->rounds[(g->index + 1) % g->members] = r;
        break;
    case 3: /* round 0 with parents */
        *label = "round-0 unit with parents";
        d.round = 0;
        for (uint32_t c = 0; c < g->members; c++) s->rounds[c] = 0;
        break;
    case 4: /* a round past the limit */
        *label = "round out of range";
        d.round = ALEPH_ROUND_MAX + 1u;
        for (uint32_t c = 0; c < g->members; c++) s->rounds[c] = ALEPH_ROUND_MAX;
        break;
    case 5: /* parents out of creator order (a duplicate creator when there is only one) */
        *label = "parents not in ascending creator order";
        if (g->members >= 2) {
            uint32_t t = s->creators[0];
            s->creators[0] = s->creators[1];
            s->creators[1] = t;
        } else {
            s->creators[1] = s->creators[0];
            s->rounds[1] = s->rounds[0];
            d.parents_len = 2;
        }
        break;
    case 6:
        *label = "unit of another session";
        d.session = g->session ^ 0x5a5a5a5a5a5a5a5aull;
        break;
    case 7: /* a parent slot naming a creator outside the committee */
        *label = "parent creator outside the committee";
        s->creators[d.parents_len] = g->members;
        s->rounds[d.parents_len] = r - 1;
        d.parents_len++;
        break;
    case 8:
        *label = "creator outside the committee";
        d.creator = g->members;
        break;
    case 9:
        *label = "payload over the size limit";
        big = calloc((size_t)g->payload_bytes_max + 1, 1);
        if (!big) {
            free(s);
            return (size_t)-1;
        }
        d.payload = big;
        d.payload_len = g->payload_bytes_max + 1;
        break;
    case 10:
        *label = "coin share flag contradicting the coin mode";
        d.coin_share = g->coin_share ? NULL : s->share;
        break;
    case 11:
        *label = "trailing bytes after a unit";
        trailing = 1 + (size_t)sim_rng_below(rng, 16);
        break;
    default:
        *label = "more parents than members";
        for (uint32_t i = 0; i <= g->members; i++) {
            s->creators[i] = i;
            s->rounds[i] = r - 1;
        }
        d.parents_len = g->members + 1;
        break;
    }
    len = encode_unit(&d, g->sign_secret_key, trailing, out);
    free(big);
    free(s);
    return len;
}

static size_t wrong_length(sim_garbage *g, sim_rng *rng, uint32_t variant, uint8_t **out,
                           const char **label)
{
    size_t len;
    uint8_t *p;
    switch (variant) {
    case 0:
        *label = "empty message";
        *out = NULL;
        return 0;
    case 1: /* REQUEST_UNITS: count 3, two entries */
        *label = "request-units list shorter than its count";
        len = 3 + 2 * 6;
        if (!(p = take(len))) return (size_t)-1;
        fill_random(rng, p, len);
        p[0] = ALEPH_TESTING_MSG_REQUEST_UNITS;
        le16_put(p + 1, 3);
        break;
    case 2: /* REQUEST_UNITS: over the list bound */
        *label = "request-units list over the bound";
        len = 3 + (ALEPH_TESTING_MSG_LIST_MAX + 1) * 6;
        if (!(p = take(len))) return (size_t)-1;
        memset(p, 0, len);
        p[0] = ALEPH_TESTING_MSG_REQUEST_UNITS;
        le16_put(p + 1, (uint16_t)(ALEPH_TESTING_MSG_LIST_MAX + 1));
        break;
    case 3: /* REQUEST_PARENTS: a 31-byte hash */
        *label = "request-parents with a short hash";
        len = 3 + 31;
        if (!(p = take(len))) return (size_t)-1;
        fill_random(rng, p, len);
        p[0] = ALEPH_TESTING_MSG_REQUEST_PARENTS;
        le16_put(p + 1, 1);
        break;
    case 4: /* REQUEST_HASHES: one hash and a trailing byte */
        *label = "request-hashes with trailing bytes";
        len = 3 + 33;
        if (!(p = take(len))) return (size_t)-1;
        fill_random(rng, p, len);
        p[0] = ALEPH_TESTING_MSG_REQUEST_HASHES;
        le16_put(p + 1, 1);
        break;
    case 5: /* PARENTS: shorter than its unit hash */
        *label = "parents message shorter than a hash";
        len = 1 + 20;
        if (!(p = take(len))) return (size_t)-1;
        fill_random(rng, p, len);
        p[0] = ALEPH_TESTING_MSG_PARENTS;
        break;
    case 6: /* PARENTS: more parent hashes than members */
        *label = "parents message with more hashes than members";
        len = 1 + 32 + 2 + (size_t)(g->members + 1) * 32;
        if (!(p = take(len))) return (size_t)-1;
        fill_random(rng, p, len);
        p[0] = ALEPH_TESTING_MSG_PARENTS;
        le16_put(p + 33, (uint16_t)(g->members + 1));
        break;
    case 7: /* HIGHEST: a vector of the wrong length */
        *label = "highest-round vector of the wrong length";
        {
            uint32_t count = g->members > 1 ? g->members - 1 : g->members + 1;
            len = 3 + 4 * (size_t)count;
            if (!(p = take(len))) return (size_t)-1;
            memset(p, 0, len);
            p[0] = ALEPH_TESTING_MSG_HIGHEST;
            le16_put(p + 1, (uint16_t)count);
        }
        break;
    case 8: /* HIGHEST: a round past the limit */
        *label = "highest round out of range";
        len = 3 + 4 * (size_t)g->members;
        if (!(p = take(len))) return (size_t)-1;
        memset(p, 0, len);
        p[0] = ALEPH_TESTING_MSG_HIGHEST;
        le16_put(p + 1, (uint16_t)g->members);
        le32_put(p + 3, 0xffffffffu);
        break;
    case 9:
        *label = "unknown message type 0";
        len = 1 + (size_t)sim_rng_below(rng, 64);
        if (!(p = take(len))) return (size_t)-1;
        fill_random(rng, p, len);
        p[0] = 0;
        break;
    case 10:
        *label = "unknown message type above the last";
        len = 1 + (size_t)sim_rng_below(rng, 64);
        if (!(p = take(len))) return (size_t)-1;
        fill_random(rng, p, len);
        p[0] = (uint8_t)(ALEPH_TESTING_MSG_LAST + 1 + sim_rng_below(rng, 255 - ALEPH_TESTING_MSG_LAST));
        break;
    default: /* UNIT: a body far too short for a unit */
        *label = "unit message shorter than a unit header";
        len = 1 + 1 + (size_t)sim_rng_below(rng, 16);
        if (!(p = take(len))) return (size_t)-1;
        fill_random(rng, p, len);
        p[0] = ALEPH_TESTING_MSG_UNIT;
        p[1] = ALEPH_TESTING_UNIT_VERSION;
        break;
    }
    *out = p;
    return len;
}

/* A decodable copy of the last own unit with another payload, so a fresh hash; NULL draft
 * fields point into *s and the decoded unit. Returns 0, -1 when there is no unit to copy. */
static int redraft_last(sim_garbage *g, sim_rng *rng, draft_space *s, aleph_testing_unit_draft *d)
{
    if (!g->last_unit) return -1;
    aleph_unit_info w;
    if (aleph_unit_inspect(&g->cfg, g->last_unit + 1, g->last_unit_len - 1, &w) != NULL) return -1;
    for (uint32_t i = 0; i < w.parents_len; i++)
        aleph_unit_parent(&w, i, &s->creators[i], &s->rounds[i]);
    if (w.control_hash) memcpy(s->control, w.control_hash, 32);
    if (w.coin_share) memcpy(s->share, w.coin_share, ALEPH_COIN_SHARE_BYTES);
    fill_random(rng, s->payload, sizeof s->payload);
    s->payload[0] = 12; /* one transaction of 12 bytes: a well-formed payload */
    s->payload[1] = s->payload[2] = s->payload[3] = 0;
    *d = (aleph_testing_unit_draft){.session = w.session,
                      .creator = w.creator,
                      .round = w.round,
                      .parents_len = w.parents_len,
                      .parent_creators = s->creators,
                      .parent_rounds = s->rounds,
                      .control_hash = s->control,
                      .payload = s->payload,
                      .payload_len = 16,
                      .coin_share = w.coin_share ? s->share : NULL};
    return 0;
}

static size_t bad_signature(sim_garbage *g, sim_rng *rng, uint32_t variant, uint8_t **out,
                            int *must_drop, const char **label)
{
    draft_space *s = malloc(sizeof *s);
    if (!s) return (size_t)-1;
    aleph_testing_unit_draft d;
    size_t len;
    if (redraft_last(g, rng, s, &d) != 0) d = base_draft(g, rng, s, 0);
    switch (variant) {
    case 0: { /* the last real unit with a random signature: same hash as the real one */
        *label = "real unit with a random signature";
        if (!g->last_unit) goto fresh_key;
        len = g->last_unit_len;
        uint8_t *p = take(len);
        if (!p) {
            free(s);
            return (size_t)-1;
        }
        memcpy(p, g->last_unit, len);
        fill_random(rng, p + len - ALEPH_SIGNATURE_BYTES, ALEPH_SIGNATURE_BYTES);
        *out = p;
        *must_drop = 0; /* a receiver holding the real unit ignores it by hash */
        free(s);
        return len;
    }
    case 1:
    fresh_key: { /* a new unit in the member's name, signed with a key not its own */
        *label = "unit signed with a key not the creator's";
        uint8_t pk[32], sk[64], seed[32];
        fill_random(rng, seed, sizeof seed);
        crypto_sign_seed_keypair(pk, sk, seed);
        len = encode_unit(&d, sk, 0, out);
        sodium_memzero(sk, sizeof sk);
        break;
    }
    default: { /* a unit naming another creator, signed with the member's own key */
        *label = "unit in another member's name";
        d.creator = (g->index + 1) % g->members;
        len = encode_unit(&d, g->sign_secret_key, 0, out);
        break;
    }
    }
    free(s);
    return len;
}

/* An ALERT message by `sender` about the member itself with proof units a and b (unit bytes). */
static size_t encode_alert(sim_garbage *g, uint32_t sender, const uint8_t *a, size_t a_len,
                           const uint8_t *b, size_t b_len, const uint8_t key[64], uint8_t **out)
{
    size_t len = 1 + aleph_testing_alert_encoded_len((uint32_t)a_len, (uint32_t)b_len, 0);
    uint8_t *buf = take(len), hash[32];
    if (!buf) return (size_t)-1;
    buf[0] = ALEPH_TESTING_MSG_ALERT;
    aleph_testing_alert_encode_signed(buf + 1, g->session, sender, g->index, a, (uint32_t)a_len, b,
                                      (uint32_t)b_len, 0, NULL, 0, key, hash);
    *out = buf;
    return len;
}

/* Bodies that name an alert by hash: a forged certificate, a stray signature, a request. */
static size_t alert_by_hash(sim_garbage *g, sim_rng *rng, uint32_t variant, uint8_t **out)
{
    size_t len = variant == 4 ? 1 + 32 + 2 + (size_t)g->quorum * 66 : variant == 5 ? 97 : 33;
    uint8_t *p = take(len);
    if (!p) return (size_t)-1;
    fill_random(rng, p + 1, len - 1);
    p[0] = variant == 4   ? ALEPH_TESTING_MSG_ALERT_CERT
           : variant == 5 ? ALEPH_TESTING_MSG_ALERT_SIGNATURE
                          : ALEPH_TESTING_MSG_REQUEST_ALERT;
    if (variant == 4) { /* q signers in order, random signatures */
        le16_put(p + 33, (uint16_t)g->quorum);
        for (uint32_t i = 0; i < g->quorum; i++) le16_put(p + 35 + 66 * (size_t)i, (uint16_t)i);
    }
    *out = p;
    return len;
}

static size_t bad_alert(sim_garbage *g, sim_rng *rng, uint32_t variant, uint8_t **out,
                        int *must_drop, const char **label)
{
    static const char *labels[] = {"alert whose proof is one unit twice",
                                   "alert with a proof unit signed with another key",
                                   "alert with a forged sender signature",
                                   "alert in another member's name",
                                   "certificate with forged signatures",
                                   "signature for an alert never sent",
                                   "request for an alert nobody holds"};
    *label = labels[variant];
    if (variant >= 4) {
        *must_drop = variant != 6; /* a request for an unknown alert is ignored */
        return alert_by_hash(g, rng, variant, out);
    }
    draft_space *s = malloc(sizeof *s);
    if (!s) return (size_t)-1;
    aleph_testing_unit_draft d;
    size_t len = (size_t)-1;
    if (redraft_last(g, rng, s, &d) == 0) {
        uint8_t pk[32], sk[64], seed[32], *variant_unit = NULL;
        fill_random(rng, seed, sizeof seed);
        crypto_sign_seed_keypair(pk, sk, seed);
        size_t vlen = encode_unit(&d, variant == 2 ? g->sign_secret_key : sk, 0, &variant_unit);
        const uint8_t *a = g->last_unit + 1, *b = variant == 0 ? a : variant_unit + 1;
        size_t a_len = g->last_unit_len - 1, b_len = variant == 0 ? a_len : vlen - 1;
        uint32_t sender = variant == 3 ? (g->index + 1) % g->members : g->index;
        if (vlen != (size_t)-1) len = encode_alert(g, sender, a, a_len, b, b_len, g->sign_secret_key, out);
        /* variant 2: a real fork proof, but the sender's signature is random */
        if (variant == 2 && len != (size_t)-1) fill_random(rng, *out + len - 64, 64);
        free(variant_unit);
        sodium_memzero(sk, sizeof sk);
    }
    free(s);
    return len;
}

size_t sim_garbage_fork_variant(sim_garbage *g, sim_rng *rng, uint8_t **out)
{
    *out = NULL;
    draft_space *s = malloc(sizeof *s);
    if (!s) return (size_t)-1;
    aleph_testing_unit_draft d;
    size_t len = 0;
    if (redraft_last(g, rng, s, &d) == 0) len = encode_unit(&d, g->sign_secret_key, 0, out);
    free(s);
    return len;
}

size_t sim_garbage_craft(sim_garbage *g, sim_rng *rng, sim_garbage_kind kind, uint32_t variant,
                         uint8_t **out, int *must_drop, const char **label)
{
    *out = NULL;
    *must_drop = 1;
    variant %= sim_garbage_variants(kind);
    if ((kind == SIM_GARBAGE_TRUNCATED || kind == SIM_GARBAGE_BITFLIP ||
         (kind == SIM_GARBAGE_ALERT && variant < 4)) &&
        !g->last_unit)
        kind = SIM_GARBAGE_RANDOM;
    size_t len = (size_t)-1;
    switch (kind) {
    case SIM_GARBAGE_TRUNCATED: {
        *label = "real unit cut short";
        len = 1 + (size_t)sim_rng_below(rng, g->last_unit_len - 1);
        uint8_t *p = take(len);
        if (!p) return (size_t)-1;
        memcpy(p, g->last_unit, len);
        *out = p;
        break;
    }
    case SIM_GARBAGE_BITFLIP: {
        len = g->last_unit_len;
        uint8_t *p = take(len);
        if (!p) return (size_t)-1;
        memcpy(p, g->last_unit, len);
        /* variant 0: a bit of the signed part (new hash, so the signature fails);
         * variant 1: a bit of the signature (same hash as the real unit). */
        size_t signed_end = len - ALEPH_SIGNATURE_BYTES;
        size_t at = variant == 0 ? 1 + (size_t)sim_rng_below(rng, signed_end - 1)
                                 : signed_end + (size_t)sim_rng_below(rng, ALEPH_SIGNATURE_BYTES);
        p[at] ^= (uint8_t)(1u << sim_rng_below(rng, 8));
        *label = variant == 0 ? "real unit with a bit flipped in its signed part"
                              : "real unit with a bit flipped in its signature";
        /* A flip in the creator field (message bytes 10..11: type, version, session before it)
         * can give another member's real unit: with the coin off, two units of one round with
         * the same parents and empty payloads differ only there (seed 889 of the sweep). A
         * receiver holding that unit ignores the copy by hash, as it should. */
        int creator_field = at >= 10 && at < 12;
        *must_drop = variant == 0 && !creator_field;
        *out = p;
        break;
    }
    case SIM_GARBAGE_BAD_SIGNATURE:
        len = bad_signature(g, rng, variant, out, must_drop, label);
        break;
    case SIM_GARBAGE_WRONG_LENGTH:
        len = wrong_length(g, rng, variant, out, label);
        break;
    case SIM_GARBAGE_RULE_BROKEN:
        len = rule_broken(g, rng, variant, out, label);
        break;
    case SIM_GARBAGE_ALERT:
        len = bad_alert(g, rng, variant, out, must_drop, label);
        break;
    default: {
        *label = "random bytes";
        len = 1 + (size_t)sim_rng_below(rng, 256);
        uint8_t *p = take(len);
        if (!p) return (size_t)-1;
        fill_random(rng, p, len);
        /* A random first byte naming a request or an answer (every type but UNIT) may make a
         * well-formed message by chance (OWN_QUERY has no body at all). */
        *must_drop = p[0] < ALEPH_TESTING_MSG_REQUEST_UNITS || p[0] > ALEPH_TESTING_MSG_LAST;
        *out = p;
        break;
    }
    }
    if (len != (size_t)-1) g->sent[kind]++;
    return len;
}

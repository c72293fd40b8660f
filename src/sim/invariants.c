#include "invariants.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

char *sim_hex32(const uint8_t bytes[32], char out[65])
{
    return sodium_bin2hex(out, 65, bytes, 32);
}

int sim_checker_init(sim_checker *c, uint32_t members)
{
    memset(c, 0, sizeof *c);
    c->members = members;
    sim_table_init(&c->position);
    sim_table_init(&c->position_old);
    sim_table_init(&c->tracked);
    sim_table_init(&c->tracked_pos);
    sim_table_init(&c->signed_slots);
    sim_table_init(&c->txs);
    sim_table_init(&c->tx_seqs);
    c->prefix = calloc(members, sizeof *c->prefix);
    c->next_round = calloc(members, sizeof *c->next_round);
    c->rewind_epoch = malloc(members * sizeof *c->rewind_epoch);
    for (uint32_t i = 0; c->rewind_epoch && i < members; i++) c->rewind_epoch[i] = UINT32_MAX;
    c->signed_compact_at = 1024;
    return c->prefix && c->next_round && c->rewind_epoch ? 0 : -1;
}

void sim_checker_free(sim_checker *c)
{
    free(c->hashes);
    free(c->batch_round);
    free(c->owner);
    sim_table_free(&c->position);
    sim_table_free(&c->position_old);
    free(c->checked);
    free(c->prefix);
    free(c->next_round);
    free(c->rewind_epoch);
    free(c->epoch_end_pos);
    free(c->heads);
    free(c->head_owner);
    sim_table_free(&c->tracked);
    sim_table_free(&c->tracked_pos);
    sim_table_free(&c->signed_slots);
    free(c->signed_hashes);
    sim_table_free(&c->txs);
    free(c->tx_honest);
    free(c->tx_floor);
    sim_table_free(&c->tx_seqs);
    memset(c, 0, sizeof *c);
}

static int violation(sim_checker *c, const char *fmt, ...)
{
    if (!c->violated) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->message, sizeof c->message, fmt, ap);
        va_end(ap);
        c->violated = 1;
    }
    return -1;
}

int sim_checker_forget(sim_checker *c, const uint8_t *checked)
{
    if (!(c->checked = malloc(c->members))) return -1;
    memcpy(c->checked, checked, c->members);
    c->forget = 1;
    c->compact_at = 1024;
    return 0;
}

/* Position `pos` of a unit, looked up among the units kept. */
static int position_get(const sim_checker *c, const uint8_t h[32], uint64_t *pos)
{
    return sim_table_get(&c->position, h, pos) || sim_table_get(&c->position_old, h, pos);
}

/* A tracked unit of a member whose backup was deleted: no longer required (the bit above
 * creator << 33, which is below 2^43). */
#define SET_APART (1ull << 63)

/* forget: drops the tracked units that every checked member has output (their positions are
 * below floor), and those set apart (of a closed epoch: never tracked again). */
static void drop_tracked(sim_checker *c, uint64_t floor)
{
    for (size_t i = 0; i < c->tracked.cap; i++) {
        sim_table_entry *e = &c->tracked.entries[i];
        while (e->used && (e->value & 1)) {
            uint64_t pos = UINT64_MAX;
            int set_apart = (e->value & SET_APART) != 0;
            if (!set_apart && (!sim_table_get(&c->tracked_pos, e->key, &pos) || pos >= floor))
                break;
            uint8_t key[32];
            memcpy(key, e->key, 32);
            sim_table_remove_at(&c->tracked, i); /* entry i is now another one, or empty */
            if (!set_apart) sim_table_remove(&c->tracked_pos, key);
        }
    }
}

/* Where epoch e begins in the common sequence (it was reached: e <= epoch_end_len). */
static uint64_t epoch_start_pos(const sim_checker *c, uint32_t epoch)
{
    assert(epoch <= c->epoch_end_len);
    return epoch ? c->epoch_end_pos[epoch - 1] : 0;
}

static void drop_signed(sim_checker *c);

/* forget: drops the positions and heads that every checked member has passed, and that no
 * restart can take a member back to (amortised: tried when the kept part has doubled). */
static void drop_passed(sim_checker *c)
{
    if (!c->forget || c->len - c->base < c->compact_at) return;
    uint64_t floor = UINT64_MAX;
    uint32_t round_floor = UINT32_MAX;
    for (uint32_t i = 0; i < c->members; i++) {
        if (!c->checked[i]) continue;
        if (c->prefix[i] < floor) floor = c->prefix[i];
        if (c->next_round[i] < round_floor) round_floor = c->next_round[i];
        uint32_t e = c->rewind_epoch[i];
        if (e == UINT32_MAX) continue;
        if (epoch_start_pos(c, e) < floor) floor = epoch_start_pos(c, e);
        if ((uint64_t)e * c->epoch_rounds < round_floor) round_floor = e * c->epoch_rounds;
    }
    if (floor > c->len) floor = c->len;
    if (round_floor > c->heads_len) round_floor = c->heads_len;
    uint64_t drop = floor - c->base, kept = c->len - floor;
    memmove(c->hashes, c->hashes + drop, kept * 32);
    memmove(c->batch_round, c->batch_round + drop, kept * sizeof *c->batch_round);
    memmove(c->owner, c->owner + drop, kept * sizeof *c->owner);
    c->base = floor;
    drop_tracked(c, floor);
    uint32_t drop_heads = round_floor - c->heads_base, kept_heads = c->heads_len - round_floor;
    memmove(c->heads, c->heads + drop_heads, (size_t)kept_heads * 32);
    memmove(c->head_owner, c->head_owner + drop_heads, kept_heads * sizeof *c->head_owner);
    c->heads_base = round_floor;
    c->compact_at = kept * 2 > 1024 ? kept * 2 : 1024;
    drop_signed(c);
}

static int grow_sequence(sim_checker *c)
{
    if (c->len - c->base < c->cap) return 0;
    uint64_t cap = c->cap ? c->cap * 2 : 4096;
    uint8_t(*h)[32] = realloc(c->hashes, cap * 32);
    if (h) c->hashes = h;
    uint32_t *r = realloc(c->batch_round, cap * sizeof *r);
    if (r) c->batch_round = r;
    uint32_t *o = realloc(c->owner, cap * sizeof *o);
    if (o) c->owner = o;
    if (!h || !r || !o) return -1;
    c->cap = cap;
    return 0;
}

static int check_head(sim_checker *c, uint32_t member, const aleph_batch *b)
{
    char x[65], y[65];
    if (b->round < c->heads_len) {
        uint32_t k = b->round - c->heads_base; /* the member has not passed it: kept */
        if (memcmp(c->heads[k], b->head_hash, 32) != 0)
            return violation(c,
                             "agreement violated: members %u and %u chose different heads for "
                             "round %u: %s vs %s",
                             c->head_owner[k], member, b->round,
                             sim_hex32(c->heads[k], x), sim_hex32(b->head_hash, y));
        return 0;
    }
    if (b->round != c->heads_len) return 0; /* rounds are checked per member before this */
    if (c->heads_len - c->heads_base == c->heads_cap) {
        uint32_t cap = c->heads_cap ? c->heads_cap * 2 : 256;
        uint8_t(*h)[32] = realloc(c->heads, (size_t)cap * 32);
        if (h) c->heads = h;
        uint32_t *o = realloc(c->head_owner, cap * sizeof *o);
        if (o) c->head_owner = o;
        if (!h || !o) return violation(c, "checker out of memory");
        c->heads_cap = cap;
    }
    memcpy(c->heads[c->heads_len - c->heads_base], b->head_hash, 32);
    c->head_owner[c->heads_len - c->heads_base] = member;
    c->heads_len++;
    return 0;
}


static void mark_tracked(sim_checker *c, const uint8_t hash[32], uint64_t pos)
{
    uint64_t v;
    if (!c->tracked.len || !sim_table_get(&c->tracked, hash, &v) || (v & 1)) return;
    sim_table_put(&c->tracked, hash, v | 1);
    if (c->forget) sim_table_put(&c->tracked_pos, hash, pos); /* not kept: a message's detail */
    c->tracked_seen++;
    if (pos > c->tracked_pos_max) c->tracked_pos_max = pos;
}

#define TX_KEY_BYTES_MAX 31u
#define TX_CONFIRMED 1u
#define TX_REQUIRED 2u
#define TX_COUNT_ONE 4u

static int tx_key(uint8_t key[32], const uint8_t *tx, size_t len)
{
    if (len > TX_KEY_BYTES_MAX) return 0;
    memset(key, 0, 32);
    memcpy(key, tx, len);
    key[31] = (uint8_t)len;
    return 1;
}

static char *tx_name(const uint8_t key[32], char *out, size_t out_len)
{
    uint32_t who = (uint32_t)key[0] | (uint32_t)key[1] << 8 | (uint32_t)key[2] << 16 |
                   (uint32_t)key[3] << 24;
    uint32_t seq = (uint32_t)key[4] | (uint32_t)key[5] << 8 | (uint32_t)key[6] << 16 |
                   (uint32_t)key[7] << 24;
    snprintf(out, out_len, "(member %u, sequence %u)", who, seq);
    return out;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int sim_checker_forget_txs(sim_checker *c, const uint8_t *honest)
{
    assert(c->forget);
    c->tx_honest = malloc(c->members);
    c->tx_floor = calloc(c->members, sizeof *c->tx_floor);
    if (!c->tx_honest || !c->tx_floor) return -1;
    memcpy(c->tx_honest, honest, c->members);
    c->forget_txs = 1;
    return 0;
}

#define TX_WINDOW_BYTES 16u
#define TX_REFUSED UINT64_MAX

/* How the table keeps a transaction: 0 not at all (forget_txs, not an honest member's), 1 by
 * its bytes only, 2 also in its member's window (*who, *seq set). */
static int tx_kept(const sim_checker *c, const uint8_t *tx, size_t len, uint32_t *who,
                   uint32_t *seq)
{
    if (!c->forget_txs) return 1;
    if (len < 4 || get32(tx) >= c->members || !c->tx_honest[get32(tx)]) return 0;
    if (len != TX_WINDOW_BYTES) return 1;
    *who = get32(tx);
    *seq = get32(tx + 4);
    return 2;
}

/* The table key of a pair of numbers ((member, sequence), (creator, round)): both at the front,
 * a multiplicative mix of them at the back for the table's hash. */
static void pair_key(uint8_t key[32], uint32_t a, uint32_t b)
{
    memset(key, 0, 32);
    memcpy(key, &a, 4);
    memcpy(key + 4, &b, 4);
    uint64_t mix = ((uint64_t)a << 32 | b) * 0x9e3779b97f4a7c15ull;
    memcpy(key + 24, &mix, 8);
}

/* A transaction in `who`'s window (seq at or above its floor): noted by sequence. */
static int window_note(sim_checker *c, uint32_t who, uint32_t seq, uint64_t rest)
{
    uint8_t k[32];
    pair_key(k, who, seq);
    return sim_table_put(&c->tx_seqs, k, rest);
}

/* Moves who's floor past the sequences output once (confirmed) or refused, dropping them. */
static void window_advance(sim_checker *c, uint32_t who)
{
    for (;;) {
        uint8_t k[32], tx[TX_WINDOW_BYTES], key[32];
        uint64_t rest, v = 0;
        pair_key(k, who, c->tx_floor[who]);
        if (!sim_table_get(&c->tx_seqs, k, &rest)) return;
        if (rest != TX_REFUSED) {
            le32_put(tx, who);
            le32_put(tx + 4, c->tx_floor[who]);
            memcpy(tx + 8, &rest, 8);
            tx_key(key, tx, sizeof tx);
            sim_table_get(&c->txs, key, &v);
            if (!(v & TX_CONFIRMED) || v / TX_COUNT_ONE != 1) return;
            sim_table_remove(&c->txs, key);
            c->txs_forgotten++;
        }
        sim_table_remove(&c->tx_seqs, k);
        c->tx_floor[who]++;
    }
}

int sim_checker_txs_lost(sim_checker *c, uint32_t who, uint32_t seq_end)
{
    if (!c->forget_txs || who >= c->members || !c->tx_honest[who]) return 0;
    for (uint32_t seq = c->tx_floor[who]; seq < seq_end; seq++) {
        uint8_t k[32];
        pair_key(k, who, seq);
        if (sim_table_get(&c->tx_seqs, k, NULL)) continue; /* confirmed, output or refused */
        if (window_note(c, who, seq, TX_REFUSED) != 0) return violation(c, "checker out of memory");
    }
    window_advance(c, who);
    return 0;
}

int sim_checker_refused_tx(sim_checker *c, const uint8_t *tx, size_t len)
{
    uint32_t who, seq;
    if (tx_kept(c, tx, len, &who, &seq) != 2 || seq < c->tx_floor[who]) return 0;
    if (window_note(c, who, seq, TX_REFUSED) != 0) return violation(c, "checker out of memory");
    window_advance(c, who);
    return 0;
}

/* The common sequence closed epoch `epoch` (its last batch): its tracked units that are not
 * in the output never will be (their transactions were carried, and stay required). */
static void epoch_closed(sim_checker *c, uint32_t epoch)
{
    if (epoch == c->epoch_end_len) { /* where epoch + 1 begins: a restart may rewind there */
        if (c->epoch_end_len == c->epoch_end_cap) {
            uint32_t cap = c->epoch_end_cap ? c->epoch_end_cap * 2 : 64;
            uint64_t *grown = realloc(c->epoch_end_pos, cap * sizeof *grown);
            if (!grown) {
                violation(c, "checker out of memory");
                return;
            }
            c->epoch_end_pos = grown;
            c->epoch_end_cap = cap;
        }
        c->epoch_end_pos[c->epoch_end_len++] = c->len;
    }
    if (c->forget) { /* no later unit can be one of the epoch before (the header) */
        sim_table_free(&c->position_old);
        c->position_old = c->position;
        sim_table_init(&c->position);
    }
    for (size_t i = 0; i < c->tracked.cap; i++) {
        sim_table_entry *e = &c->tracked.entries[i];
        if (!e->used || (e->value & 1)) continue;
        uint32_t round = (uint32_t)((e->value >> 1) & 0xffffffffu);
        if (round / c->epoch_rounds != epoch) continue;
        e->value |= SET_APART | 1;
        c->tracked_seen++;
        c->units_set_apart++;
    }
}

/* A unit joined the common sequence at `pos`: count its transactions. */
static int count_txs(sim_checker *c, const aleph_ordered_unit *u, uint64_t pos)
{
    size_t off = 0, len;
    const uint8_t *tx;
    char name[64];
    while (aleph_payload_next(u->payload, u->payload_len, &off, &tx, &len) == 1) {
        uint8_t key[32];
        uint64_t v = 0, rest = 0;
        uint32_t who = 0, seq = 0;
        int kept = tx_kept(c, tx, len, &who, &seq);
        if (!kept || !tx_key(key, tx, len)) continue;
        if (kept == 2 && seq < c->tx_floor[who])
            return violation(c, "exactly once violated: transaction %s, output once already "
                                "(confirmed) or refused at submission, is output again in a "
                                "unit of creator %u, round %u",
                             tx_name(key, name, sizeof name), u->creator, u->round);
        if (kept == 2) memcpy(&rest, tx + 8, 8);
        if (kept == 2 && window_note(c, who, seq, rest) != 0)
            return violation(c, "checker out of memory");
        sim_table_get(&c->txs, key, &v);
        v += TX_COUNT_ONE;
        if ((v & TX_REQUIRED) && v / TX_COUNT_ONE == 1) {
            c->txs_required_seen++;
            if (pos > c->txs_pos_max) c->txs_pos_max = pos;
        }
        if ((v & TX_CONFIRMED) && v / TX_COUNT_ONE > 1)
            return violation(c, "exactly once violated: durably confirmed transaction %s output "
                                "twice (the second time in a unit of creator %u, round %u)",
                             tx_name(key, name, sizeof name), u->creator, u->round);
        if (sim_table_put(&c->txs, key, v) != 0) return violation(c, "checker out of memory");
        if (kept == 2) window_advance(c, who);
    }
    return 0;
}

int sim_checker_batch(sim_checker *c, uint32_t member, const aleph_batch *b)
{
    if (c->violated) return -1;
    char x[65], y[65];
    if (b->round != c->next_round[member])
        return violation(c, "member %u output a batch for round %u where round %u was due "
                            "(a round was skipped or repeated)",
                         member, b->round, c->next_round[member]);
    c->next_round[member] = b->round + 1;
    if (check_head(c, member, b) != 0) return -1;
    for (size_t i = 0; i < b->units_len; i++) {
        const uint8_t *h = b->units[i].hash;
        uint64_t pos = c->prefix[member]++;
        if (pos < c->len) {
            uint64_t k = pos - c->base; /* the member has not passed it: kept */
            if (memcmp(c->hashes[k], h, 32) != 0) {
                uint64_t other;
                if (position_get(c, h, &other) && other < pos)
                    return violation(c,
                                     "unit %s output twice by member %u (positions %" PRIu64
                                     " and %" PRIu64 ")",
                                     sim_hex32(h, x), member, other, pos);
                return violation(c,
                                 "agreement violated: first divergence at position %" PRIu64
                                 ": member %u has %s (batch round %u), member %u has %s "
                                 "(batch round %u)",
                                 pos, c->owner[k], sim_hex32(c->hashes[k], x),
                                 c->batch_round[k], member, sim_hex32(h, y), b->round);
            }
            if (c->batch_round[k] != b->round)
                return violation(c,
                                 "agreement violated: unit %s at position %" PRIu64
                                 " closes batch round %u at member %u but round %u at member %u",
                                 sim_hex32(h, x), pos, c->batch_round[k], c->owner[k],
                                 b->round, member);
            continue;
        }
        /* This member is the furthest ahead: it extends the common sequence. */
        if (grow_sequence(c) != 0) return violation(c, "checker out of memory");
        uint64_t other = 0;
        int added = sim_table_get(&c->position_old, h, &other) ? 0 : sim_table_add(&c->position, h, pos);
        if (added < 0) return violation(c, "checker out of memory");
        if (added == 0) {
            position_get(c, h, &other);
            return violation(c,
                             "unit %s output twice by member %u (positions %" PRIu64 " and %" PRIu64
                             ", batch rounds %u and %u)",
                             sim_hex32(h, x), member, other, pos,
                             other >= c->base ? c->batch_round[other - c->base] : UINT32_MAX,
                             b->round);
        }
        uint64_t k = pos - c->base;
        memcpy(c->hashes[k], h, 32);
        c->batch_round[k] = b->round;
        c->owner[k] = member;
        c->len++;
        mark_tracked(c, h, pos);
        if (count_txs(c, &b->units[i], pos) != 0) return -1;
    }
    /* The first member to close an epoch closes it for the common sequence. */
    if (c->epoch_rounds && b->round % c->epoch_rounds == c->epoch_rounds - 1 &&
        b->round + 1 == c->heads_len && c->head_owner[b->round - c->heads_base] == member)
        epoch_closed(c, b->round / c->epoch_rounds);
    if (c->violated) return -1;
    drop_passed(c);
    return 0;
}

/* The key of (creator, epoch, round) in signed_slots: a pair key with the epoch beside it. */
static void signed_key(uint8_t key[32], uint32_t creator, uint32_t epoch, uint32_t round)
{
    pair_key(key, creator, round);
    memcpy(key + 8, &epoch, 4);
    uint64_t mix;
    memcpy(&mix, key + 24, 8);
    mix ^= (uint64_t)epoch * 0xc2b2ae3d27d4eb4full;
    memcpy(key + 24, &mix, 8);
}

/* forget: units of epochs that every checked member has passed and that no restart takes one
 * back to (below heads_base, which drop_passed keeps at or below every rewind epoch's start)
 * can never be signed again: their entries go (amortised: when the table has doubled). */
static void drop_signed(sim_checker *c)
{
    if (!c->epoch_rounds || c->signed_len < c->signed_compact_at) return;
    uint32_t epoch_floor = c->heads_base / c->epoch_rounds;
    sim_table kept;
    sim_table_init(&kept);
    uint8_t(*hashes)[32] = malloc(c->signed_cap * 32);
    uint64_t len = 0;
    for (size_t i = 0; hashes && i < c->signed_slots.cap; i++) {
        const sim_table_entry *e = &c->signed_slots.entries[i];
        uint32_t epoch;
        memcpy(&epoch, e->key + 8, 4);
        if (!e->used || epoch < epoch_floor) continue;
        memcpy(hashes[len], c->signed_hashes[e->value], 32);
        if (sim_table_put(&kept, e->key, len++) != 0) break;
    }
    if (!hashes || kept.len != len) {
        free(hashes);
        sim_table_free(&kept);
        violation(c, "checker out of memory");
        return;
    }
    c->signed_forgotten += c->signed_len - len;
    sim_table_free(&c->signed_slots);
    free(c->signed_hashes);
    c->signed_slots = kept;
    c->signed_hashes = hashes;
    c->signed_len = len;
    c->signed_compact_at = len * 2 > 1024 ? len * 2 : 1024;
}

int sim_checker_signed(sim_checker *c, uint32_t creator, uint32_t epoch, uint32_t round,
                       const uint8_t hash[32])
{
    if (c->violated) return -1;
    uint8_t key[32];
    signed_key(key, creator, epoch, round);
    uint64_t index;
    if (sim_table_get(&c->signed_slots, key, &index)) {
        c->signed_sends++;
        if (memcmp(c->signed_hashes[index], hash, 32) == 0) return 0;
        char x[65], y[65];
        return violation(c,
                         "signed once violated: the key of honest member %u signed two units of "
                         "round %u of epoch %u: %s and %s",
                         creator, round, epoch, sim_hex32(c->signed_hashes[index], x),
                         sim_hex32(hash, y));
    }
    if (c->signed_len == c->signed_cap) {
        uint64_t cap = c->signed_cap ? c->signed_cap * 2 : 1024;
        uint8_t(*grown)[32] = realloc(c->signed_hashes, cap * 32);
        if (!grown) return violation(c, "checker out of memory");
        c->signed_hashes = grown;
        c->signed_cap = cap;
    }
    memcpy(c->signed_hashes[c->signed_len], hash, 32);
    if (sim_table_put(&c->signed_slots, key, c->signed_len) != 0)
        return violation(c, "checker out of memory");
    c->signed_len++;
    c->signed_total++;
    c->signed_sends++;
    return 0;
}

int sim_checker_confirm_tx(sim_checker *c, const uint8_t *tx, size_t len, int required)
{
    if (c->violated) return -1;
    uint8_t key[32];
    char name[64];
    uint32_t who = 0, seq = 0;
    int kept = tx_kept(c, tx, len, &who, &seq);
    if (!kept || !tx_key(key, tx, len)) return 0;
    if (kept == 2 && seq < c->tx_floor[who]) return 0; /* confirmed and output once already */
    uint64_t v = 0;
    sim_table_get(&c->txs, key, &v);
    if (v & TX_CONFIRMED) return 0;
    if (required && !(v & TX_REQUIRED)) {
        c->txs_required++;
        if (v / TX_COUNT_ONE) { /* output already (not in practice: durable before sent) */
            c->txs_required_seen++;
            if (c->len > c->txs_pos_max) c->txs_pos_max = c->len;
        }
    }
    v |= TX_CONFIRMED | (required ? TX_REQUIRED : 0);
    c->txs_confirmed++;
    if (v / TX_COUNT_ONE > 1)
        return violation(c, "exactly once violated: durably confirmed transaction %s was output "
                            "%" PRIu64 " times", tx_name(key, name, sizeof name), v / TX_COUNT_ONE);
    if (sim_table_put(&c->txs, key, v) != 0) return violation(c, "checker out of memory");
    if (kept == 2) {
        uint64_t rest;
        memcpy(&rest, tx + 8, 8);
        if (window_note(c, who, seq, rest) != 0) return violation(c, "checker out of memory");
        window_advance(c, who);
    }
    return 0;
}

void sim_checker_excuse(sim_checker *c, uint32_t creator, uint32_t tx_who)
{
    for (size_t i = 0; i < c->tracked.cap; i++) {
        sim_table_entry *e = &c->tracked.entries[i];
        if (!e->used || (e->value & 1) || (uint32_t)(e->value >> 33) != creator) continue;
        e->value |= 1 | SET_APART; /* seen: no longer awaited (mark_tracked skips it) */
        c->tracked_seen++;
        c->units_set_apart++;
    }
    for (size_t i = 0; i < c->txs.cap; i++) {
        sim_table_entry *e = &c->txs.entries[i];
        uint32_t who = (uint32_t)e->key[0] | (uint32_t)e->key[1] << 8 |
                       (uint32_t)e->key[2] << 16 | (uint32_t)e->key[3] << 24;
        if (!e->used || !(e->value & TX_REQUIRED) || e->value / TX_COUNT_ONE || who != tx_who)
            continue;
        e->value &= ~(uint64_t)TX_REQUIRED;
        c->txs_set_apart++;
        c->txs_required--;
    }
}

void sim_checker_rewind_floor(sim_checker *c, uint32_t member, uint32_t epoch)
{
    c->rewind_epoch[member] = c->epoch_rounds ? epoch : 0;
}

void sim_checker_restart(sim_checker *c, uint32_t member, uint32_t epoch)
{
    if (!c->epoch_rounds) epoch = 0;
    /* The member reached that epoch, so the common sequence closed the one before. */
    assert(epoch <= c->epoch_end_len);
    uint64_t pos = epoch_start_pos(c, epoch);
    uint32_t round = epoch * c->epoch_rounds;
    /* forget kept it: the member's rewind floor was at or below that epoch */
    assert(pos >= c->base && round >= c->heads_base);
    c->prefix[member] = pos;
    c->next_round[member] = round;
}

int sim_checker_txs_complete(const sim_checker *c, char *msg, size_t msg_len)
{
    for (size_t i = 0; i < c->txs.cap; i++) {
        const sim_table_entry *e = &c->txs.entries[i];
        if (!e->used || !(e->value & TX_REQUIRED) || e->value / TX_COUNT_ONE == 1) continue;
        char name[64];
        snprintf(msg, msg_len,
                 "exactly once violated: durably confirmed transaction %s (in a unit made durable "
                 "before healing) was output %" PRIu64 " times",
                 tx_name(e->key, name, sizeof name), e->value / TX_COUNT_ONE);
        return 0;
    }
    return 1;
}

int sim_checker_track(sim_checker *c, const uint8_t hash[32], uint32_t creator, uint32_t round)
{
    /* With epochs: a unit of an epoch the common sequence has closed is never output. */
    if (c->epoch_rounds && c->heads_len >= (round / c->epoch_rounds + 1) * c->epoch_rounds)
        return 0;
    uint64_t v = (uint64_t)creator << 33 | (uint64_t)round << 1;
    int added = sim_table_add(&c->tracked, hash, v);
    if (added < 0) return -1;
    if (added == 0) return 0;
    c->tracked_len++;
    uint64_t pos;
    if (position_get(c, hash, &pos)) mark_tracked(c, hash, pos);
    return 0;
}

int sim_checker_complete(const sim_checker *c, const uint8_t *honest, char *msg, size_t msg_len)
{
    uint64_t prefix_min = UINT64_MAX;
    uint32_t lagging = 0;
    for (uint32_t i = 0; i < c->members; i++)
        if (honest[i] && c->prefix[i] < prefix_min) prefix_min = c->prefix[i], lagging = i;
    /* With epochs a tracked unit may be left out of its epoch: its transactions, carried, are
     * output later, and the run must wait for them too. */
    int txs_done = !c->epoch_rounds || (c->txs_required_seen == c->txs_required &&
                                        (c->txs_required == 0 || c->txs_pos_max < prefix_min));
    if (c->tracked_seen == c->tracked_len &&
        (c->tracked_len == 0 || c->tracked_pos_max < prefix_min) && txs_done)
        return 1;
    if (!msg) return 0;
    if (c->tracked_seen == c->tracked_len && !txs_done) {
        snprintf(msg, msg_len,
                 "completeness violated: %" PRIu64 " of %" PRIu64 " required transactions "
                 "output (the last at position %" PRIu64 "; member %u output %" PRIu64 " units)",
                 c->txs_required_seen, c->txs_required, c->txs_pos_max, lagging, prefix_min);
        return 0;
    }
    /* Describe the lowest-round tracked unit that some honest member lacks. */
    const sim_table_entry *worst = NULL;
    uint64_t worst_v = 0, worst_pos = 0;
    for (size_t i = 0; i < c->tracked.cap; i++) {
        const sim_table_entry *e = &c->tracked.entries[i];
        if (!e->used || (e->value & SET_APART)) continue;
        uint64_t pos = UINT64_MAX;
        if (e->value & 1) c->forget ? sim_table_get(&c->tracked_pos, e->key, &pos)
                                    : position_get(c, e->key, &pos);
        if (pos != UINT64_MAX && pos < prefix_min) continue;
        uint32_t round = (uint32_t)((e->value >> 1) & 0xffffffffu);
        if (!worst || round < (uint32_t)((worst_v >> 1) & 0xffffffffu))
            worst = e, worst_v = e->value, worst_pos = pos;
    }
    char x[65];
    if (!worst) {
        snprintf(msg, msg_len, "completeness: bookkeeping mismatch");
    } else if (worst_pos == UINT64_MAX) {
        snprintf(msg, msg_len,
                 "completeness violated: unit %s (creator %u, round %u), created by an honest "
                 "member before healing, was output by no member",
                 sim_hex32(worst->key, x), (uint32_t)(worst_v >> 33),
                 (uint32_t)((worst_v >> 1) & 0xffffffffu));
    } else {
        snprintf(msg, msg_len,
                 "completeness violated: unit %s (creator %u, round %u), created by an honest "
                 "member before healing, is at position %" PRIu64
                 " of the output but member %u output only %" PRIu64 " units",
                 sim_hex32(worst->key, x), (uint32_t)(worst_v >> 33),
                 (uint32_t)((worst_v >> 1) & 0xffffffffu), worst_pos, lagging, prefix_min);
    }
    return 0;
}

#include "invariants.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sim_hex32(const uint8_t bytes[32], char out[65])
{
    return sodium_bin2hex(out, 65, bytes, 32);
}

int sim_checker_init(sim_checker *c, uint32_t members)
{
    memset(c, 0, sizeof *c);
    c->members = members;
    sim_table_init(&c->position);
    sim_table_init(&c->tracked);
    c->prefix = calloc(members, sizeof *c->prefix);
    c->next_round = calloc(members, sizeof *c->next_round);
    return c->prefix && c->next_round ? 0 : -1;
}

void sim_checker_free(sim_checker *c)
{
    free(c->hashes);
    free(c->batch_round);
    free(c->owner);
    sim_table_free(&c->position);
    free(c->prefix);
    free(c->next_round);
    free(c->heads);
    free(c->head_owner);
    sim_table_free(&c->tracked);
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

static int grow_sequence(sim_checker *c)
{
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
        if (memcmp(c->heads[b->round], b->head_hash, 32) != 0)
            return violation(c,
                             "agreement violated: members %u and %u chose different heads for "
                             "round %u: %s vs %s",
                             c->head_owner[b->round], member, b->round,
                             sim_hex32(c->heads[b->round], x), sim_hex32(b->head_hash, y));
        return 0;
    }
    if (b->round != c->heads_len) return 0; /* rounds are checked per member before this */
    if (c->heads_len == c->heads_cap) {
        uint32_t cap = c->heads_cap ? c->heads_cap * 2 : 256;
        uint8_t(*h)[32] = realloc(c->heads, (size_t)cap * 32);
        if (h) c->heads = h;
        uint32_t *o = realloc(c->head_owner, cap * sizeof *o);
        if (o) c->head_owner = o;
        if (!h || !o) return violation(c, "checker out of memory");
        c->heads_cap = cap;
    }
    memcpy(c->heads[c->heads_len], b->head_hash, 32);
    c->head_owner[c->heads_len] = member;
    c->heads_len++;
    return 0;
}

static void mark_tracked(sim_checker *c, const uint8_t hash[32], uint64_t pos)
{
    uint64_t v;
    if (!c->tracked.len || !sim_table_get(&c->tracked, hash, &v) || (v & 1)) return;
    sim_table_put(&c->tracked, hash, v | 1);
    c->tracked_seen++;
    if (pos > c->tracked_pos_max) c->tracked_pos_max = pos;
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
            if (memcmp(c->hashes[pos], h, 32) != 0) {
                uint64_t other;
                if (sim_table_get(&c->position, h, &other) && other < pos)
                    return violation(c,
                                     "unit %s output twice by member %u (positions %" PRIu64
                                     " and %" PRIu64 ")",
                                     sim_hex32(h, x), member, other, pos);
                return violation(c,
                                 "agreement violated: first divergence at position %" PRIu64
                                 ": member %u has %s (batch round %u), member %u has %s "
                                 "(batch round %u)",
                                 pos, c->owner[pos], sim_hex32(c->hashes[pos], x),
                                 c->batch_round[pos], member, sim_hex32(h, y), b->round);
            }
            if (c->batch_round[pos] != b->round)
                return violation(c,
                                 "agreement violated: unit %s at position %" PRIu64
                                 " closes batch round %u at member %u but round %u at member %u",
                                 sim_hex32(h, x), pos, c->batch_round[pos], c->owner[pos],
                                 b->round, member);
            continue;
        }
        /* This member is the furthest ahead: it extends the common sequence. */
        if (c->len == c->cap && grow_sequence(c) != 0) return violation(c, "checker out of memory");
        int added = sim_table_add(&c->position, h, pos);
        if (added < 0) return violation(c, "checker out of memory");
        if (added == 0) {
            uint64_t other = 0;
            sim_table_get(&c->position, h, &other);
            return violation(c,
                             "unit %s output twice by member %u (positions %" PRIu64 " and %" PRIu64
                             ", batch rounds %u and %u)",
                             sim_hex32(h, x), member, other, pos, c->batch_round[other], b->round);
        }
        memcpy(c->hashes[pos], h, 32);
        c->batch_round[pos] = b->round;
        c->owner[pos] = member;
        c->len++;
        mark_tracked(c, h, pos);
    }
    return 0;
}

int sim_checker_track(sim_checker *c, const uint8_t hash[32], uint32_t creator, uint32_t round)
{
    uint64_t v = (uint64_t)creator << 33 | (uint64_t)round << 1;
    int added = sim_table_add(&c->tracked, hash, v);
    if (added < 0) return -1;
    if (added == 0) return 0;
    c->tracked_len++;
    uint64_t pos;
    if (sim_table_get(&c->position, hash, &pos)) mark_tracked(c, hash, pos);
    return 0;
}

int sim_checker_complete(const sim_checker *c, const uint8_t *honest, char *msg, size_t msg_len)
{
    uint64_t prefix_min = UINT64_MAX;
    uint32_t lagging = 0;
    for (uint32_t i = 0; i < c->members; i++)
        if (honest[i] && c->prefix[i] < prefix_min) prefix_min = c->prefix[i], lagging = i;
    if (c->tracked_seen == c->tracked_len &&
        (c->tracked_len == 0 || c->tracked_pos_max < prefix_min))
        return 1;
    if (!msg) return 0;
    /* Describe the lowest-round tracked unit that some honest member lacks. */
    const sim_table_entry *worst = NULL;
    uint64_t worst_v = 0, worst_pos = 0;
    for (size_t i = 0; i < c->tracked.cap; i++) {
        const sim_table_entry *e = &c->tracked.entries[i];
        if (!e->used) continue;
        uint64_t pos = UINT64_MAX;
        if (e->value & 1) sim_table_get(&c->position, e->key, &pos);
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

/* Building DAGs by hand for core tests: units of a committee of up to TS_MEMBERS_MAX
 * members, each with an explicit parent list, signed with the members' real keys. */
#ifndef ALEPH_DAG_BUILDER_H
#define ALEPH_DAG_BUILDER_H

#include "test_support.h"

#define DB_ROUNDS 16
#define DB_UNIT_BYTES 1024

typedef struct db_unit {
    int present;
    uint8_t hash[32];
    uint8_t msg[DB_UNIT_BYTES];
    size_t len;
} db_unit;

typedef struct dag_builder {
    ts_committee c;
    db_unit units[DB_ROUNDS][TS_MEMBERS_MAX];
} dag_builder;

static inline void db_init(dag_builder *b, uint32_t n, aleph_coin_mode mode)
{
    memset(b, 0, sizeof *b);
    ts_committee_init(&b->c, n, mode, 3);
}

/* Adds (creator, round) with parents: parent_rounds[c] = round of c's parent, -1 for none;
 * in threshold mode the unit carries a coin share of the given kind (test_support.h). */
static inline db_unit *db_add_share(dag_builder *b, uint32_t creator, uint32_t round,
                                    const int64_t *parent_rounds, ts_share share)
{
    uint8_t hashes[TS_MEMBERS_MAX][32];
    for (uint32_t c = 0; round > 0 && c < b->c.n; c++) {
        if (parent_rounds[c] < 0) continue;
        assert_true(b->units[parent_rounds[c]][c].present);
        memcpy(hashes[c], b->units[parent_rounds[c]][c].hash, 32);
    }
    db_unit *u = &b->units[round][creator];
    uint8_t payload[8] = {4, 0, 0, 0, (uint8_t)creator, (uint8_t)round, 0xaa, 0xbb};
    u->len = ts_make_unit_share(&b->c, creator, round, parent_rounds, hashes, payload,
                                sizeof payload, share, u->msg, sizeof u->msg, u->hash);
    u->present = 1;
    return u;
}

/* db_add_share with the coin share the committee's mode asks for (valid in threshold mode). */
static inline db_unit *db_add(dag_builder *b, uint32_t creator, uint32_t round,
                              const int64_t *parent_rounds)
{
    ts_share share = b->c.coin_mode == ALEPH_COIN_THRESHOLD ? TS_SHARE_VALID : TS_SHARE_NONE;
    return db_add_share(b, creator, round, parent_rounds, share);
}

/* Adds (creator, round) with every creator in `mask` (bit c) as a parent of round-1. */
static inline db_unit *db_add_mask(dag_builder *b, uint32_t creator, uint32_t round, uint32_t mask)
{
    int64_t pr[TS_MEMBERS_MAX];
    for (uint32_t c = 0; c < b->c.n; c++) pr[c] = (mask >> c & 1) ? (int64_t)round - 1 : -1;
    return db_add(b, creator, round, pr);
}

/* A full round: every creator in `creators` with every creator in `parents` as parent. */
static inline void db_add_round(dag_builder *b, uint32_t round, uint32_t creators, uint32_t parents)
{
    for (uint32_t c = 0; c < b->c.n; c++)
        if (creators >> c & 1) db_add_mask(b, c, round, round ? parents : 0);
}

/* An observer member (never creates) of the builder's committee. */
static inline void db_observer(dag_builder *b, ts_member *tm)
{
    b->c.cfg.observer = 1;
    ts_member_init(tm, &b->c, 0);
}

/* Delivers a unit to the observer, as if sent by its creator (or by member 1 for member 0's
 * own units, since a member drops messages that claim to come from itself). */
static inline void db_deliver(const dag_builder *b, ts_member *tm, const db_unit *u,
                              uint32_t creator)
{
    ts_member_deliver(tm, creator == 0 ? 1 : creator, u->msg, u->len);
}

static inline int db_is(const uint8_t *hash, const db_unit *u)
{
    return memcmp(hash, u->hash, 32) == 0;
}

#endif

/* The safety invariants, checked as batches come out, in O(1) per ordered unit:
 *   agreement     every checked member's output (units by hash, and the head of each round) is
 *                 a prefix of one common sequence; the sequence is built from whichever member
 *                 is furthest ahead, and every other member is compared against it;
 *   no duplicate  no unit appears twice in that sequence (so in no member's output);
 *   no skipped round  a member's batches are for rounds 0, 1, 2, ... in turn;
 *   completeness  tracked units (those honest members created before healing) end up in the
 *                 output of every honest member (sim_checker_missing).
 * The first violation is kept as a one-line message; later ones are ignored. */
#ifndef ALEPH_SIM_INVARIANTS_H
#define ALEPH_SIM_INVARIANTS_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"
#include "hash_table.h"

typedef struct sim_checker {
    uint32_t members;
    /* the common sequence */
    uint8_t (*hashes)[32];
    uint32_t *batch_round; /* per position */
    uint32_t *owner;       /* per position: the member that output it first */
    uint64_t len, cap;
    sim_table position;    /* hash -> position */
    uint64_t *prefix;      /* per member: units output so far */
    uint32_t *next_round;  /* per member: round its next batch must have */
    /* heads by round */
    uint8_t (*heads)[32];
    uint32_t *head_owner;
    uint32_t heads_len, heads_cap;
    /* completeness */
    sim_table tracked;     /* hash -> creator << 33 | round << 1 | seen */
    uint64_t tracked_len, tracked_seen, tracked_pos_max;
    int violated;
    char message[1024];
} sim_checker;

int sim_checker_init(sim_checker *c, uint32_t members);
void sim_checker_free(sim_checker *c);

/* Checks one batch of `member`; returns 0, or -1 when an invariant is violated (message). */
int sim_checker_batch(sim_checker *c, uint32_t member, const aleph_batch *b);

/* A unit that every honest member must eventually output. Returns 0, -1 when out of memory. */
int sim_checker_track(sim_checker *c, const uint8_t hash[32], uint32_t creator, uint32_t round);

/* Returns 1 when every tracked unit is in the output of every member i with honest[i] set;
 * otherwise 0, and (when msg != NULL) describes the first unit still missing, lowest round
 * first. */
int sim_checker_complete(const sim_checker *c, const uint8_t *honest, char *msg, size_t msg_len);

/* Lowercase hex of 32 bytes (65 bytes with the NUL); returns out. */
char *sim_hex32(const uint8_t bytes[32], char out[65]);

#endif

/* The safety invariants, checked as batches come out, in O(1) per ordered unit:
 *   agreement     every checked member's output (units by hash, and the head of each round) is
 *                 a prefix of one common sequence; the sequence is built from whichever member
 *                 is furthest ahead, and every other member is compared against it;
 *   no duplicate  no unit appears twice in that sequence (so in no member's output);
 *   no skipped round  a member's batches are for rounds 0, 1, 2, ... in turn;
 *   completeness  tracked units (those honest members made durable before healing) end up in
 *                 the output of every honest member (sim_checker_complete);
 *   signed once   no honest key signs two units of one round, across restarts: every own
 *                 unit a checked member sends is kept by (creator, round) (a unit lost
 *                 with an unsynced backup before it was sent is no fork: nobody else has it);
 *   exactly once  no durably confirmed transaction (one in an own unit made durable) is
 *                 output twice, and every one in a tracked unit is output (a transaction is
 *                 its bytes; the common sequence counts every transaction of up to 31 bytes).
 * A member that restarts is rewound (sim_checker_restart): its batches, derived again from
 * batch 0 from the restored DAG, are checked against the common sequence like a lagging
 * member's.
 * With epochs, rounds are global (epoch * epoch_rounds + round): batches come for global rounds
 * 0, 1, 2, ... and heads are compared by global round. A tracked unit that its epoch's last
 * batch left out is set apart (no member will ever order it); its transactions were carried
 * into the next epoch, and exactly once still requires them, so completeness then also waits
 * for every required transaction to be output.
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
    uint64_t base;         /* positions below it were dropped (forget); index pos - base */
    uint64_t compact_at;   /* kept length at which the next drop is tried */
    sim_table position;    /* hash -> position, this epoch's units (all units without forget) */
    sim_table position_old;/* forget: the previous epoch's units */
    uint64_t *prefix;      /* per member: units output so far */
    uint32_t *next_round;  /* per member: round its next batch must have */
    /* heads by round */
    uint8_t (*heads)[32];
    uint32_t *head_owner;
    uint32_t heads_len, heads_cap;
    uint32_t heads_base;   /* rounds below it were dropped (forget); index round - heads_base */
    /* forget (sim_checker_forget): the members whose output is checked; what all of them have
     * passed is dropped */
    int forget;
    uint8_t *checked;
    /* completeness */
    sim_table tracked;     /* hash -> creator << 33 | round << 1 | seen */
    sim_table tracked_pos; /* forget: hash -> position of a seen tracked unit (both dropped
                              once every checked member has passed it) */
    uint64_t tracked_len, tracked_seen, tracked_pos_max;
    /* signed once: (creator, round) -> index into signed_hashes */
    sim_table signed_slots;
    uint8_t (*signed_hashes)[32];
    uint64_t signed_len, signed_cap, signed_sends;
    /* exactly once: transaction bytes -> output count << 2 | required << 1 | confirmed */
    sim_table txs;
    uint64_t txs_confirmed, txs_set_apart, units_set_apart;
    /* forget, transactions (sim_checker_forget_txs): only honest members' are kept, each in a
     * window: every sequence of member i below tx_floor[i] was output once (confirmed) or
     * refused at submission, and is in no table; tx_seqs maps (member, sequence) -> the last 8
     * bytes of a transaction in the window (TX_REFUSED: refused) */
    int forget_txs;
    uint8_t *tx_honest;
    uint32_t *tx_floor;
    sim_table tx_seqs;
    uint64_t txs_forgotten;
    /* epochs (0: none); required transactions, how many are output, the last one's position */
    uint32_t epoch_rounds;
    /* restarts with epochs: per epoch e, the position after its last unit (where e+1 begins
     * in the common sequence); per member, the oldest epoch a restart can take it back to
     * (UINT32_MAX: it never restarts), which forget keeps */
    uint64_t *epoch_end_pos;
    uint32_t epoch_end_len, epoch_end_cap;
    uint32_t *rewind_epoch;
    uint64_t signed_total, signed_compact_at, signed_forgotten;
    uint64_t txs_required, txs_required_seen, txs_pos_max;
    int violated;
    char message[1024];
} sim_checker;

int sim_checker_init(sim_checker *c, uint32_t members);
void sim_checker_free(sim_checker *c);

/* Bounded memory for long runs with epochs: positions and heads that every member in
 * `checked` (those whose batches come here) has passed, and that no restart can take a member
 * back to (sim_checker_rewind_floor: the start of the oldest epoch file its disk keeps), are
 * dropped, and the signed-once entries of the epochs before them, each member still being
 * compared with the common sequence as its batches come. No duplicate is then checked within
 * an epoch and against the previous epoch: a unit's hash binds its session, which differs per
 * epoch, so a unit cannot recur in a later epoch's batch without the core ordering a unit of
 * another session (decoding refuses those); exactly once still covers every transaction of the
 * run. Returns 0, -1 when out of memory. */
int sim_checker_forget(sim_checker *c, const uint8_t *checked);

/* Forget mode for the exactly-once table, after sim_checker_forget: transactions of members
 * that are not honest are not kept (none of theirs is ever confirmed, so no check reads them);
 * an honest member's (16 bytes: member, sequence, 8 more) are dropped once confirmed and output
 * once, in sequence order per member, so that the table holds the transactions in flight. A
 * transaction of an honest member with a sequence below its floor that is output again is a
 * violation (it was output once already, or refused); a required one never output stays, so
 * sim_checker_txs_complete still finds it. Returns 0, -1 when out of memory. */
int sim_checker_forget_txs(sim_checker *c, const uint8_t *honest);

/* Honest member's submission of `tx` was refused (it may never be output): with
 * forget_txs its sequence is passed over. Returns 0, -1 when out of memory. */
int sim_checker_refused_tx(sim_checker *c, const uint8_t *tx, size_t len);

/* forget_txs: honest member `who` restarted and every transaction it had submitted below
 * sequence seq_end that is neither confirmed nor output nor refused is lost (it was in the
 * pool or in an own unit that never became durable, and so never left it): it is passed over
 * like a refused one, and output later it is a violation. The caller confirms the restored
 * own units' transactions first (they are on the disk now). Returns 0, -1 out of memory. */
int sim_checker_txs_lost(sim_checker *c, uint32_t who, uint32_t seq_end);

/* Checks one batch of `member`; returns 0, or -1 when an invariant is violated (message). */
int sim_checker_batch(sim_checker *c, uint32_t member, const aleph_batch *b);

/* A unit that every honest member must eventually output. Returns 0, -1 when out of memory. */
int sim_checker_track(sim_checker *c, const uint8_t hash[32], uint32_t creator, uint32_t round);

/* Returns 1 when every tracked unit is in the output of every member i with honest[i] set;
 * otherwise 0, and (when msg != NULL) describes the first unit still missing, lowest round
 * first. */
int sim_checker_complete(const sim_checker *c, const uint8_t *honest, char *msg, size_t msg_len);

/* Checked member `creator` signed the unit `hash` of `round` of `epoch` (0 without epochs).
 * Returns 0, -1 when it signed another unit of that (epoch, round) before (violation) or out
 * of memory. */
int sim_checker_signed(sim_checker *c, uint32_t creator, uint32_t epoch, uint32_t round,
                       const uint8_t hash[32]);

/* A transaction in an own unit that became durable; `required`: it must be output (its unit
 * is tracked). Returns 0, -1 when it was output twice (violation) or out of memory. */
int sim_checker_confirm_tx(sim_checker *c, const uint8_t *tx, size_t len, int required);

/* Member `creator` lost its backup: its tracked units not output yet and its confirmed
 * transactions not output yet are set apart (output at most once, not required). */
void sim_checker_excuse(sim_checker *c, uint32_t creator, uint32_t tx_who);

/* Member `member` may restart and then go back to the start of `epoch` (the oldest backup
 * file it keeps; 0 without epochs): forget keeps what it needs from there (default: members
 * never restart). */
void sim_checker_rewind_floor(sim_checker *c, uint32_t member, uint32_t epoch);

/* Member `member` restarted into `epoch` (0 without epochs): its output is checked again from
 * that epoch's first batch (global round epoch * epoch_rounds). */
void sim_checker_restart(sim_checker *c, uint32_t member, uint32_t epoch);

/* 1 when every required confirmed transaction was output exactly once; else 0 and a
 * description in msg. */
int sim_checker_txs_complete(const sim_checker *c, char *msg, size_t msg_len);

/* Lowercase hex of 32 bytes (65 bytes with the NUL); returns out. */
char *sim_hex32(const uint8_t bytes[32], char out[65]);

#endif

/* `--dump DIR`: the run's DAG, every member's view of it and every member's output, as plain
 * text files that a tool outside the simulator (tests/oracle/oracle.py, which recomputes every
 * batch from the rules) can check without simulator internals. Hashes are 64 hex digits.
 * Sessions in output and coin records are decimal strings (a u64 does not fit a JSON parser's
 * signed integer). With epochs (header "epoch_rounds" > 0) every unit, batch and coin names
 * its epoch: units of different epochs differ (their session does), rounds restart at 0 in
 * every epoch, and each epoch is recomputed on its own (arrivals of other epochs ignored).
 *   header.json          {"format":2,"seed","members","f","quorum","rounds","coin":"off"|
 *                         "test"|"threshold","session" (the u64 as a decimal number),
 *                         "roles":["honest"|"crash"|"silent"|"forker"|"garbage", ...],
 *                         "default_creators":[member...] (the schedule: c(r) = entry r mod
 *                         its length; empty: c(r) = r mod N),
 *                         "flags":"the aleph sim command that reruns this seed"}
 *   dag.jsonl            one line per unit ever created, forks included:
 *                        {"creator","instance","epoch","round","hash","parents":[hash...],
 *                         "slots":[[creator,round]...],"control","payload_bytes",
 *                         "created_ms","parents_verified"}
 *                        instance is "a"/"b" for a forker's two faces, "a" otherwise;
 *                        parents and their slots are in creator order (a parent is null
 *                        when the dump could not name it); control is the unit's control hash
 *                        (null at round 0); parents_verified says the listed hashes
 *                        reproduce it.
 *   messages/<type>-<k>.bin  the first SIM_DUMP_MESSAGES_PER_TYPE messages of each type sent
 *                        by honest members (type byte first; SIM_DUMP_UNITS_MAX of units, in
 *                        the order sent, which is causal): real units, requests and alerts,
 *                        for the fuzzers' seed corpus (scripts/fuzz-corpus.sh)
 *   arrivals-<i>.txt     the hashes of the units that entered member i's DAG, one per line,
 *                        in the order they entered (its own units included).
 *   output-<i>.jsonl     member i's batches, one per line: {"epoch","last","session",
 *                        "round","head","head_creator",
 *                        "depth","ms","dag_units","units":[hash...],"candidates":[hash...],
 *                        "head_index","deciders":[hash...]}; dag_units: how many lines of
 *                        arrivals-<i>.txt its DAG held when it output the batch; candidates,
 *                        head_index, deciders: the election record (aleph_batch): the
 *                        candidates in order, the first head_index of them decided 0, and
 *                        the unit that decided each candidate up to the head.
 *   coins.jsonl          {"epoch","session","round","member","value"}: coin(round) of that
 *                        epoch as member i computed it from
 *                        its own DAG, at each batch for the rounds its election may use (the
 *                        head's round + 3 to + depth + 6) and at the end of the run for every
 *                        round it still knows (test and threshold mode; empty with the coin
 *                        off). A round may appear more than once.
 * A forker's second face writes arrivals-<i>b.txt and output-<i>b.jsonl.
 * A member that restarts (crash-restart faults) begins a new life in new files:
 * arrivals-<i>r<k>.txt and output-<i>r<k>.jsonl after its k-th restart. The new arrivals begin
 * with the units it restored from its backup (in restore order; none when the backup was
 * deleted), and the new output holds every batch it derived, from batch 0 (the simulator
 * checks the re-derived ones against what it output before and counts only the new ones), so
 * each life is checked like a member of its own from its own DAG.
 * Parent hashes are reconstructed outside the core: an honest creator's slot has one unit;
 * for a forker's slot, the parent is the variant that entered the creating member's DAG
 * first (that is usually the one the core's creator used), checked against the control hash;
 * when it is not, the oracle finds the variants that reproduce the control hash. */
#ifndef ALEPH_SIM_DUMP_H
#define ALEPH_SIM_DUMP_H

#include <stdint.h>
#include <stdio.h>

#include "aleph/aleph.h"
#include "hash_table.h"
#include "aleph/aleph.h"

/* What header.json says about the run. */
typedef struct sim_dump_header {
    uint64_t seed, session;
    uint32_t rounds;
    aleph_coin_mode coin_mode;
    const char *const *roles; /* per member */
    const char *flags;
} sim_dump_header;

typedef struct sim_dump {
    FILE *dag, *coins;
    FILE **outputs;          /* 2 per member: faces a and b */
    FILE **arrivals;         /* 2 per member */
    uint64_t *arrived;       /* 2 per member: lines written to arrivals */
    uint32_t *lives;         /* per member: restarts so far (the files' r<k>) */
    char *dir;
    uint32_t members;
    uint8_t *forker;         /* per member */
    aleph_config cfg;             /* the committee's, to inspect units */
    sim_table slots;         /* slot keys -> index into hashes */
    uint8_t (*hashes)[32];
    uint64_t hashes_len, hashes_cap;
    uint64_t units_written, unverified;
    uint32_t messages_written[256]; /* per message type */
    uint64_t *sessions;      /* per epoch: its session (as members reported it) */
    uint32_t sessions_len;
    uint32_t *member_epoch;  /* 2 per member: the epoch its face is in */
    int failed;
} sim_dump;

/* Creates dir if needed, writes header.json and opens dag.jsonl and coins.jsonl. Returns 0, or
 * -1 with a message in err. */
int sim_dump_open(sim_dump *d, const char *dir, uint32_t members, const uint8_t *forker,
                  const aleph_config *cfg, const sim_dump_header *h, char *err,
                  size_t err_len);
/* Writes member `member`'s coin values for rounds 0..rounds_max (those it knows). */
void sim_dump_coins(sim_dump *d, uint32_t member, aleph_member *m, uint32_t rounds_max);
/* The same for rounds lo..hi: written with each batch, for the rounds its election may use,
 * since a long run sheds the coin shares of old rounds before the end. */
void sim_dump_coins_between(sim_dump *d, uint32_t member, aleph_member *m, uint32_t lo,
                            uint32_t hi);
/* Member `member`'s face `which` (core m) moved to `epoch`: its coins of the previous one are
 * written, and the epoch's session remembered. */
void sim_dump_epoch_started(sim_dump *d, uint32_t member, uint32_t which, aleph_member *m,
                            uint32_t epoch);
/* Closes every file; returns 0, -1 when a write failed. */
int sim_dump_close(sim_dump *d);

/* A unit of `creator` entered the DAG of member `member`'s instance `which` (0 or 1). */
void sim_dump_unit_added(sim_dump *d, uint32_t member, uint32_t which, uint32_t creator,
                         uint32_t round, const uint8_t hash[32]);
/* Member `member`'s instance `which` created the unit encoded in unit[0..len). */
void sim_dump_unit_created(sim_dump *d, uint32_t member, uint32_t which, const uint8_t *unit,
                           size_t len, uint64_t now_ms);
#define SIM_DUMP_MESSAGES_PER_TYPE 8u
#define SIM_DUMP_UNITS_MAX 64u
/* A message an honest member sent (kept while its type has fewer than the bound). */
void sim_dump_message(sim_dump *d, const uint8_t *msg, size_t len);
/* Member `member` restarted: its face a's files end, the next ones are of its new life. */
void sim_dump_restart(sim_dump *d, uint32_t member);
void sim_dump_batch(sim_dump *d, uint32_t member, uint32_t which, const aleph_batch *b,
                    uint64_t now_ms);

#endif

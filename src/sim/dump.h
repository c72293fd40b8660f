/* `--dump DIR`: the run's DAG and every member's output as JSON lines, for offline analysis
 * (as the Python proof of concept dumped its DAGs).
 *   dag.jsonl            one line per unit ever created, forks included:
 *                        {"creator","instance","round","hash","parents":[hash...],
 *                         "payload_bytes","created_ms","parents_verified"}
 *                        instance is "a"/"b" for a forker's two faces, "a" otherwise;
 *                        parents are in creator order; parents_verified says the listed hashes
 *                        reproduce the unit's control hash.
 *   messages/<type>-<k>.bin  the first SIM_DUMP_MESSAGES_PER_TYPE messages of each type sent
 *                        by honest members (type byte first): real units, requests and alerts,
 *                        for the fuzzers' seed corpus (scripts/fuzz-corpus.sh)
 *   output-<i>.jsonl     member i's batches: {"round","head","head_creator","depth","ms",
 *                        "units":[hash...]}; a forker's second face writes output-<i>b.jsonl.
 * Parent hashes are reconstructed outside the core: an honest creator's slot has one unit;
 * for a forker's slot, the parent is the variant that entered the creating member's DAG
 * first (that is the one the core's creator uses), checked against the control hash. */
#ifndef ALEPH_SIM_DUMP_H
#define ALEPH_SIM_DUMP_H

#include <stdint.h>
#include <stdio.h>

#include "aleph/aleph.h"
#include "hash_table.h"
#include "aleph/aleph.h"

typedef struct sim_dump {
    FILE *dag;
    FILE **outputs;          /* 2 per member: faces a and b */
    char *dir;
    uint32_t members;
    uint8_t *forker;         /* per member */
    aleph_config cfg;             /* the committee's, to inspect units */
    sim_table slots;         /* slot keys -> index into hashes */
    uint8_t (*hashes)[32];
    uint64_t hashes_len, hashes_cap;
    uint64_t units_written, unverified;
    uint32_t messages_written[256]; /* per message type */
    int failed;
} sim_dump;

/* Creates dir if needed and opens dag.jsonl. Returns 0, or -1 with a message in err. */
int sim_dump_open(sim_dump *d, const char *dir, uint32_t members, const uint8_t *forker,
                  const aleph_config *cfg, char *err, size_t err_len);
/* Closes every file; returns 0, -1 when a write failed. */
int sim_dump_close(sim_dump *d);

/* A unit of `creator` entered the DAG of member `member`'s instance `which` (0 or 1). */
void sim_dump_unit_added(sim_dump *d, uint32_t member, uint32_t which, uint32_t creator,
                         uint32_t round, const uint8_t hash[32]);
/* Member `member`'s instance `which` created the unit encoded in unit[0..len). */
void sim_dump_unit_created(sim_dump *d, uint32_t member, uint32_t which, const uint8_t *unit,
                           size_t len, uint64_t now_ms);
#define SIM_DUMP_MESSAGES_PER_TYPE 8u
/* A message an honest member sent (kept while its type has fewer than the bound). */
void sim_dump_message(sim_dump *d, const uint8_t *msg, size_t len);
void sim_dump_batch(sim_dump *d, uint32_t member, uint32_t which, const aleph_batch *b,
                    uint64_t now_ms);

#endif

/* What the fuzz targets share: the committee of the seed corpus's simulator run (its keys,
 * so that the real units and messages of fuzz/corpus pass the signature checks), and a file
 * for the readers that take a path. */
#ifndef ALEPH_FUZZ_SUPPORT_H
#define ALEPH_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"

/* scripts/fuzz-corpus.sh runs `aleph sim --members 4 --seed 7`. */
#define FUZZ_SIM_MEMBERS 4u
#define FUZZ_SIM_SEED 7u

/* A configuration of that committee (the simulator's limits, the given coin mode, its cached
 * signature check) and member index's secret; the keys are dealt once. */
void fuzz_sim_committee(aleph_config *cfg, aleph_secret *secret, uint32_t index,
                        aleph_coin_mode coin);

/* Aborts unless every unit of the update's batches is whole: its payload walks to its end as
 * transactions, as many as txs_len says (under ASan: inside memory the member owns). */
void fuzz_update_check(const aleph_update *up);

/* Writes data to the one file of this process (under TMPDIR, removed at exit; the name is
 * its last part, the same in every call) and returns its path; aborts when it cannot. */
const char *fuzz_file_write(const char *name, const uint8_t *data, size_t len);

#endif

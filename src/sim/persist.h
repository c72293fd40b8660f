/* What a simulated member does with its disk (disk.h), as `aleph node` does with its backup:
 * an update's persists are appended and synced (one sync at a time, fsync_ms each), messages
 * after an own unit wait for its sync, and what becomes durable is handed to the checker: an
 * honest member's own unit made durable is one every honest member must output (made durable
 * before healing, up to the target) and its transactions are durably confirmed. Without a
 * disk a unit is durable when created. With epochs the disk holds the files of an epoch
 * boundary: the old epoch's and the next one's, begun by a marker (disk.h). */
#ifndef ALEPH_SIM_PERSIST_H
#define ALEPH_SIM_PERSIST_H

#include "sim_state.h"

/* After a step of member i (which has a disk): append what the update persists. */
void sim_persist(sim *s, uint32_t i, const aleph_update *up);
/* SIM_EV_SYNC: the sync is done; durable units are handed on, held messages leave. */
void sim_persist_on_sync(sim *s, const sim_event *ev);
/* Member i (core m) moved to the next epoch: its new backup file begins (the marker, with the
 * carry), after the old epoch's last records; once durable, the old file is deleted. */
void sim_persist_epoch(sim *s, uint32_t i, const aleph_member *m);
/* Member i (m, with a disk) was asked about finished epoch `epoch`, neither kept nor archived
 * (ALEPH_NOTICE_EPOCH_NOT_HELD): with cfg.epochs_archived and the epoch's file on the disk,
 * loads it into m's archive slot (the node's archive.c), at most once per
 * SIM_ARCHIVE_LOAD_GAP_MS of virtual time. */
#define SIM_ARCHIVE_LOAD_GAP_MS 200u
void sim_archive_asked(sim *s, uint32_t i, aleph_member *m, uint32_t epoch);
/* Member i's disk deletes the files it no longer keeps (disk.h); the checker keeps what a
 * restart into its newest durable file may need. */
void sim_persist_old_files(sim *s, uint32_t i);
/* Member i restarted from its disk: with the exactly-once window (forget_txs), its own
 * transactions on the disk (restored own units, carries) may still be output once, every
 * other one it submitted and the checker has not seen confirmed, output or refused is lost. */
void sim_persist_restored(sim *s, uint32_t i);
/* Unit `data` of honest member i is durable (only its own ones count). */
void sim_own_durable(sim *s, uint32_t i, const uint8_t *data, size_t len);

#endif

/* Restart of `aleph node` on its data dir: finds the newest backup file, checks that it is
 * this member's and this committee's, and feeds its units to the member through the core's
 * restore entry point (aleph_member_restore), before the first step.
 *
 * First start or restart is told by the data dir: no backup file (or an empty one) is a first
 * start. Either way the member runs the own check (aleph_config.own_check) before its first
 * unit, so that a data dir that was wiped whole, which looks like a first start, still cannot
 * make it sign a second unit for a round a peer holds (PROTOCOL.md, "Restart"). */
#ifndef ALEPH_NODE_RESTART_H
#define ALEPH_NODE_RESTART_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"
#include "backup.h"
#include "precheck.h"

typedef struct restart_info {
    int restarted;          /* a backup was found and restored */
    uint32_t epoch;         /* of the backup file used (its header) */
    uint64_t epoch_session;
    backup_read_info read;
    uint64_t units;         /* restored */
    int32_t own_round;      /* highest own round restored, -1 when none */
    double seconds;
} restart_info;

/* DATA_DIR/backup-EPOCH.bin with the highest EPOCH, or backup-0.bin when there is none. A
 * newest file without its whole header and carry record (a crash while a switch created it)
 * is deleted when an older one is there: that one is whole, and restoring it ends its epoch
 * again. */
void restart_backup_path(const char *data_dir, char *path, size_t cap, uint32_t *epoch);
/* Deletes backup files of epochs below `epoch` (left by a crash after a switch made the new
 * file durable, before it deleted the old). */
void restart_remove_older(const char *data_dir, uint32_t epoch);

/* How a finished epoch's file is fed to the member: `begin` once with the header's epoch and
 * session (aleph_member_restore_finished, or aleph_member_archive_begin), then `record` for
 * every record but the carry (aleph_member_restore_record, or aleph_member_archive_record);
 * `what` ("restorable", "archivable") names the use in errors. */
typedef struct restart_finished_calls {
    const char *(*begin)(aleph_member *m, uint32_t epoch, uint64_t epoch_session);
    const char *(*record)(aleph_member *m, aleph_persist_kind kind, const uint8_t *data,
                          size_t len);
    const char *what;
} restart_finished_calls;
/* Reads the finished epoch's file at path (this member's, this committee's) through calls,
 * counting in *records the records given to `record`; a header alone is begun too. Returns
 * 0, 1 when there is no file, -1 with err (the caller frees what was begun). */
int restart_read_finished(aleph_member *m, precheck *pc, const char *path, uint32_t member,
                          uint64_t session, const restart_finished_calls *calls,
                          backup_read_info *read, uint64_t *records, char *err, size_t cap);
/* Before restart_restore of the newest file (epoch `epoch`): the finished epochs' files
 * backup-E.bin for E in [from, epoch) that exist, oldest first, through
 * aleph_member_restore_finished (docs/PROTOCOL.md, "A restarted member keeps its finished
 * epochs too"). Returns 0, -1 with err set. */
int restart_restore_finished(aleph_member *m, precheck *pc, const char *data_dir, uint32_t from,
                             uint32_t epoch, uint32_t member, uint64_t session, char *err,
                             size_t cap);
/* pc (NULL: none): the precheck that answers m's signature checks (its verify_signature
 * context); the files' units are then checked ahead on threads in batches (precheck_batch),
 * and m still judges each unit itself.
 * Restores `m` from the backup at path, into the file's epoch (aleph_member_restore_epoch
 * with its EPOCH_CARRY record) then its units; returns 0 (info->restarted says whether there was
 * anything), or -1 with one line in err. */
int restart_restore(aleph_member *m, precheck *pc, const char *path, uint32_t member,
                    uint64_t session, restart_info *info, char *err, size_t cap);
/* A start's whole restore: the newest backup file (restart_backup_path; its path, or
 * backup-0.bin on a first start, written to path), the `kept` finished epochs' files before
 * it (restart_restore_finished), then the newest (restart_restore); on a restart, files older
 * than the `files_kept` finished epochs (kept, then archived: archive.h) are removed. cfg:
 * m's (its session; when its verify_signature is precheck_verify, that precheck is pc). */
int restart_restore_all(aleph_member *m, const aleph_config *cfg, const char *data_dir,
                        uint32_t kept, uint32_t files_kept, uint32_t member, restart_info *info,
                        char *path, size_t path_cap, char *err, size_t cap);

#endif

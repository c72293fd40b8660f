/* The node's files at an epoch boundary (docs/PROTOCOL.md, "Epochs"; backup.h, output.h):
 * when the member moves to epoch e+1, the output file already holds e's last batch (written
 * in the same update, before the notice), and the backup gets its switch: the worker makes
 * backup-e.bin and the output durable, creates backup-(e+1).bin with its header (epoch e+1
 * and its session) and the EPOCH_CARRY record (the own transactions carried), syncs it and
 * the data dir, and only then deletes backup-e.bin. A crash at any point leaves a whole
 * file to restore from: backup-e.bin until backup-(e+1).bin is whole (restart.c then
 * deletes the newer, torn one and restores e, which ends the same way again), then
 * backup-(e+1).bin, whose carry holds every acknowledged transaction that was not ordered
 * in e. */
#ifndef ALEPH_NODE_EPOCH_FILES_H
#define ALEPH_NODE_EPOCH_FILES_H

#include <stdint.h>

#include "aleph/aleph.h"
#include "backup.h"
#include "output.h"

/* Queues the switch to the member's current epoch; returns its persist sequence number. */
uint64_t epoch_files_begin(aleph_member *m, backup_file *b, output_file *o);

#endif

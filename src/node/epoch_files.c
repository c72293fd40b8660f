/* The node's files at an epoch boundary: see epoch_files.h. */
#include "epoch_files.h"

#include <unistd.h>

uint64_t epoch_files_begin(aleph_member *m, backup_file *b, output_file *o)
{
    /* the output's last batch of the old epoch is written (this update's batches come before
     * its notices): the worker syncs it through a descriptor of its own before it deletes the
     * old backup file */
    int out_fd = -1;
    if (output_flush(o) == 0 && o->fd >= 0) out_fd = dup(o->fd);
    if (out_fd < 0) output_sync(o); /* no descriptor to spare: sync here */
    const uint8_t *carry = NULL;
    uint32_t txs = 0;
    size_t len = aleph_member_epoch_carry(m, &carry, &txs);
    return backup_begin_epoch(b, aleph_member_epoch(m), aleph_member_epoch_session(m), carry, len,
                              out_fd);
}

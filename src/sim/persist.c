#include "persist.h"

#include "engine.h"

#include <inttypes.h>
#include <stdlib.h>

/* A unit of honest member i is durable: if it is its own, a unit every honest member must
 * output (made durable before healing, up to the target) and its transactions confirmed. */
void sim_own_durable(sim *s, uint32_t i, const uint8_t *data, size_t len)
{
    aleph_unit_info u;
    uint32_t epoch;
    if (!s->members[i].honest || sim_inspect_own(s, data, len, &u, &epoch) != NULL ||
        u.creator != i)
        return;
    uint32_t g = sim_global_round(s, epoch, u.round);
    int required = !s->healed && g <= s->target;
    /* With epochs, a unit above round E-1 of its epoch is never ordered (the epoch ends with
     * its batch of head E-1): not tracked, but its transactions (carried) stay required. */
    if (required && (!s->cfg->epoch_rounds || u.round < s->cfg->epoch_rounds)) {
        if (sim_checker_track(&s->checker, u.hash, i, g) != 0)
            sim_fail(s, NULL, "simulator out of memory (tracking)");
        s->res->tracked_units++;
    }
    size_t off = 0, tx_len;
    const uint8_t *tx;
    while (aleph_payload_next(u.payload, u.payload_len, &off, &tx, &tx_len) == 1) {
        if (tx_len != SIM_TX_BYTES || le32_get(tx) != i) continue;
        if (sim_checker_confirm_tx(&s->checker, tx, tx_len, required) != 0)
            sim_fail(s, &s->res->exactly_once, "%s", s->checker.message);
    }
}

/* Member i's transactions in one payload (an own unit's, a carry): on the disk, so output at
 * most once from now on (confirmed, not required: no client was told). */
static void restored_txs(sim *s, uint32_t i, const uint8_t *payload, size_t len)
{
    size_t off = 0, tx_len;
    const uint8_t *tx;
    while (aleph_payload_next(payload, len, &off, &tx, &tx_len) == 1) {
        if (tx_len != SIM_TX_BYTES || le32_get(tx) != i) continue;
        if (sim_checker_confirm_tx(&s->checker, tx, tx_len, 0) != 0)
            sim_fail(s, &s->res->exactly_once, "%s", s->checker.message);
    }
}

void sim_persist_restored(sim *s, uint32_t i)
{
    if (!s->checker.forget_txs) return;
    const sim_disk *d = s->members[i].disk;
    uint64_t confirmed = s->checker.txs_confirmed;
    for (size_t k = 0; k < d->len; k++) {
        const sim_disk_record *r = &d->records[k];
        aleph_unit_info u;
        uint32_t epoch;
        if (r->kind == SIM_DISK_EPOCH)
            restored_txs(s, i, r->data + SIM_DISK_EPOCH_HEADER, r->len - SIM_DISK_EPOCH_HEADER);
        else if (r->kind == ALEPH_PERSIST_UNIT && !sim_inspect_own(s, r->data, r->len, &u, &epoch) &&
                 u.creator == i)
            restored_txs(s, i, u.payload, u.payload_len);
    }
    s->checker.txs_confirmed = confirmed; /* not counted as durably confirmed */
    if (sim_checker_txs_lost(&s->checker, i, s->members[i].inst[0].tx_seq) != 0)
        sim_fail(s, NULL, "%s", s->checker.message);
}

static void start_sync(sim *s, uint32_t i)
{
    sim_member *mb = &s->members[i];
    if (sim_disk_sync_start(mb->disk)) sim_push(s, s->now + s->fsync_ms, SIM_EV_SYNC, i, i, mb->life, NULL);
}

/* What an update says to persist goes to the disk (append, then a sync when none runs). */
void sim_persist(sim *s, uint32_t i, const aleph_update *up)
{
    if (!up->persist_len) return;
    if (sim_disk_append(s->members[i].disk, up->persist, up->persist_len,
                        up->persist_before_send) != 0) {
        sim_fail(s, NULL, "simulator out of memory (disk)");
        return;
    }
    start_sync(s, i);
}

void sim_persist_on_sync(sim *s, const sim_event *ev)
{
    sim_member *mb = &s->members[ev->to];
    if (mb->down || ev->aux != mb->life) return; /* the process that asked for it died */
    sim_disk *d = mb->disk;
    for (size_t k = sim_disk_synced(d); k < d->durable; k++)
        if (d->records[k].kind == ALEPH_PERSIST_UNIT)
            sim_own_durable(s, ev->to, d->records[k].data, d->records[k].len);
    sim_disk_held h;
    while (sim_disk_release(d, &h)) {
        sim_route(s, ev->to, 0, h.data, h.len, h.to, NULL);
        free(h.data);
    }
    sim_persist_old_files(s, ev->to);
    start_sync(s, ev->to);
}

void sim_persist_old_files(sim *s, uint32_t i)
{
    sim_disk *d = s->members[i].disk;
    sim_disk_delete_old_files(d, d->finished_kept);
    sim_checker_rewind_floor(&s->checker, i, d->epoch_durable);
}

void sim_persist_epoch(sim *s, uint32_t i, const aleph_member *m)
{
    const uint8_t *carry;
    uint32_t txs;
    size_t len = aleph_member_epoch_carry(m, &carry, &txs);
    if (sim_disk_begin_epoch(s->members[i].disk, aleph_member_epoch(m),
                             aleph_member_epoch_session(m), carry, len) != 0) {
        sim_fail(s, NULL, "simulator out of memory (disk)");
        return;
    }
    start_sync(s, i);
}

/* The records [*lo, *hi) of epoch's file on disk d (after its marker); 0 when not there. */
static int epoch_file(const sim_disk *d, uint32_t epoch, size_t *lo, size_t *hi, uint64_t *session)
{
    uint32_t file_epoch = 0;
    int found = epoch == 0 && d->len && d->records[0].kind != SIM_DISK_EPOCH;
    *lo = 0;
    for (size_t k = 0; k < d->len; k++) {
        const sim_disk_record *r = &d->records[k];
        if (r->kind != SIM_DISK_EPOCH) continue;
        if (found) {
            *hi = k;
            return 1;
        }
        file_epoch = le32_get(r->data);
        if (file_epoch == epoch) {
            found = 1;
            *lo = k + 1;
            *session = le64_get(r->data + 4);
        }
    }
    return 0; /* the newest file is the current epoch's, never archived */
}

void sim_archive_asked(sim *s, uint32_t i, aleph_member *m, uint32_t epoch)
{
    sim_member *mb = &s->members[i];
    if (!s->cfg->epochs_archived || s->now < mb->archive_next_ms) return;
    mb->archive_next_ms = s->now + SIM_ARCHIVE_LOAD_GAP_MS;
    size_t lo, hi;
    uint64_t session = s->acfg.session;
    if (!epoch_file(mb->disk, epoch, &lo, &hi, &session)) return; /* deleted: beyond K + A */
    const char *why = aleph_member_archive_begin(m, epoch, session);
    for (size_t k = lo; !why && k < hi; k++) {
        const sim_disk_record *r = &mb->disk->records[k];
        why = aleph_member_archive_record(m, r->kind, r->data, r->len);
    }
    if (why) {
        aleph_member_archive_free(m);
        sim_fail(s, NULL, "member %u: archiving epoch %u from its disk refused: %s", i, epoch, why);
        return;
    }
    s->res->archive_loads++;
}

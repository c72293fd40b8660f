#include "restart.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "precheck.h"

/* The read-ahead of a backup's units: their signatures checked on threads (precheck_batch),
 * when pc (the member's verify_signature context) answers the member's checks from them. */
static const backup_ahead *ahead_of(precheck *pc, backup_ahead *a)
{
    if (!pc) return NULL;
    *a = (backup_ahead){precheck_batch, precheck_hash_peek, precheck_batch_end, pc};
    return a;
}

/* Epoch of a backup-EPOCH.bin name; -1 when not one. */
static long backup_name_epoch(const char *name)
{
    unsigned long v;
    char tail[8];
    if (sscanf(name, "backup-%lu.bi%1s", &v, tail) == 2 && strcmp(tail, "n") == 0 &&
        v <= UINT32_MAX)
        return (long)v;
    return -1;
}

/* 1 when the file at path holds a whole header and, after epoch 0, a whole first record
 * (the EPOCH_CARRY written with the header): what a switch syncs before it deletes the
 * previous epoch's file. */
static int backup_file_whole(const char *path, uint32_t epoch)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint8_t h[BACKUP_HEADER_BYTES + BACKUP_RECORD_HEADER_BYTES];
    size_t need = epoch ? sizeof h : BACKUP_HEADER_BYTES;
    size_t got = fread(h, 1, sizeof h, f);
    struct stat st;
    int ok = fstat(fileno(f), &st) == 0 && got >= need;
    fclose(f);
    if (ok && epoch)
        ok = (uint64_t)st.st_size >= sizeof h + (uint64_t)le32_get(h + BACKUP_HEADER_BYTES);
    return ok;
}

void restart_backup_path(const char *data_dir, char *path, size_t cap, uint32_t *epoch)
{
    long best = -1, second = -1;
    DIR *d = opendir(data_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            long v = backup_name_epoch(e->d_name);
            if (v > best) second = best, best = v;
            else if (v > second) second = v;
        }
        closedir(d);
    }
    if (best > 0 && second >= 0) {
        /* a crash during a switch: the new file not whole yet, the old one still there */
        snprintf(path, cap, "%s/backup-%ld.bin", data_dir, best);
        if (!backup_file_whole(path, (uint32_t)best) && unlink(path) == 0) best = second;
    }
    *epoch = best < 0 ? 0 : (uint32_t)best;
    snprintf(path, cap, "%s/backup-%u.bin", data_dir, *epoch);
}

void restart_remove_older(const char *data_dir, uint32_t epoch)
{
    DIR *d = opendir(data_dir);
    if (!d) return;
    struct dirent *e;
    char path[4400];
    int removed = 0;
    while ((e = readdir(d)) != NULL) {
        long v = backup_name_epoch(e->d_name);
        if (v < 0 || v >= (long)epoch) continue;
        snprintf(path, sizeof path, "%s/%s", data_dir, e->d_name);
        removed += unlink(path) == 0;
    }
    closedir(d);
    if (removed) {
        int fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
}

typedef struct restore_ctx {
    aleph_member *m;
    const backup_read_info *read;
    int epoch_set;
} restore_ctx;

/* The epoch of the file, with its carry (once, before any unit). */
static const char *set_epoch(restore_ctx *rc, const uint8_t *carry, size_t len)
{
    rc->epoch_set = 1;
    const backup_header *h = &rc->read->header;
    if (h->epoch == 0) return len ? "an epoch-0 backup with a carry record" : NULL;
    return aleph_member_restore_epoch(rc->m, h->epoch, h->epoch_session, carry, len);
}

static int restore_record(void *ctx, uint8_t kind, const uint8_t *body, size_t len, char *err,
                          size_t cap)
{
    restore_ctx *rc = ctx;
    const char *why = NULL;
    if (kind == BACKUP_EPOCH_CARRY && !rc->epoch_set) {
        why = set_epoch(rc, body, len);
        if (why) snprintf(err, cap, "epoch %u not restorable: %s", rc->read->header.epoch, why);
        return why ? -1 : 0;
    }
    aleph_persist_kind pk;
    if (backup_kind_persist(kind, &pk) != 0) {
        snprintf(err, cap, "record kind %u is not known to this aleph here", kind);
        return -1;
    }
    if (!rc->epoch_set && (why = set_epoch(rc, NULL, 0)) != NULL) {
        snprintf(err, cap, "epoch %u not restorable: %s", rc->read->header.epoch, why);
        return -1;
    }
    why = aleph_member_restore_record(rc->m, pk, body, len);
    if (why) {
        static const char *const what[] = {"unit", "alert", "certificate"};
        snprintf(err, cap, "%s not restorable: %s", what[pk], why);
        return -1;
    }
    return 0;
}

typedef struct finished_ctx {
    aleph_member *m;
    const backup_read_info *read;
    const restart_finished_calls *calls;
    int begun;
    uint64_t records;
} finished_ctx;

static const char *finished_begin(finished_ctx *fc, uint32_t epoch, uint64_t epoch_session)
{
    fc->begun = 1;
    return fc->calls->begin(fc->m, epoch, epoch_session);
}

/* A finished epoch's file: its header names the epoch (begin once, before its first record),
 * its carry record is skipped (it was carried into the next epoch). */
static int finished_record(void *ctx, uint8_t kind, const uint8_t *body, size_t len, char *err,
                           size_t cap)
{
    finished_ctx *fc = ctx;
    const backup_header *h = &fc->read->header;
    const char *what = fc->calls->what;
    const char *why;
    if (!fc->begun && (why = finished_begin(fc, h->epoch, h->epoch_session)) != NULL) {
        snprintf(err, cap, "finished epoch %u not %s: %s", h->epoch, what, why);
        return -1;
    }
    if (kind == BACKUP_EPOCH_CARRY) return 0;
    aleph_persist_kind pk;
    why = backup_kind_persist(kind, &pk) != 0 ? "record kind not known to this aleph"
                                              : fc->calls->record(fc->m, pk, body, len);
    if (why) snprintf(err, cap, "finished epoch %u: record not %s: %s", h->epoch, what, why);
    fc->records++;
    return why ? -1 : 0;
}

int restart_read_finished(aleph_member *m, precheck *pc, const char *path, uint32_t member,
                          uint64_t session, const restart_finished_calls *calls,
                          backup_read_info *read, uint64_t *records, char *err, size_t cap)
{
    backup_header expect = {.member = member, .session = session};
    finished_ctx fc = {.m = m, .read = read, .calls = calls};
    backup_ahead a;
    int rc = backup_read_ahead(path, &expect, finished_record, &fc, ahead_of(pc, &a), read, err,
                               cap);
    *records = fc.records;
    const char *why;
    if (rc == 0 && !fc.begun && /* a header alone: an epoch with no record */
        (why = finished_begin(&fc, read->header.epoch, read->header.epoch_session)) != NULL) {
        snprintf(err, cap, "%s: finished epoch %u not %s: %s", path, read->header.epoch,
                 calls->what, why);
        rc = -1;
    }
    return rc;
}

int restart_restore_finished(aleph_member *m, precheck *pc, const char *data_dir, uint32_t from,
                             uint32_t epoch, uint32_t member, uint64_t session, char *err,
                             size_t cap)
{
    static const restart_finished_calls calls = {aleph_member_restore_finished,
                                                 aleph_member_restore_record, "restorable"};
    for (uint32_t e = from; e < epoch; e++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/backup-%u.bin", data_dir, e);
        backup_read_info read;
        uint64_t records;
        if (restart_read_finished(m, pc, path, member, session, &calls, &read, &records, err,
                                  cap) < 0)
            return -1;
    }
    return 0;
}

int restart_restore_all(aleph_member *m, const aleph_config *cfg, const char *data_dir,
                        uint32_t kept, uint32_t files_kept, uint32_t member, restart_info *info,
                        char *path, size_t path_cap, char *err, size_t cap)
{
    uint64_t session = cfg->session;
    precheck *pc = cfg->verify_signature == precheck_verify ? cfg->verify_signature_ctx : NULL;
    uint32_t epoch;
    restart_backup_path(data_dir, path, path_cap, &epoch);
    uint32_t kept_from = epoch > kept ? epoch - kept : 0;
    if (restart_restore_finished(m, pc, data_dir, kept_from, epoch, member, session, err, cap) ||
        restart_restore(m, pc, path, member, session, info, err, cap) != 0)
        return -1;
    if (info->restarted) restart_remove_older(data_dir, epoch > files_kept ? epoch - files_kept : 0);
    else snprintf(path, path_cap, "%s/backup-%u.bin", data_dir, info->epoch);
    return 0;
}

int restart_restore(aleph_member *m, precheck *pc, const char *path, uint32_t member,
                    uint64_t session, restart_info *info, char *err, size_t cap)
{
    memset(info, 0, sizeof *info);
    info->own_round = -1;
    uint64_t t0 = clock_mono_ns();
    backup_header expect = {.member = member, .session = session};
    restore_ctx ctx = {.m = m, .read = &info->read};
    backup_ahead a;
    int rc = backup_read_ahead(path, &expect, restore_record, &ctx, ahead_of(pc, &a), &info->read,
                               err, cap);
    if (rc < 0) return -1;
    if (rc == 0 && !ctx.epoch_set) {
        const char *why = set_epoch(&ctx, NULL, 0); /* a file of only a header */
        if (why) {
            snprintf(err, cap, "%s: epoch %u not restorable: %s", path, info->read.header.epoch,
                     why);
            return -1;
        }
    }
    info->epoch = rc == 0 ? info->read.header.epoch : 0;
    info->epoch_session = rc == 0 ? info->read.header.epoch_session : session;
    info->restarted = rc == 0;
    aleph_member_stats st;
    aleph_member_stats_get(m, &st);
    info->units = st.units_restored;
    info->own_round = st.round_created == UINT32_MAX ? -1 : (int32_t)st.round_created;
    info->seconds = (double)(clock_mono_ns() - t0) / 1e9;
    return 0;
}

/* The archive of finished epochs' backup files, served from: see archive.h. */
#include "archive.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "restart.h"
#include "base/util.h"

void archive_init(archive *a, const char *dir, uint32_t member, uint64_t session,
                  uint32_t epochs)
{
    memset(a, 0, sizeof *a);
    snprintf(a->dir, sizeof a->dir, "%s", dir);
    a->member = member;
    a->session = session;
    a->epochs = epochs;
}

/* Loads backup-EPOCH.bin into the slot: 0, 1 when there is no such file, -1 with err. */
static int load(archive *a, aleph_member *m, uint32_t epoch, uint64_t *records, char *err,
                size_t cap)
{
    static const restart_finished_calls calls = {aleph_member_archive_begin,
                                                 aleph_member_archive_record, "archivable"};
    char path[4200];
    snprintf(path, sizeof path, "%s/backup-%u.bin", a->dir, epoch);
    backup_read_info read;
    int rc = restart_read_finished(m, NULL, path, a->member, a->session, &calls, &read, records,
                                   err, cap);
    if (rc == 0 && read.header.epoch != epoch) {
        snprintf(err, cap, "%s: its header names epoch %u", path, read.header.epoch);
        rc = -1;
    }
    if (rc != 0) aleph_member_archive_free(m); /* nothing half loaded answers */
    return rc;
}

void archive_asked(archive *a, aleph_member *m, node_log *log, uint32_t epoch, uint64_t now_ms)
{
    if (!a->epochs) return;
    if (now_ms < a->next_load_ms) {
        a->loads_deferred++;
        return;
    }
    uint64_t t0 = clock_mono_ns(), records = 0;
    char err[8192] = "";
    int rc = load(a, m, epoch, &records, err, sizeof err);
    double ms = (double)(clock_mono_ns() - t0) / 1e6;
    uint64_t gap = (uint64_t)(ms * ARCHIVE_LOAD_GAP_FACTOR);
    a->next_load_ms = now_ms + (gap > ARCHIVE_LOAD_GAP_MS_MIN ? gap : ARCHIVE_LOAD_GAP_MS_MIN);
    if (rc == 1) {
        a->missing++;
        return;
    }
    if (rc < 0) {
        a->load_errors++;
        char esc[16500];
        log_line(log, LOG_ERROR, "archive_load_failed", "\"epoch\":%u,\"error\":\"%s\"", epoch,
                 log_escape(esc, sizeof esc, err));
        return;
    }
    a->loads++;
    if (ms > a->load_ms_max) a->load_ms_max = ms;
    aleph_member_stats st;
    aleph_member_stats_get(m, &st);
    a->answers_seen = st.archive_answers;
    a->answered_ms = now_ms;
    log_line(log, LOG_INFO, "archive_loaded",
             "\"epoch\":%u,\"records\":%" PRIu64 ",\"ms\":%.1f", epoch, records, ms);
}

void archive_tick(archive *a, aleph_member *m, node_log *log, uint64_t now_ms)
{
    uint32_t epoch;
    if (!aleph_member_archive_epoch(m, &epoch)) return;
    aleph_member_stats st;
    aleph_member_stats_get(m, &st);
    if (st.archive_answers != a->answers_seen) {
        a->answers_seen = st.archive_answers;
        a->answered_ms = now_ms;
        return;
    }
    if (now_ms < a->answered_ms + ARCHIVE_IDLE_MS) return;
    aleph_member_archive_free(m);
    a->freed++;
    log_line(log, LOG_INFO, "archive_freed", "\"epoch\":%u,\"idle_ms\":%" PRIu64, epoch,
             now_ms - a->answered_ms);
}

const char *archive_stats_fields(archive *a, const aleph_member *m)
{
    uint32_t epoch;
    int held = aleph_member_archive_epoch(m, &epoch);
    aleph_member_stats st;
    aleph_member_stats_get(m, &st);
    snprintf(a->fields, sizeof a->fields,
             "\"epochs\":%u,\"held\":%" PRId64 ",\"asked\":%" PRIu64 ",\"loads\":%" PRIu64
             ",\"load_errors\":%" PRIu64 ",\"deferred\":%" PRIu64 ",\"missing\":%" PRIu64
             ",\"freed\":%" PRIu64 ",\"answers\":%" PRIu64 ",\"load_ms_max\":%.1f",
             a->epochs, held ? (int64_t)epoch : -1, st.archive_asked, a->loads, a->load_errors,
             a->loads_deferred, a->missing, a->freed, st.archive_answers, a->load_ms_max);
    return a->fields;
}

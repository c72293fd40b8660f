#include "restart.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void restart_backup_path(const char *data_dir, char *path, size_t cap, uint32_t *epoch)
{
    uint32_t best = 0;
    DIR *d = opendir(data_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            unsigned long v;
            char tail[8];
            if (sscanf(e->d_name, "backup-%lu.bi%1s", &v, tail) == 2 && strcmp(tail, "n") == 0 &&
                v <= UINT32_MAX && v > best)
                best = (uint32_t)v;
        }
        closedir(d);
    }
    *epoch = best;
    snprintf(path, cap, "%s/backup-%u.bin", data_dir, best);
}

static int restore_record(void *ctx, uint8_t kind, const uint8_t *body, size_t len, char *err,
                          size_t cap)
{
    aleph_member *m = ctx;
    if (kind != BACKUP_UNIT) {
        snprintf(err, cap, "record kind %u is not known to this aleph", kind);
        return -1;
    }
    const char *why = aleph_member_restore(m, body, len);
    if (why) {
        snprintf(err, cap, "unit not restorable: %s", why);
        return -1;
    }
    return 0;
}

int restart_restore(aleph_member *m, const char *path, uint32_t member, uint64_t session,
                    restart_info *info, char *err, size_t cap)
{
    memset(info, 0, sizeof *info);
    info->own_round = -1;
    uint64_t t0 = clock_mono_ns();
    backup_header expect = {.member = member, .session = session};
    int rc = backup_read(path, &expect, restore_record, m, &info->read, err, cap);
    if (rc < 0) return -1;
    info->restarted = rc == 0;
    aleph_member_stats st;
    aleph_member_stats_get(m, &st);
    info->units = st.units_restored;
    info->own_round = st.round_created == UINT32_MAX ? -1 : (int32_t)st.round_created;
    info->seconds = (double)(clock_mono_ns() - t0) / 1e9;
    return 0;
}

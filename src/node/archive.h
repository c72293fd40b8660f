/* The archive of finished epochs (docs/PROTOCOL.md, "Beyond K: the archive"): the backup
 * files of `epochs` (A) finished epochs beyond the K the member keeps in memory stay on disk
 * (backup.c deletes the file K + A + 1 epochs back at a switch), and when a peer asks about
 * one of them (ALEPH_NOTICE_EPOCH_NOT_HELD), its file is loaded into the core's one archive
 * slot (aleph_member_archive_begin, then its records), which answers the peer's next
 * requests like a kept epoch. Bounded against peers that keep asking about old epochs: one
 * epoch in memory (the core's slot), loads at most one per max(1 s, 4 x the last load's
 * time) (asks before that are counted, deferred), the slot freed after ARCHIVE_IDLE_MS
 * without an answer from it, a file that does not load one log line and a counted error. */
#ifndef ALEPH_NODE_ARCHIVE_H
#define ALEPH_NODE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"
#include "base/log.h"

#define ARCHIVE_EPOCHS_DEFAULT 8u
#define ARCHIVE_EPOCHS_MAX 1024u
#define ARCHIVE_LOAD_GAP_MS_MIN 1000u
#define ARCHIVE_LOAD_GAP_FACTOR 4u
#define ARCHIVE_IDLE_MS 10000u

typedef struct archive {
    char dir[4096];
    uint32_t member;
    uint64_t session;     /* the committee's */
    uint32_t epochs;      /* A; 0: off (nothing loaded) */
    uint64_t next_load_ms; /* no load (nor file lookup) before */
    uint64_t answers_seen, answered_ms; /* the slot's use, for freeing it when idle */
    uint64_t loads, load_errors, loads_deferred, missing, freed;
    double load_ms_max;
    char fields[512];
} archive;

void archive_init(archive *a, const char *dir, uint32_t member, uint64_t session,
                  uint32_t epochs);
/* A peer asked about finished epoch `epoch`, which the member neither keeps nor archives:
 * loads its file into the archive slot when there is one and a load is due. */
void archive_asked(archive *a, aleph_member *m, node_log *log, uint32_t epoch, uint64_t now_ms);
/* Frees the archive slot when it answered nothing for ARCHIVE_IDLE_MS (call periodically). */
void archive_tick(archive *a, aleph_member *m, node_log *log, uint64_t now_ms);
/* The stats line's "archive" object's fields (in a->fields, valid until the next call). */
const char *archive_stats_fields(archive *a, const aleph_member *m);

#endif

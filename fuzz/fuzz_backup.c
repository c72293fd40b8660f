/* libFuzzer target: the backup reader and the restore it feeds (src/node/backup.c,
 * restart.c, aleph_member_restore_record: units, alerts, certificates), as `aleph node`
 * runs them on its data dir at a restart: a backup file is input from outside. Whatever the file, nothing crashes, the reader either
 * restores or refuses with a reason, and a member restored from it steps and orders without
 * fault (each batch's payloads walk whole).
 *
 * Input: byte 0: bit 0 set: the rest is records the harness frames (u8 kind, u16 length,
 * body each) behind a valid header of member 0 of the seed corpus's committee
 * (fuzz_support.h), with correct checksums except, with bit 1, that of record byte 1; bit 2:
 * the header names member 1 instead. Bit 0 clear: the rest is the file as it is, read as
 * the backup of the member and committee its header names (bit 2 clear) or of member 0 of
 * the corpus's committee. The seed corpus (scripts/fuzz-corpus.sh): the simulator run's
 * units framed in the order sent (a real backup's order), the forker run's units, alerts and
 * certificates as records (kinds 1, 3, 4), and the start of a real backup of an `aleph local`
 * run (other keys: its records read, its units refused). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "base/util.h"
#include "node/backup.h"
#include "node/restart.h"

static uint8_t *file;
static size_t file_len, file_cap;

static void put(const void *data, size_t len)
{
    if (file_len + len > file_cap) {
        file_cap = (file_len + len) * 2;
        file = realloc(file, file_cap);
        if (!file) abort();
    }
    memcpy(file + file_len, data, len);
    file_len += len;
}

static void frame_records(const uint8_t *data, size_t size, uint64_t session)
{
    backup_header h = {.member = (data[0] >> 2) & 1, .session = session};
    uint8_t hd[BACKUP_HEADER_BYTES];
    backup_header_encode(&h, hd);
    put(hd, sizeof hd);
    size_t off = 2;
    uint32_t k = 0;
    while (off + 3 <= size) {
        uint8_t kind = data[off];
        uint32_t len = (uint32_t)data[off + 1] | (uint32_t)data[off + 2] << 8;
        off += 3;
        if (len > size - off) len = (uint32_t)(size - off);
        uint8_t rh[BACKUP_RECORD_HEADER_BYTES];
        le32_put(rh, len);
        uint32_t sum = backup_record_checksum(len, kind, data + off);
        if ((data[0] & 2) && k == data[1]) sum ^= 1;
        le32_put(rh + 4, sum);
        rh[8] = kind;
        put(rh, sizeof rh);
        put(data + off, len);
        off += len;
        k++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    aleph_config cfg;
    aleph_secret secret;
    fuzz_sim_committee(&cfg, &secret, 0, ALEPH_COIN_THRESHOLD);
    file_len = 0;
    if (data[0] & 1)
        frame_records(data, size, cfg.session);
    else
        put(data + 1, size - 1);
    const char *path = fuzz_file_write("backup-0.bin", file, file_len);
    aleph_member *m = aleph_member_new(&cfg, &secret, NULL);
    if (!m) abort();
    /* A raw file is checked against the member and session its own header names (when it
     * has one), so that a real backup of another committee gets past the header. */
    uint32_t member = 0;
    uint64_t session = cfg.session;
    if (!(data[0] & 1) && !(data[0] & 4) && file_len >= BACKUP_HEADER_BYTES) {
        member = le32_get(file + 12);
        session = le64_get(file + 16);
    }
    restart_info info;
    char err[512] = "";
    if (restart_restore(m, NULL, path, member, session, &info, err, sizeof err) == 0) {
        if (info.units > info.read.records) abort();
        /* The restored member orders what its DAG decides. */
        aleph_event ev = {.kind = ALEPH_EVENT_TICK, .now_ms = 1};
        aleph_update up;
        aleph_member_step(m, &ev, &up);
        fuzz_update_check(&up);
    } else if (!err[0]) {
        abort(); /* a refusal says why */
    }
    aleph_member_free(m);
    return 0;
}

#include "dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "invariants.h"

int sim_dump_open(sim_dump *d, const char *dir, uint32_t members, const uint8_t *forker,
                  const aleph_config *cfg, char *err, size_t err_len)
{
    memset(d, 0, sizeof *d);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "--dump: cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    d->dir = strdup(dir);
    d->members = members;
    d->cfg = *cfg;
    d->forker = malloc(members);
    d->outputs = calloc(2 * (size_t)members, sizeof *d->outputs);
    sim_table_init(&d->slots);
    if (!d->dir || !d->forker || !d->outputs) {
        snprintf(err, err_len, "--dump: out of memory");
        sim_dump_close(d);
        return -1;
    }
    memcpy(d->forker, forker, members);
    char path[4096];
    snprintf(path, sizeof path, "%s/dag.jsonl", dir);
    d->dag = fopen(path, "w");
    if (!d->dag) {
        snprintf(err, err_len, "--dump: cannot write %s: %s", path, strerror(errno));
        sim_dump_close(d);
        return -1;
    }
    return 0;
}

int sim_dump_close(sim_dump *d)
{
    int rc = d->failed ? -1 : 0;
    if (d->dag && fclose(d->dag) != 0) rc = -1;
    for (size_t i = 0; d->outputs && i < 2 * (size_t)d->members; i++)
        if (d->outputs[i] && fclose(d->outputs[i]) != 0) rc = -1;
    free(d->outputs);
    free(d->dir);
    free(d->forker);
    free(d->hashes);
    sim_table_free(&d->slots);
    memset(d, 0, sizeof *d);
    return rc;
}

static void slot_key(uint8_t key[32], char kind, uint32_t member, uint32_t which,
                     uint32_t creator, uint32_t round)
{
    memset(key, 0, 32);
    key[0] = (uint8_t)kind;
    memcpy(key + 4, &member, 4);
    memcpy(key + 8, &which, 4);
    memcpy(key + 12, &creator, 4);
    memcpy(key + 16, &round, 4);
    /* spread the key: the table hashes the first and last 8 bytes */
    uint64_t mix = ((uint64_t)creator << 32 | round) * 0x9e3779b97f4a7c15ull ^ member;
    memcpy(key + 24, &mix, 8);
}

static int remember(sim_dump *d, const uint8_t key[32], const uint8_t hash[32])
{
    if (sim_table_get(&d->slots, key, NULL)) return 0;
    if (d->hashes_len == d->hashes_cap) {
        uint64_t cap = d->hashes_cap ? d->hashes_cap * 2 : 1024;
        uint8_t(*grown)[32] = realloc(d->hashes, cap * 32);
        if (!grown) return -1;
        d->hashes = grown;
        d->hashes_cap = cap;
    }
    memcpy(d->hashes[d->hashes_len], hash, 32);
    if (sim_table_put(&d->slots, key, d->hashes_len) != 0) return -1;
    d->hashes_len++;
    return 0;
}

void sim_dump_unit_added(sim_dump *d, uint32_t member, uint32_t which, uint32_t creator,
                         uint32_t round, const uint8_t hash[32])
{
    if (creator >= d->members || !d->forker[creator]) return;
    uint8_t key[32];
    slot_key(key, 'f', member, which, creator, round);
    if (remember(d, key, hash) != 0) d->failed = 1;
}

static const uint8_t *parent_hash(sim_dump *d, uint32_t member, uint32_t which,
                                  uint32_t creator, uint32_t round)
{
    uint8_t key[32];
    if (d->forker[creator]) slot_key(key, 'f', member, which, creator, round);
    else slot_key(key, 'g', 0, 0, creator, round);
    uint64_t index;
    return sim_table_get(&d->slots, key, &index) ? d->hashes[index] : NULL;
}

void sim_dump_unit_created(sim_dump *d, uint32_t member, uint32_t which, const uint8_t *unit,
                           size_t len, uint64_t now_ms)
{
    aleph_unit_info w;
    if (!d->dag || aleph_unit_inspect(&d->cfg, unit, len, &w) != NULL) return;
    const uint8_t *hash = w.hash;
    uint8_t key[32];
    if (!d->forker[w.creator]) {
        slot_key(key, 'g', 0, 0, w.creator, w.round);
        if (remember(d, key, hash) != 0) d->failed = 1;
    }
    char hex[65];
    fprintf(d->dag, "{\"creator\":%u,\"instance\":\"%c\",\"round\":%u,\"hash\":\"%s\",\"parents\":[",
            w.creator, which ? 'b' : 'a', w.round, sim_hex32(hash, hex));
    const uint8_t *hashes[ALEPH_MEMBERS_MAX];
    int verified = 1;
    for (uint32_t i = 0; i < w.parents_len; i++) {
        uint32_t c, r;
        aleph_unit_parent(&w, i, &c, &r);
        const uint8_t *h = parent_hash(d, member, which, c, r);
        hashes[i] = h;
        if (!h) verified = 0;
        if (h) fprintf(d->dag, "%s\"%s\"", i ? "," : "", sim_hex32(h, hex));
        else fprintf(d->dag, "%snull", i ? "," : "");
    }
    if (verified && w.round > 0) {
        uint8_t control[32];
        aleph_unit_control_hash(hashes, w.parents_len, control);
        verified = memcmp(control, w.control_hash, 32) == 0;
    }
    if (!verified) d->unverified++;
    fprintf(d->dag, "],\"payload_bytes\":%zu,\"created_ms\":%" PRIu64 ",\"parents_verified\":%s}\n",
            w.payload_len, now_ms, verified ? "true" : "false");
    d->units_written++;
    if (ferror(d->dag)) d->failed = 1;
}

void sim_dump_batch(sim_dump *d, uint32_t member, uint32_t which, const aleph_batch *b,
                    uint64_t now_ms)
{
    if (!d->outputs) return;
    FILE **f = &d->outputs[2 * (size_t)member + which];
    if (!*f) {
        char path[4096];
        snprintf(path, sizeof path, "%s/output-%u%s.jsonl", d->dir, member, which ? "b" : "");
        *f = fopen(path, "w");
        if (!*f) {
            d->failed = 1;
            return;
        }
    }
    char hex[65];
    fprintf(*f, "{\"round\":%u,\"head\":\"%s\",\"head_creator\":%u,\"depth\":%u,\"ms\":%" PRIu64
                ",\"units\":[",
            b->round, sim_hex32(b->head_hash, hex), b->head_creator, b->head_depth, now_ms);
    for (size_t i = 0; i < b->units_len; i++)
        fprintf(*f, "%s\"%s\"", i ? "," : "", sim_hex32(b->units[i].hash, hex));
    fputs("]}\n", *f);
    if (ferror(*f)) d->failed = 1;
}

void sim_dump_message(sim_dump *d, const uint8_t *msg, size_t len)
{
    if (len == 0 || d->messages_written[msg[0]] >= SIM_DUMP_MESSAGES_PER_TYPE) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/messages", d->dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return;
    snprintf(path, sizeof path, "%s/messages/%u-%u.bin", d->dir, msg[0], d->messages_written[msg[0]]);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (fwrite(msg, 1, len, f) != len) d->failed = 1;
    if (fclose(f) != 0) d->failed = 1;
    d->messages_written[msg[0]]++;
}

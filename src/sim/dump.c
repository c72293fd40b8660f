#include "dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "invariants.h"

static FILE *open_in(sim_dump *d, const char *name, char *err, size_t err_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", d->dir, name);
    FILE *f = fopen(path, "w");
    if (!f && err) snprintf(err, err_len, "--dump: cannot write %s: %s", path, strerror(errno));
    return f;
}

static void json_string(FILE *f, const char *text)
{
    fputc('"', f);
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if ((unsigned char)*p < 0x20) fprintf(f, "\\u%04x", (unsigned char)*p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static int write_header(sim_dump *d, const sim_dump_header *h, char *err, size_t err_len)
{
    FILE *f = open_in(d, "header.json", err, err_len);
    if (!f) return -1;
    static const char *coins[] = {"off", "test", "threshold"};
    fprintf(f,
            "{\"format\":2,\"seed\":%" PRIu64 ",\"members\":%u,\"f\":%u,\"quorum\":%u,"
            "\"rounds\":%u,\"coin\":\"%s\",\"session\":%" PRIu64 ",\"roles\":[",
            h->seed, d->members, aleph_faulty_max(d->members), aleph_quorum(d->members),
            h->rounds, (unsigned)h->coin_mode <= 2 ? coins[h->coin_mode] : "?", h->session);
    for (uint32_t i = 0; i < d->members; i++) {
        if (i) fputc(',', f);
        json_string(f, h->roles[i]);
    }
    fputs("],\"default_creators\":[", f);
    for (uint32_t i = 0; i < d->cfg.default_creators_len; i++)
        fprintf(f, "%s%u", i ? "," : "", d->cfg.default_creators[i]);
    fprintf(f, "],\"epoch_rounds\":%u,\"flags\":", d->cfg.epoch_rounds);
    json_string(f, h->flags ? h->flags : "");
    fputs("}\n", f);
    int bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        snprintf(err, err_len, "--dump: writing header.json failed");
        return -1;
    }
    return 0;
}

int sim_dump_open(sim_dump *d, const char *dir, uint32_t members, const uint8_t *forker,
                  const aleph_config *cfg, const sim_dump_header *h, char *err,
                  size_t err_len)
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
    d->arrivals = calloc(2 * (size_t)members, sizeof *d->arrivals);
    d->arrived = calloc(2 * (size_t)members, sizeof *d->arrived);
    d->lives = calloc(members, sizeof *d->lives);
    d->member_epoch = calloc(2 * (size_t)members, sizeof *d->member_epoch);
    d->sessions = malloc(sizeof *d->sessions);
    sim_table_init(&d->slots);
    if (!d->dir || !d->forker || !d->outputs || !d->arrivals || !d->arrived || !d->lives ||
        !d->member_epoch || !d->sessions) {
        snprintf(err, err_len, "--dump: out of memory");
        sim_dump_close(d);
        return -1;
    }
    memcpy(d->forker, forker, members);
    d->sessions[0] = cfg->session;
    d->sessions_len = 1;
    if (write_header(d, h, err, err_len) != 0 || !(d->dag = open_in(d, "dag.jsonl", err, err_len)) ||
        !(d->coins = open_in(d, "coins.jsonl", err, err_len))) {
        sim_dump_close(d);
        return -1;
    }
    return 0;
}

int sim_dump_close(sim_dump *d)
{
    int rc = d->failed ? -1 : 0;
    if (d->dag && fclose(d->dag) != 0) rc = -1;
    if (d->coins && fclose(d->coins) != 0) rc = -1;
    for (size_t i = 0; i < 2 * (size_t)d->members; i++) {
        if (d->outputs && d->outputs[i] && fclose(d->outputs[i]) != 0) rc = -1;
        if (d->arrivals && d->arrivals[i] && fclose(d->arrivals[i]) != 0) rc = -1;
    }
    free(d->outputs);
    free(d->arrivals);
    free(d->arrived);
    free(d->lives);
    free(d->dir);
    free(d->forker);
    free(d->hashes);
    free(d->sessions);
    free(d->member_epoch);
    sim_table_free(&d->slots);
    memset(d, 0, sizeof *d);
    return rc;
}

static void slot_key(uint8_t key[32], char kind, uint32_t member, uint32_t which,
                     uint32_t epoch, uint32_t creator, uint32_t round)
{
    memset(key, 0, 32);
    key[0] = (uint8_t)kind;
    memcpy(key + 4, &member, 4);
    memcpy(key + 8, &which, 4);
    memcpy(key + 12, &creator, 4);
    memcpy(key + 16, &round, 4);
    memcpy(key + 20, &epoch, 4);
    /* spread the key: the table hashes the first and last 8 bytes */
    uint64_t mix = ((uint64_t)creator << 32 | round) * 0x9e3779b97f4a7c15ull ^ member ^
                   (uint64_t)epoch << 40;
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

/* The file of member's face `which` named prefix-<member>[b].suffix, opened on first use. */
static FILE *member_file(sim_dump *d, FILE **files, const char *prefix, uint32_t member,
                         uint32_t which, const char *suffix)
{
    FILE **f = &files[2 * (size_t)member + which];
    if (!*f) {
        char name[128], life[16] = "";
        if (d->lives[member]) snprintf(life, sizeof life, "r%u", d->lives[member]);
        snprintf(name, sizeof name, "%s-%u%s%s.%s", prefix, member, which ? "b" : "", life, suffix);
        if (!(*f = open_in(d, name, NULL, 0))) d->failed = 1;
    }
    return *f;
}

void sim_dump_restart(sim_dump *d, uint32_t member)
{
    if (!d->arrivals) return;
    FILE **files[2] = {&d->arrivals[2 * (size_t)member], &d->outputs[2 * (size_t)member]};
    for (int k = 0; k < 2; k++) {
        if (*files[k] && fclose(*files[k]) != 0) d->failed = 1;
        *files[k] = NULL;
    }
    d->arrived[2 * (size_t)member] = 0;
    d->lives[member]++;
}

void sim_dump_unit_added(sim_dump *d, uint32_t member, uint32_t which, uint32_t creator,
                         uint32_t round, const uint8_t hash[32])
{
    if (!d->arrivals) return;
    FILE *f = member_file(d, d->arrivals, "arrivals", member, which, "txt");
    char hex[65];
    if (f) {
        fprintf(f, "%s\n", sim_hex32(hash, hex));
        d->arrived[2 * (size_t)member + which]++;
        if (ferror(f)) d->failed = 1;
    }
    if (creator >= d->members || !d->forker[creator]) return;
    uint8_t key[32];
    slot_key(key, 'f', member, which, d->member_epoch[2 * (size_t)member + which], creator, round);
    if (remember(d, key, hash) != 0) d->failed = 1;
}

static const uint8_t *parent_hash(sim_dump *d, uint32_t member, uint32_t which, uint32_t epoch,
                                  uint32_t creator, uint32_t round)
{
    uint8_t key[32];
    if (d->forker[creator]) slot_key(key, 'f', member, which, epoch, creator, round);
    else slot_key(key, 'g', 0, 0, epoch, creator, round);
    uint64_t index;
    return sim_table_get(&d->slots, key, &index) ? d->hashes[index] : NULL;
}

void sim_dump_unit_created(sim_dump *d, uint32_t member, uint32_t which, const uint8_t *unit,
                           size_t len, uint64_t now_ms)
{
    aleph_unit_info w;
    if (!d->dag || len < 9) return;
    /* The epoch whose session the unit names (version (1) then session (8)). */
    aleph_config unit_cfg = d->cfg;
    unit_cfg.session = 0;
    for (size_t k = 0; k < 8; k++) unit_cfg.session |= (uint64_t)unit[1 + k] << (8 * k);
    uint32_t epoch = d->sessions_len;
    while (epoch > 0 && d->sessions[epoch - 1] != unit_cfg.session) epoch--;
    if (epoch-- == 0 || aleph_unit_inspect(&unit_cfg, unit, len, &w) != NULL) return;
    const uint8_t *hash = w.hash;
    uint8_t key[32];
    if (!d->forker[w.creator]) {
        slot_key(key, 'g', 0, 0, epoch, w.creator, w.round);
        if (remember(d, key, hash) != 0) d->failed = 1;
    }
    char hex[65];
    fprintf(d->dag,
            "{\"creator\":%u,\"instance\":\"%c\",\"epoch\":%u,\"round\":%u,\"hash\":\"%s\","
            "\"parents\":[",
            w.creator, which ? 'b' : 'a', epoch, w.round, sim_hex32(hash, hex));
    const uint8_t *hashes[ALEPH_MEMBERS_MAX];
    int verified = 1;
    for (uint32_t i = 0; i < w.parents_len; i++) {
        uint32_t c, r;
        aleph_unit_parent(&w, i, &c, &r);
        const uint8_t *h = parent_hash(d, member, which, epoch, c, r);
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
    fputs("],\"slots\":[", d->dag);
    for (uint32_t i = 0; i < w.parents_len; i++) {
        uint32_t c, r;
        aleph_unit_parent(&w, i, &c, &r);
        fprintf(d->dag, "%s[%u,%u]", i ? "," : "", c, r);
    }
    fputs("],\"control\":", d->dag);
    if (w.round > 0) fprintf(d->dag, "\"%s\"", sim_hex32(w.control_hash, hex));
    else fputs("null", d->dag);
    fprintf(d->dag, ",\"payload_bytes\":%zu,\"created_ms\":%" PRIu64 ",\"parents_verified\":%s}\n",
            w.payload_len, now_ms, verified ? "true" : "false");
    d->units_written++;
    if (ferror(d->dag)) d->failed = 1;
}

static void hash_list(FILE *f, const char *name, const uint8_t *const *hashes, size_t len)
{
    char hex[65];
    fprintf(f, ",\"%s\":[", name);
    for (size_t i = 0; i < len; i++) fprintf(f, "%s\"%s\"", i ? "," : "", sim_hex32(hashes[i], hex));
    fputc(']', f);
}

void sim_dump_batch(sim_dump *d, uint32_t member, uint32_t which, const aleph_batch *b,
                    uint64_t now_ms)
{
    if (!d->outputs) return;
    FILE *f = member_file(d, d->outputs, "output", member, which, "jsonl");
    if (!f) return;
    char hex[65];
    uint64_t session = b->epoch < d->sessions_len ? d->sessions[b->epoch] : 0;
    fprintf(f, "{\"epoch\":%u,\"last\":%s,\"session\":\"%" PRIu64 "\",\"round\":%u,\"head\":\"%s\","
               "\"head_creator\":%u,\"depth\":%u,\"ms\":%" PRIu64 ",\"dag_units\":%" PRIu64
               ",\"units\":[",
            b->epoch, b->epoch_last ? "true" : "false", session, b->round, sim_hex32(b->head_hash, hex), b->head_creator, b->head_depth, now_ms,
            d->arrived[2 * (size_t)member + which]);
    for (size_t i = 0; i < b->units_len; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", sim_hex32(b->units[i].hash, hex));
    fputc(']', f);
    size_t deciders = b->candidates ? b->head_index + 1 : 0;
    hash_list(f, "candidates", b->candidates, b->candidates ? b->candidates_len : 0);
    fprintf(f, ",\"head_index\":%zu", b->head_index);
    hash_list(f, "deciders", b->deciders, deciders);
    fputs("}\n", f);
    if (ferror(f)) d->failed = 1;
}

void sim_dump_coins(sim_dump *d, uint32_t member, aleph_member *m, uint32_t rounds_max)
{
    sim_dump_coins_between(d, member, m, 0, rounds_max);
}

static void coins_of(sim_dump *d, uint32_t member, aleph_member *m, uint32_t epoch,
                     uint64_t session, uint32_t lo, uint32_t hi)
{
    char hex[65];
    for (uint32_t r = lo; r <= hi; r++) {
        uint8_t value[32];
        if (aleph_member_coin_epoch(m, epoch, r, value) != 1) continue;
        fprintf(d->coins,
                "{\"epoch\":%u,\"session\":\"%" PRIu64 "\",\"round\":%u,\"member\":%u,"
                "\"value\":\"%s\"}\n",
                epoch, session, r, member, sim_hex32(value, hex));
    }
    if (ferror(d->coins)) d->failed = 1;
}

void sim_dump_coins_between(sim_dump *d, uint32_t member, aleph_member *m, uint32_t lo,
                            uint32_t hi)
{
    if (!d->coins || !m) return;
    /* An epoch goes on only a few rounds past its last batch (while that head is decided). */
    if (d->cfg.epoch_rounds && hi > d->cfg.epoch_rounds + 64) hi = d->cfg.epoch_rounds + 64;
    coins_of(d, member, m, aleph_member_epoch(m), aleph_member_epoch_session(m), lo, hi);
}

void sim_dump_epoch_started(sim_dump *d, uint32_t member, uint32_t which, aleph_member *m,
                            uint32_t epoch)
{
    if (!d->coins || !m || epoch == 0) return;
    d->member_epoch[2 * (size_t)member + which] = epoch;
    if (epoch == d->sessions_len) {
        uint64_t *grown = realloc(d->sessions, (epoch + 1) * sizeof *grown);
        if (!grown) {
            d->failed = 1;
            return;
        }
        d->sessions = grown;
        d->sessions[d->sessions_len++] = aleph_member_epoch_session(m);
    }
    if (which == 0)
        coins_of(d, member, m, epoch - 1, d->sessions[epoch - 1], 0, d->cfg.epoch_rounds + 64);
}

void sim_dump_message(sim_dump *d, const uint8_t *msg, size_t len)
{
    if (len == 0) return;
    uint32_t max =
        msg[0] == ALEPH_TESTING_MSG_UNIT ? SIM_DUMP_UNITS_MAX : SIM_DUMP_MESSAGES_PER_TYPE;
    if (d->messages_written[msg[0]] >= max) return;
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

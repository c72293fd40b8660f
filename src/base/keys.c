#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addresses.h"
#include "util.h"

#define COMMITTEE_FORMAT "aleph-committee/1"
#define KEY_FORMAT "aleph-member-key/1"
#define PROBLEMS_MAX 12

/* Collects up to PROBLEMS_MAX lines "FILE: ..." into err. */
typedef struct problems {
    char *err;
    size_t cap, len;
    const char *file;
    int count;
} problems;

static void problem(problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(problems *p, const char *fmt, ...)
{
    p->count++;
    if (p->count > PROBLEMS_MAX || p->len + 1 >= p->cap) return;
    if (p->len) p->err[p->len++] = '\n';
    int w = snprintf(p->err + p->len, p->cap - p->len, "%s: ", p->file);
    if (w > 0) p->len += (size_t)w;
    if (p->len >= p->cap) p->len = p->cap - 1;
    va_list ap;
    va_start(ap, fmt);
    w = vsnprintf(p->err + p->len, p->cap - p->len, fmt, ap);
    va_end(ap);
    if (w > 0) p->len += (size_t)w;
    if (p->len >= p->cap) p->len = p->cap - 1;
}

const char *coin_mode_name(aleph_coin_mode mode)
{
    switch (mode) {
    case ALEPH_COIN_OFF: return "off";
    case ALEPH_COIN_TEST: return "test";
    case ALEPH_COIN_THRESHOLD: return "threshold";
    }
    return "unknown";
}

int coin_mode_parse(const char *text, int allow_test, aleph_coin_mode *out)
{
    if (strcmp(text, "threshold") == 0) *out = ALEPH_COIN_THRESHOLD;
    else if (strcmp(text, "off") == 0) *out = ALEPH_COIN_OFF;
    else if (allow_test && strcmp(text, "test") == 0) *out = ALEPH_COIN_TEST;
    else return -1;
    return 0;
}

uint64_t committee_session(const committee *c)
{
    crypto_generichash_state st;
    static const char tag[] = "aleph/committee";
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag); /* with its NUL */
    uint8_t head[16];
    le32_put(head, 1);
    le32_put(head + 4, c->size);
    le32_put(head + 8, (uint32_t)c->coin_mode);
    le32_put(head + 12, c->unit_bytes_max);
    crypto_generichash_update(&st, head, sizeof head);
    for (uint32_t i = 0; i < c->size; i++) {
        uint8_t rec[68];
        le32_put(rec, i);
        memcpy(rec + 4, c->sign_pks[i], 32);
        memcpy(rec + 36, c->coin_vks[i], 32);
        crypto_generichash_update(&st, rec, sizeof rec);
    }
    if (c->default_creators_len) {
        uint8_t v[4];
        le32_put(v, c->default_creators_len);
        crypto_generichash_update(&st, v, sizeof v);
        for (uint32_t i = 0; i < c->default_creators_len; i++) {
            le32_put(v, c->default_creators[i]);
            crypto_generichash_update(&st, v, sizeof v);
        }
    }
    if (c->epoch_rounds) {
        uint8_t v[10] = {'e', 'p', 'o', 'c', 'h', 's'};
        le32_put(v + 6, c->epoch_rounds);
        crypto_generichash_update(&st, v, sizeof v);
    }
    uint8_t out[32];
    crypto_generichash_final(&st, out, 32);
    return le64_get(out);
}

void committee_free(committee *c)
{
    free(c->members);
    free(c->sign_pks);
    free(c->coin_vks);
    free(c->default_creators);
    memset(c, 0, sizeof *c);
}

/* Opens and parses a JSON file; on failure one clear problem line. */
static json_t *load_json(problems *p, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        problem(p, "cannot read: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
        problem(p, "cannot read: not a regular file%s", S_ISDIR(st.st_mode) ? " (a directory)" : "");
        fclose(f);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadf(f, 0, &je);
    fclose(f);
    if (!root) {
        problem(p, "line %d: malformed JSON: %s", je.line, je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        problem(p, "not a JSON object");
        json_decref(root);
        return NULL;
    }
    return root;
}

static int get_uint(problems *p, json_t *obj, const char *key, const char *where, uint64_t max,
                    uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        problem(p, "%s\"%s\" missing", where, key);
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max) {
        problem(p, "%s\"%s\" must be a whole number from 0 to %" PRIu64, where, key, max);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static const char *get_string(problems *p, json_t *obj, const char *key, const char *where)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        problem(p, "%s\"%s\" missing", where, key);
        return NULL;
    }
    if (!json_is_string(v)) {
        problem(p, "%s\"%s\" must be a string", where, key);
        return NULL;
    }
    return json_string_value(v);
}

static int get_hex(problems *p, json_t *obj, const char *key, const char *where, uint8_t *out,
                   size_t len)
{
    const char *s = get_string(p, obj, key, where);
    if (!s) return -1;
    if (hex_decode(out, len, s) != 0) {
        problem(p, "%s\"%s\" must be %zu hex digits (got %zu characters)", where, key, 2 * len,
                strlen(s));
        return -1;
    }
    return 0;
}

static int parse_session(problems *p, json_t *obj, uint64_t *out)
{
    const char *s = get_string(p, obj, "session", "");
    if (!s) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 16);
    if (strlen(s) != 16 || errno || *end) {
        problem(p, "\"session\" must be 16 hex digits");
        return -1;
    }
    *out = v;
    return 0;
}

/* The optional "default_creators": 1..ALEPH_DEFAULT_CREATORS_MAX member indices. */
static void parse_default_creators(problems *p, json_t *root, committee *c)
{
    json_t *list = json_object_get(root, "default_creators");
    if (!list) return;
    size_t len = json_array_size(list);
    if (!json_is_array(list) || len < 1 || len > ALEPH_DEFAULT_CREATORS_MAX) {
        problem(p, "\"default_creators\" must be a list of 1 to %u member indices",
                ALEPH_DEFAULT_CREATORS_MAX);
        return;
    }
    if (!(c->default_creators = calloc(len, sizeof *c->default_creators))) {
        problem(p, "out of memory");
        return;
    }
    size_t k;
    json_t *v;
    json_array_foreach(list, k, v) {
        json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;
        if (i < 0 || (uint64_t)i >= c->size) {
            problem(p, "\"default_creators\"[%zu] is not a member index (0..%u)", k, c->size - 1);
            return;
        }
        c->default_creators[k] = (uint32_t)i;
    }
    c->default_creators_len = (uint32_t)len;
}

int committee_load(const char *path, committee *c, char *err, size_t cap)
{
    memset(c, 0, sizeof *c);
    err[0] = '\0';
    problems p = {.err = err, .cap = cap, .file = path};
    json_t *root = load_json(&p, path);
    if (!root) return -1;
    const char *format = get_string(&p, root, "format", "");
    if (format && strcmp(format, COMMITTEE_FORMAT) != 0)
        problem(&p, "\"format\" is '%s', expected '%s' (is this a committee file?)", format,
                COMMITTEE_FORMAT);
    uint64_t size = 0, unit_bytes_max = 0;
    if (get_uint(&p, root, "size", "", ALEPH_MEMBERS_MAX, &size) == 0 && size < 1)
        problem(&p, "committee too small: \"size\" must be at least 1");
    get_uint(&p, root, "max_unit_bytes", "", ALEPH_PAYLOAD_BYTES_MAX, &unit_bytes_max);
    const char *coin = get_string(&p, root, "coin", "");
    if (coin) {
        if (strcmp(coin, "threshold") == 0) c->coin_mode = ALEPH_COIN_THRESHOLD;
        else if (strcmp(coin, "off") == 0) c->coin_mode = ALEPH_COIN_OFF;
        else if (strcmp(coin, "test") == 0) c->coin_mode = ALEPH_COIN_TEST;
        else problem(&p, "\"coin\" must be \"threshold\" or \"off\", got \"%s\"", coin);
    }
    uint64_t session = 0, epoch_rounds = 0;
    parse_session(&p, root, &session);
    if (json_object_get(root, "epoch_rounds") &&
        get_uint(&p, root, "epoch_rounds", "", ALEPH_ROUND_MAX, &epoch_rounds) == 0 &&
        epoch_rounds == 1)
        problem(&p, "\"epoch_rounds\" must be 0 (one endless epoch) or at least 2");
    c->epoch_rounds = (uint32_t)epoch_rounds;
    json_t *members = json_object_get(root, "members");
    if (!json_is_array(members)) problem(&p, "\"members\" missing or not a list");
    if (p.count) goto fail;

    c->size = (uint32_t)size;
    c->unit_bytes_max = (uint32_t)unit_bytes_max;
    c->members = calloc(size, sizeof *c->members);
    c->sign_pks = calloc(size, 32);
    c->coin_vks = calloc(size, 32);
    uint8_t *seen = calloc(size, 1);
    if (!c->members || !c->sign_pks || !c->coin_vks || !seen) {
        free(seen);
        problem(&p, "out of memory");
        goto fail;
    }
    if (json_array_size(members) != size)
        problem(&p, "\"size\" is %" PRIu64 " but \"members\" lists %zu", size,
                json_array_size(members));
    size_t k;
    json_t *m;
    json_array_foreach(members, k, m) {
        char where[64];
        snprintf(where, sizeof where, "members[%zu]: ", k);
        if (!json_is_object(m)) {
            problem(&p, "%snot an object", where);
            continue;
        }
        uint64_t index;
        if (get_uint(&p, m, "index", where, UINT32_MAX, &index) != 0) continue;
        if (index >= size) {
            problem(&p, "%sindex %" PRIu64 " outside the committee (0..%" PRIu64 ")", where,
                    index, size - 1);
            continue;
        }
        if (seen[index]) {
            problem(&p, "%sduplicate index %" PRIu64, where, index);
            continue;
        }
        seen[index] = 1;
        committee_member *cm = &c->members[index];
        const char *addr = get_string(&p, m, "address", where);
        if (addr && (address_parse(addr, cm->host, sizeof cm->host, &cm->port) != 0 ||
                     !address_host_valid(cm->host)))
            problem(&p, "%s\"address\" must be host:port, got \"%s\"", where, addr);
        uint64_t cport = 0;
        if (json_object_get(m, "client_port")) {
            if (get_uint(&p, m, "client_port", where, 65535, &cport) == 0 && cport == 0)
                problem(&p, "%s\"client_port\" must be from 1 to 65535", where);
        }
        cm->client_port = (uint16_t)cport;
        get_hex(&p, m, "sign_public_key", where, c->sign_pks[index], 32);
        if (c->coin_mode == ALEPH_COIN_THRESHOLD || json_object_get(m, "coin_verification_key"))
            get_hex(&p, m, "coin_verification_key", where, c->coin_vks[index], 32);
    }
    for (uint32_t i = 0; i < size && p.count == 0; i++)
        if (!seen[i]) problem(&p, "member %u missing from \"members\"", i);
    free(seen);
    parse_default_creators(&p, root, c);
    if (p.count) goto fail;
    c->session = committee_session(c);
    if (c->session != session) {
        problem(&p, "\"session\" is %016" PRIx64 " but the committee's content gives %016" PRIx64
                    " (the file was edited or is damaged)",
                session, c->session);
        goto fail;
    }
    json_decref(root);
    return 0;
fail:
    json_decref(root);
    committee_free(c);
    return -1;
}

int member_key_load(const char *path, const committee *c, aleph_secret *s, char *err,
                    size_t cap)
{
    memset(s, 0, sizeof *s);
    err[0] = '\0';
    problems p = {.err = err, .cap = cap, .file = path};
    json_t *root = load_json(&p, path);
    if (!root) return -1;
    const char *format = get_string(&p, root, "format", "");
    if (format && strcmp(format, KEY_FORMAT) != 0)
        problem(&p, "\"format\" is '%s', expected '%s' (is this a member key file?)", format,
                KEY_FORMAT);
    uint64_t index = 0, session = 0;
    if (get_uint(&p, root, "index", "", UINT32_MAX, &index) == 0 && index >= c->size)
        problem(&p, "index %" PRIu64 " outside the committee (0..%u)", index, c->size - 1);
    if (parse_session(&p, root, &session) == 0 && session != c->session)
        problem(&p, "key belongs to another committee (session %016" PRIx64
                    ", the committee file has %016" PRIx64 ")",
                session, c->session);
    get_hex(&p, root, "sign_secret_key", "", s->sign_secret_key, 64);
    get_hex(&p, root, "coin_secret_share", "", s->coin_secret_share, 32);
    json_decref(root);
    if (p.count) goto fail;
    s->index = (uint32_t)index;
    uint8_t pk[32];
    crypto_sign_ed25519_sk_to_pk(pk, s->sign_secret_key);
    if (sodium_memcmp(pk, c->sign_pks[index], 32) != 0) {
        problem(&p, "signing key does not match the committee's public key for member %u",
                s->index);
        goto fail;
    }
    if (c->coin_mode == ALEPH_COIN_THRESHOLD) {
        uint8_t vk[32];
        if (crypto_scalarmult_ristretto255_base(vk, s->coin_secret_share) != 0 ||
            sodium_memcmp(vk, c->coin_vks[index], 32) != 0) {
            problem(&p, "coin share does not match the committee's verification key for member %u",
                    s->index);
            goto fail;
        }
    }
    return 0;
fail:
    sodium_memzero(s, sizeof *s);
    return -1;
}

/* ---- writing ---------------------------------------------------------------------------------- */

static int dump_new_file(json_t *root, const char *path, int mode, char *err, size_t cap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, cap, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc = text ? write_all(fd, text, strlen(text)) : -1;
    if (rc == 0) rc = write_all(fd, "\n", 1);
    if (rc == 0) rc = fsync(fd);
    if (rc != 0) snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
    if (text) sodium_memzero(text, strlen(text));
    free(text);
    close(fd);
    return rc;
}

int keygen_write(const keygen_params *kp, char *err, size_t cap)
{
    uint32_t n = kp->members;
    if (n < 1 || n > ALEPH_MEMBERS_MAX) {
        snprintf(err, cap, "committee too small or too large: --members must be from 1 to %u",
                 ALEPH_MEMBERS_MAX);
        return -1;
    }
    uint32_t client_base = kp->client_base_port ? kp->client_base_port : kp->base_port + n;
    if (!kp->addresses &&
        (kp->base_port < 1 || kp->base_port + n - 1 > 65535 || client_base + n - 1 > 65535)) {
        snprintf(err, cap, "ports from %u (members) and %u (clients) do not fit below 65536",
                 kp->base_port, client_base);
        return -1;
    }
    if (make_dirs(kp->out_dir, 0700, err, cap) != 0) return -1;
    char path[4096];
    /* Refuse before writing anything, so that a second keygen never half-overwrites. */
    snprintf(path, sizeof path, "%s/committee.json", kp->out_dir);
    if (access(path, F_OK) == 0) {
        snprintf(err, cap, "%s already exists; choose another --out or remove it", path);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/member-%u.key", kp->out_dir, i);
        if (access(path, F_OK) == 0) {
            snprintf(err, cap, "%s already exists; choose another --out or remove it", path);
            return -1;
        }
    }

    if (kp->default_creators_len > ALEPH_DEFAULT_CREATORS_MAX) {
        snprintf(err, cap, "the default-creator schedule has more than %u entries",
                 ALEPH_DEFAULT_CREATORS_MAX);
        return -1;
    }
    for (uint32_t i = 0; i < kp->default_creators_len; i++)
        if (kp->default_creators[i] >= n) {
            snprintf(err, cap, "the default-creator schedule names member %u of %u",
                     kp->default_creators[i], n);
            return -1;
        }
    committee c = {.size = n, .coin_mode = kp->coin_mode, .unit_bytes_max = kp->unit_bytes_max,
                   .default_creators = (uint32_t *)kp->default_creators,
                   .default_creators_len = kp->default_creators_len,
                   .epoch_rounds = kp->epoch_rounds};
    aleph_secret *secrets = sodium_malloc(n * sizeof *secrets);
    c.sign_pks = calloc(n, 32);
    c.coin_vks = calloc(n, 32);
    int rc = -1;
    json_t *root = NULL;
    if (!secrets || !c.sign_pks || !c.coin_vks) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    if (aleph_keys_deal(n, NULL, secrets, c.sign_pks, c.coin_vks) != 0) {
        snprintf(err, cap, "key dealing failed");
        goto out;
    }
    c.session = committee_session(&c);
    char session_hex[17];
    snprintf(session_hex, sizeof session_hex, "%016" PRIx64, c.session);

    for (uint32_t i = 0; i < n; i++) {
        char sk[129], share[65];
        hex_encode(sk, secrets[i].sign_secret_key, 64);
        hex_encode(share, secrets[i].coin_secret_share, 32);
        json_t *k = json_pack("{s:s, s:I, s:s, s:s, s:s}", "format", KEY_FORMAT, "index",
                              (json_int_t)i, "session", session_hex, "sign_secret_key", sk,
                              "coin_secret_share", share);
        sodium_memzero(sk, sizeof sk);
        sodium_memzero(share, sizeof share);
        snprintf(path, sizeof path, "%s/member-%u.key", kp->out_dir, i);
        int w = k ? dump_new_file(k, path, 0600, err, cap) : -1;
        if (k) {
            /* jansson keeps its own copies of the strings: clear them before freeing. */
            json_t *v = json_object_get(k, "sign_secret_key");
            if (v) sodium_memzero((char *)json_string_value(v), json_string_length(v));
            v = json_object_get(k, "coin_secret_share");
            if (v) sodium_memzero((char *)json_string_value(v), json_string_length(v));
            json_decref(k);
        }
        if (w != 0) goto out;
    }

    root = json_object();
    json_t *list = json_array();
    json_object_set_new(root, "format", json_string(COMMITTEE_FORMAT));
    json_object_set_new(root, "size", json_integer(n));
    json_object_set_new(root, "coin", json_string(coin_mode_name(kp->coin_mode)));
    json_object_set_new(root, "max_unit_bytes", json_integer(kp->unit_bytes_max));
    json_object_set_new(root, "session", json_string(session_hex));
    if (kp->default_creators_len) {
        json_t *sched = json_array();
        for (uint32_t i = 0; i < kp->default_creators_len; i++)
            json_array_append_new(sched, json_integer(kp->default_creators[i]));
        json_object_set_new(root, "default_creators", sched);
    }
    if (kp->epoch_rounds) {
        json_object_set_new(root, "epoch_rounds", json_integer(kp->epoch_rounds));
    }
    for (uint32_t i = 0; i < n; i++) {
        char pk[65], vk[65], addr[HOST_MAX + 16];
        hex_encode(pk, c.sign_pks[i], 32);
        hex_encode(vk, c.coin_vks[i], 32);
        uint32_t cport = client_base + i;
        if (kp->addresses) {
            address_format(addr, sizeof addr, kp->addresses[i].host, kp->addresses[i].port);
            cport = kp->addresses[i].client_port;
        } else {
            address_format(addr, sizeof addr, kp->host, (uint16_t)(kp->base_port + i));
        }
        json_array_append_new(list, json_pack("{s:I, s:s, s:I, s:s, s:s}", "index", (json_int_t)i,
                                              "address", addr, "client_port", (json_int_t)cport,
                                              "sign_public_key", pk, "coin_verification_key", vk));
    }
    json_object_set_new(root, "members", list);
    snprintf(path, sizeof path, "%s/committee.json", kp->out_dir);
    if (dump_new_file(root, path, 0644, err, cap) != 0) goto out;
    rc = 0;
out:
    json_decref(root);
    if (secrets) sodium_free(secrets);
    free(c.sign_pks);
    free(c.coin_vks);
    return rc;
}

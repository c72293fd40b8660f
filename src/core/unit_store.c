#include "unit_store.h"

#include <string.h>

#include "alloc.h"
#include "asserts.h"
#include "hashmap.h"

typedef struct store_entry {
    uint8_t hash[32];
    uint8_t *bytes;    /* NULL once no member holds the unit whole */
    uint32_t *parents; /* `members` store ids; NULL for round 0 or with the body gone */
    uint32_t len;
    uint32_t holders;  /* members holding the unit, whole or shed */
    uint32_t whole;    /* of them, those holding it whole */
} store_entry;

struct aleph_unit_store {
    uint32_t members;
    hashmap by_hash; /* hash -> store id, while some member holds the unit */
    store_entry *entries;
    uint32_t len, cap;
    uint32_t *free_ids;
    uint32_t free_len, free_cap;
    uint64_t bodies, body_bytes;
};

aleph_unit_store *aleph_unit_store_new(uint32_t members)
{
    aleph_unit_store *s = core_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->members = members;
    if (hashmap_init(&s->by_hash, 1024) != 0) {
        core_free(s);
        return NULL;
    }
    return s;
}

static void drop_body(aleph_unit_store *s, store_entry *e)
{
    if (!e->bytes) return;
    s->bodies--;
    s->body_bytes -= e->len;
    core_free(e->bytes);
    core_free(e->parents);
    e->bytes = NULL;
    e->parents = NULL;
}

void aleph_unit_store_free(aleph_unit_store *s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->len; i++) drop_body(s, &s->entries[i]);
    core_free(s->entries);
    core_free(s->free_ids);
    hashmap_free(&s->by_hash);
    core_free(s);
}

uint32_t store_members(const aleph_unit_store *s)
{
    return s->members;
}

const uint32_t *store_parents(const aleph_unit_store *s, const uint8_t hash[32])
{
    uint32_t sid;
    if (!hashmap_get(&s->by_hash, hash, &sid)) return NULL;
    return s->entries[sid].parents; /* NULL with the body gone */
}

void aleph_unit_store_stats(const aleph_unit_store *s, uint64_t *units, uint64_t *bytes)
{
    *units = s->bodies;
    *bytes = s->body_bytes;
}

/* A fresh store id with an empty entry, or STORE_NONE when out of memory. */
static uint32_t new_id(aleph_unit_store *s)
{
    if (s->free_len) return s->free_ids[--s->free_len];
    if (s->len == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 1024;
        uint32_t *ids = core_realloc(s->free_ids, (size_t)cap * sizeof *ids);
        if (!ids) return STORE_NONE;
        s->free_ids = ids; /* room for every id: releasing one never allocates */
        store_entry *grown = core_realloc(s->entries, (size_t)cap * sizeof *grown);
        if (!grown) return STORE_NONE;
        s->entries = grown;
        s->cap = cap;
    }
    memset(&s->entries[s->len], 0, sizeof s->entries[s->len]);
    return s->len++;
}

static int same_body(const aleph_unit_store *s, const store_entry *e, const uint8_t *data,
                     uint32_t len, const uint32_t *parent_sids)
{
    if (e->len != len || memcmp(e->bytes, data, len) != 0) return 0;
    if (!parent_sids || !e->parents) return !parent_sids && !e->parents;
    return memcmp(e->parents, parent_sids, s->members * sizeof *parent_sids) == 0;
}

/* Puts a body into entry e (which has none). */
static int put_body(aleph_unit_store *s, store_entry *e, const uint8_t *data, uint32_t len,
                    const uint32_t *parent_sids)
{
    uint8_t *bytes = core_malloc(len);
    uint32_t *parents = parent_sids ? core_malloc(s->members * sizeof *parents) : NULL;
    if (!bytes || (parent_sids && !parents)) {
        core_free(bytes);
        core_free(parents);
        return -1;
    }
    memcpy(bytes, data, len);
    if (parents) memcpy(parents, parent_sids, s->members * sizeof *parents);
    e->bytes = bytes;
    e->parents = parents;
    e->len = len;
    s->bodies++;
    s->body_bytes += len;
    return 0;
}

uint32_t store_acquire(aleph_unit_store *s, const uint8_t hash[32], const uint8_t *data,
                       uint32_t len, const uint32_t *parent_sids, const uint8_t **bytes,
                       const uint32_t **parents)
{
    uint32_t sid;
    store_entry *e;
    if (hashmap_get(&s->by_hash, hash, &sid)) {
        e = &s->entries[sid];
        if (e->bytes ? !same_body(s, e, data, len, parent_sids)
                     : put_body(s, e, data, len, parent_sids) != 0)
            return STORE_NONE;
    } else {
        if ((sid = new_id(s)) == STORE_NONE) return STORE_NONE;
        e = &s->entries[sid];
        memcpy(e->hash, hash, 32);
        if (put_body(s, e, data, len, parent_sids) != 0 || hashmap_put(&s->by_hash, hash, sid) != 0) {
            drop_body(s, e);
            s->free_ids[s->free_len++] = sid; /* room: see store_release */
            return STORE_NONE;
        }
    }
    e->holders++;
    e->whole++;
    *bytes = e->bytes;
    *parents = e->parents;
    return sid;
}

void store_shed(aleph_unit_store *s, uint32_t sid)
{
    store_entry *e = &s->entries[sid];
    ALEPH_ASSERT(e->whole > 0);
    if (--e->whole == 0) drop_body(s, e);
}

void store_release(aleph_unit_store *s, uint32_t sid, int whole)
{
    store_entry *e = &s->entries[sid];
    ALEPH_ASSERT(e->holders > 0);
    if (whole) store_shed(s, sid);
    if (--e->holders > 0) return;
    drop_body(s, e);
    hashmap_remove(&s->by_hash, e->hash);
    s->free_ids[s->free_len++] = sid;
}

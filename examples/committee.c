/*
 * A committee of four Aleph members inside one process, written against docs/API.md alone.
 *
 * The program is every member's shell at once: it keeps a virtual clock, carries each
 * member's messages to the others by hand (with a small per-link delay), submits
 * transactions to every member, and collects each member's ordered batches. At the end it
 * checks what the protocol promises: every member output the same batches in the same order,
 * and every submitted transaction exactly once.
 *
 *   cc committee.c $(pkg-config --cflags --libs aleph) -o committee && ./committee
 *
 * Exit status 0 when the members agree, 1 otherwise.
 */
#include <aleph/aleph.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBERS 4
#define TXS_PER_MEMBER 500      /* one per virtual ms at first */
#define BATCHES_MAX 100000
#define VIRTUAL_MS_MAX 120000   /* give up after two virtual minutes */

/* A message on its way: a copy, since the sender's update is valid only until its next step. */
typedef struct in_flight {
    uint64_t due_ms;
    uint32_t from, to;
    uint8_t *data;
    size_t len;
} in_flight;

typedef struct shell {
    aleph_member *member;
    uint64_t wake_at_ms;
    uint64_t persisted_units;            /* what a real shell would append to its backup */
    uint64_t syncs;                      /* updates that asked for durability before sending */
    uint64_t batch_digest[BATCHES_MAX];  /* per batch: FNV-1a of head hash and transactions */
    size_t batches;
    uint8_t seen[MEMBERS][TXS_PER_MEMBER]; /* times each transaction was output */
    uint64_t txs_out;
} shell;

static shell shells[MEMBERS];
static in_flight *flights;
static size_t flights_len, flights_cap;

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void fail(const char *what)
{
    fprintf(stderr, "committee: %s\n", what);
    exit(1);
}

static void queue_message(uint32_t from, uint32_t to, const uint8_t *data, size_t len,
                          uint64_t now_ms)
{
    if (flights_len == flights_cap) {
        flights_cap = flights_cap ? 2 * flights_cap : 1024;
        flights = realloc(flights, flights_cap * sizeof *flights);
        if (!flights) fail("out of memory");
    }
    in_flight *f = &flights[flights_len++];
    f->due_ms = now_ms + 1 + (from + 2 * to) % 5; /* 1..5 ms, fixed per link: FIFO per link */
    f->from = from;
    f->to = to;
    f->data = malloc(len);
    if (!f->data) fail("out of memory");
    memcpy(f->data, data, len);
    f->len = len;
}

static void deliver_batch(shell *s, const aleph_batch *b)
{
    if (s->batches == BATCHES_MAX) fail("too many batches for this example");
    uint64_t h = fnv(0xcbf29ce484222325ull, b->head_hash, ALEPH_HASH_BYTES);
    for (size_t u = 0; u < b->units_len; u++) {
        const aleph_ordered_unit *unit = &b->units[u];
        size_t off = 0;
        const uint8_t *tx;
        size_t tx_len;
        int more;
        while ((more = aleph_payload_next(unit->payload, unit->payload_len, &off, &tx, &tx_len)) == 1) {
            h = fnv(h, tx, tx_len);
            uint32_t origin, seq;
            if (tx_len != 8) fail("a transaction this example did not submit");
            memcpy(&origin, tx, 4);
            memcpy(&seq, tx + 4, 4);
            if (origin >= MEMBERS || seq >= TXS_PER_MEMBER) fail("a transaction out of range");
            s->seen[origin][seq]++;
            s->txs_out++;
        }
        if (more < 0) fail("a malformed payload in an ordered unit");
    }
    s->batch_digest[s->batches++] = h;
}

/* The update's parts in the order docs/API.md requires: persist, send, deliver, notices. */
static void carry_out(uint32_t me, const aleph_update *up, uint64_t now_ms)
{
    shell *s = &shells[me];
    /* A real shell appends these to its backup and, when persist_before_send is set, makes
     * it durable before sending anything; here the record lives in memory only. */
    s->persisted_units += up->persist_len;
    if (up->persist_before_send) s->syncs++;
    for (size_t i = 0; i < up->messages_len; i++) {
        const aleph_outgoing *m = &up->messages[i];
        for (uint32_t to = 0; to < MEMBERS; to++)
            if (to != me && (m->to == ALEPH_TO_ALL || m->to == to))
                queue_message(me, to, m->data, m->len, now_ms);
    }
    for (size_t i = 0; i < up->batches_len; i++) deliver_batch(s, &up->batches[i]);
    for (size_t i = 0; i < up->notices_len; i++) {
        const aleph_notice *n = &up->notices[i];
        if (n->kind == ALEPH_NOTICE_DROPPED || n->kind == ALEPH_NOTICE_FORK ||
            n->kind == ALEPH_NOTICE_HALT) {
            fprintf(stderr, "committee: member %u: notice %d (%s)\n", me, (int)n->kind,
                    n->reason ? n->reason : "");
            exit(1); /* none of these happens among honest members on lossless links */
        }
    }
    s->wake_at_ms = up->wake_at_ms;
}

static void step(uint32_t me, const aleph_event *ev)
{
    aleph_update up;
    aleph_member_step(shells[me].member, ev, &up);
    carry_out(me, &up, ev->now_ms);
}

static void deliver_due_messages(uint64_t now_ms)
{
    /* Deliver in queue order; a delivery may queue more messages (later due times). */
    size_t kept = 0, len = flights_len;
    for (size_t i = 0; i < len; i++) {
        in_flight f = flights[i];
        if (f.due_ms > now_ms) {
            flights[kept++] = f;
            continue;
        }
        aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = now_ms, .from = f.from,
                          .data = f.data, .len = f.len};
        step(f.to, &ev);
        free(f.data);
    }
    /* Messages queued during the deliveries sit after `len`: move them down. */
    memmove(flights + kept, flights + len, (flights_len - len) * sizeof *flights);
    flights_len = kept + (flights_len - len);
}

static int all_ordered(void)
{
    for (uint32_t i = 0; i < MEMBERS; i++)
        if (shells[i].txs_out < (uint64_t)MEMBERS * TXS_PER_MEMBER) return 0;
    return 1;
}

static void check_agreement(void)
{
    size_t common = shells[0].batches;
    for (uint32_t i = 1; i < MEMBERS; i++)
        if (shells[i].batches < common) common = shells[i].batches;
    for (uint32_t i = 1; i < MEMBERS; i++)
        for (size_t k = 0; k < common; k++)
            if (shells[i].batch_digest[k] != shells[0].batch_digest[k]) fail("members disagree");
    for (uint32_t i = 0; i < MEMBERS; i++)
        for (uint32_t o = 0; o < MEMBERS; o++)
            for (uint32_t k = 0; k < TXS_PER_MEMBER; k++)
                if (shells[i].seen[o][k] != 1) fail("a transaction not output exactly once");
    printf("committee: %d members agree on %zu batches; %d transactions ordered exactly once "
           "at every member\n",
           MEMBERS, common, MEMBERS * TXS_PER_MEMBER);
}

int main(void)
{
    if (aleph_init() != 0) fail("aleph_init failed");
    static aleph_secret secrets[MEMBERS];
    static uint8_t sign_pks[MEMBERS][32], coin_vks[MEMBERS][32];
    const uint8_t seed[32] = {42};
    if (aleph_keys_deal(MEMBERS, seed, secrets, sign_pks, coin_vks) != 0) fail("dealing failed");

    aleph_config cfg;
    aleph_config_defaults(&cfg);
    cfg.members = MEMBERS;
    cfg.session = 0x6578616d706c65ull; /* any id shared by the committee */
    cfg.sign_public_keys = (const uint8_t(*)[32])sign_pks;
    cfg.coin_verification_keys = (const uint8_t(*)[32])coin_vks;
    const char *problem = aleph_config_check(&cfg);
    if (problem) fail(problem);
    for (uint32_t i = 0; i < MEMBERS; i++) {
        cfg.rng_seed = i;
        const char *error = NULL;
        shells[i].member = aleph_member_new(&cfg, &secrets[i], &error);
        if (!shells[i].member) fail(error);
    }

    uint64_t now_ms = 0;
    for (uint32_t i = 0; i < MEMBERS; i++) {
        aleph_event start = {.kind = ALEPH_EVENT_TICK, .now_ms = now_ms};
        step(i, &start);
    }
    for (; now_ms <= VIRTUAL_MS_MAX && !all_ordered(); now_ms++) {
        for (uint32_t i = 0; i < MEMBERS; i++) {
            int submitted = 0;
            if (now_ms < TXS_PER_MEMBER) {
                uint8_t tx[8];
                uint32_t seq = (uint32_t)now_ms;
                memcpy(tx, &i, 4);
                memcpy(tx + 4, &seq, 4);
                if (aleph_member_submit(shells[i].member, tx, sizeof tx) != ALEPH_SUBMIT_OK)
                    fail("submit refused");
                submitted = 1;
            }
            if (submitted || shells[i].wake_at_ms <= now_ms) {
                aleph_event tick = {.kind = ALEPH_EVENT_TICK, .now_ms = now_ms};
                step(i, &tick);
            }
        }
        deliver_due_messages(now_ms);
    }
    if (!all_ordered()) fail("not every transaction was ordered within the virtual deadline");
    check_agreement();
    printf("committee: virtual time %llu ms; member 0 persisted %llu units, synced %llu times\n",
           (unsigned long long)now_ms, (unsigned long long)shells[0].persisted_units,
           (unsigned long long)shells[0].syncs);

    for (uint32_t i = 0; i < MEMBERS; i++) aleph_member_free(shells[i].member);
    for (size_t i = 0; i < flights_len; i++) free(flights[i].data);
    free(flights);
    return 0;
}

/* Messages between members. The shell frames and authenticates them; the core decodes them
 * strictly. Every list has a hard bound; the first byte is the type. In a committee with epochs
 * (epoch_rounds > 0) the type is followed by the u32 epoch of the sender, then the body below.
 *
 *   UNIT            unit bytes (unit.h)
 *   REQUEST_UNITS   u16 n <= MSG_LIST_MAX, n x (u16 creator, u32 round)
 *   REQUEST_PARENTS u16 n <= MSG_LIST_MAX, n x 32-byte unit hash
 *   PARENTS         32-byte unit hash, u16 n <= members, n x 32-byte parent hash (creator order)
 *   REQUEST_HASHES  u16 n <= MSG_LIST_MAX, n x 32-byte unit hash
 *   HIGHEST         u16 n == members, n x u32 (highest round held + 1; 0: none)
 *   OWN_QUERY       nothing: "what is the newest unit of mine you hold?" (restart)
 *   OWN_ANSWER      u32 the asker's highest round held + 1 (0: none), u32 the highest round
 *                   held of anyone + 1, then the asker's newest unit held, or nothing
 *   ALERT           a fork alert (alert_wire.h; decoded there, it needs the unit limits)
 *   ALERT_SIGNATURE 32-byte alert hash, 64-byte signature
 *   ALERT_CERT      32-byte alert hash, u16 n, n x (u16 signer, 64-byte signature)
 *   REQUEST_ALERT   32-byte alert hash
 *   REQUEST_RANGE   u32 round_lo, u32 round_hi (lo < hi, hi - lo <= RANGE_ROUNDS_MAX), u16 n ==
 *                   members, n x u32 (the asker's highest round held + 1 per creator)
 *   UNITS           u32 round_lo (of the request answered), u32 round_next (the first round
 *                   not wholly sent, >= lo), u16 n <= UNITS_PER_MESSAGE_MAX, n x (u32 len >= 1,
 *                   unit bytes); nothing after the last unit
 */
#ifndef ALEPH_MESSAGE_H
#define ALEPH_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"

enum message_type {
    MSG_UNIT = 1,
    MSG_REQUEST_UNITS = 2,
    MSG_REQUEST_PARENTS = 3,
    MSG_PARENTS = 4,
    MSG_REQUEST_HASHES = 5,
    MSG_HIGHEST = 6,
    MSG_OWN_QUERY = 7,
    MSG_OWN_ANSWER = 8,
    MSG_ALERT = 9,
    MSG_ALERT_SIGNATURE = 10,
    MSG_ALERT_CERT = 11,
    MSG_REQUEST_ALERT = 12,
    MSG_REQUEST_RANGE = 13,
    MSG_UNITS = 14,
    MSG_TYPE_LAST = MSG_UNITS, /* a new type goes above and moves this */
};

#define MSG_LIST_MAX 256u
/* Bulk catch-up (catchup.c): rounds per range request, units per answer. */
#define RANGE_ROUNDS_MAX 1024u
#define UNITS_PER_MESSAGE_MAX 4096u

_Static_assert((int)MSG_ALERT == (int)ALEPH_TESTING_MSG_ALERT &&
                   (int)MSG_ALERT_SIGNATURE == (int)ALEPH_TESTING_MSG_ALERT_SIGNATURE &&
                   (int)MSG_ALERT_CERT == (int)ALEPH_TESTING_MSG_ALERT_CERT &&
                   (int)MSG_REQUEST_ALERT == (int)ALEPH_TESTING_MSG_REQUEST_ALERT &&
                   (int)MSG_OWN_QUERY == (int)ALEPH_TESTING_MSG_OWN_QUERY &&
                   (int)MSG_OWN_ANSWER == (int)ALEPH_TESTING_MSG_OWN_ANSWER &&
                   (int)MSG_REQUEST_RANGE == (int)ALEPH_TESTING_MSG_REQUEST_RANGE &&
                   (int)MSG_UNITS == (int)ALEPH_TESTING_MSG_UNITS &&
                   (int)MSG_TYPE_LAST == (int)ALEPH_TESTING_MSG_LAST,
               "the testing message types follow the core's");

typedef struct message {
    enum message_type type;
    const uint8_t *body; /* UNIT: the unit; PARENTS: the unit hash; OWN_ANSWER: a unit or empty;
                          * ALERT*: the rest */
    size_t body_len;
    uint32_t count;                   /* list length */
    const uint8_t *items;             /* list entries, validated for size */
    uint32_t own_plus1, rounds_plus1; /* OWN_ANSWER */
    uint32_t range_lo, range_hi;      /* REQUEST_RANGE: lo, hi; UNITS: lo, next */
} message;

/* Returns NULL when valid, or a static reason. */
const char *message_decode(const uint8_t *data, size_t len, uint32_t members, message *out);
/* The same for a committee with epochs when with_epoch is 1: the type byte is followed by the
 * u32 epoch (written to *epoch), then the body; with_epoch 0 is message_decode (*epoch 0). */
const char *message_decode_epoch(const uint8_t *data, size_t len, uint32_t members,
                                 int with_epoch, uint32_t *epoch, message *out);

/* Entry accessors for decoded lists. */
void message_slot(const message *m, uint32_t i, uint32_t *creator, uint32_t *round);
const uint8_t *message_hash(const message *m, uint32_t i);
uint32_t message_highest(const message *m, uint32_t i);
/* UNITS: the unit at *offset (0 first) of the items; returns 0 after the last. The decoder
 * checked every length. */
int message_units_next(const message *m, size_t *offset, const uint8_t **unit, size_t *len);

#endif

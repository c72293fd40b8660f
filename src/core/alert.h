/* Fork alerts by reliable multicast (PROTOCOL.md section 7; docs/PROTOCOL.md "Fork alerts").
 *
 * On learning that j forked (two of j's units held, or a valid alert by anyone) a member
 * sends once its own alert about j: the fork proof and a commitment to j's units in its DAG
 * (one per round, the chain below j's highest unit there, so downward closed). Every member
 * signs the first alert it sees per (sender, forker) and sends the signature to the sender; q
 * signatures form a certificate, which the sender sends to everyone. From then on a unit of j
 * enters the DAG only when a completed alert commits it. Whoever sends a unit of a known
 * forker sends first the certificate that lets it in (at most once per peer and alert per
 * anti-entropy period), and a member holding a certificate without its alert asks for it. */
#ifndef ALEPH_ALERT_H
#define ALEPH_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"
#include "hashmap.h"

struct unit;
struct message;

typedef struct alert_entry {
    uint8_t hash[32];
    uint32_t sender, forker;
    uint8_t *bytes; /* the ALERT body */
    uint32_t len;
    uint32_t commit_round_lo, commit_count, commits_off;
    int complete;
    uint8_t *cert; /* the ALERT_CERT body, once complete */
    uint32_t cert_len;
    uint64_t *served_ms; /* per peer: when the alert or certificate was last sent on demand */
    /* own alert only: the signatures collected and the re-send schedule */
    uint8_t (*sigs)[64];
    uint8_t *signed_by;
    uint32_t sig_count;
    uint32_t attempts;
    uint64_t next_ms;
} alert_entry;

typedef struct alert_commit {
    uint32_t alert; /* index in items */
    uint32_t forker, round;
} alert_commit;

/* A verified certificate whose alert has not arrived yet. */
typedef struct alert_pending_cert {
    uint8_t hash[32];
    uint8_t *bytes;
    uint32_t len;
    uint32_t from;
    uint32_t attempts;
    uint64_t next_ms;
} alert_pending_cert;

typedef struct alert_state {
    alert_entry **items;
    uint32_t len, cap;
    hashmap by_hash;   /* alert hash -> index */
    hashmap by_pair;   /* (sender, forker) -> index of the first alert seen: the one signed */
    hashmap committed; /* unit hash -> index in commits (completed alerts only) */
    alert_commit *commits;
    uint32_t commits_len, commits_cap;
    alert_pending_cert *certs;
    uint32_t certs_len, certs_cap;
    uint8_t *own_sent; /* per forker: own alert made */
    uint8_t *restored_fork; /* per forker: known from an alert of the backup (restart) */
} alert_state;

int alert_init(aleph_member *m);
void alert_free(aleph_member *m);
/* Two units of one (creator, round): `first` is in the DAG, `second` (its bytes) is not. */
void alert_fork_found(aleph_member *m, const struct unit *first, const uint8_t *second,
                      size_t second_len);
/* Whether a unit of a known forker may enter the DAG: a completed alert commits it. */
int alert_committed(const aleph_member *m, const uint8_t hash[32], uint32_t creator,
                    uint32_t round);
/* Before a unit of a known forker goes to `to`: the certificate that lets it in there. */
void alert_before_unit_sent(aleph_member *m, uint32_t to, const struct unit *u);
/* ALERT, ALERT_SIGNATURE, ALERT_CERT, REQUEST_ALERT. */
void alert_receive(aleph_member *m, uint32_t from, const struct message *msg);
/* The same messages to a kept finished epoch p (epoch.c, answer_from_kept), so that alerts
 * of the epoch still complete for members behind (PROTOCOL.md, "What is answered from a kept
 * finished epoch"): a signature for p's own alert (it may complete; its certificate goes to
 * everyone), a certificate of an alert p holds, an alert request, an alert p holds (its
 * sender gets p's signature again, a peer the certificate), and a new alert when
 * p->kept_signs_alerts (p signs it as a current epoch would; restored from the backup, p
 * would not know what it signed after the epoch ended). Returns 0 for what p does not take,
 * dropped by the caller. Nothing is persisted (p's backup takes no more records). */
int alert_receive_kept(aleph_member *p, uint32_t from, const struct message *msg);
void alert_tick(aleph_member *m);
uint64_t alert_wake_ms(const aleph_member *m);

/* Restart (aleph_member_restore_record, with m->restoring set): an ALERT record, checked like
 * one from the network and kept as it was (an own alert is sent again as it is); an
 * ALERT_CERT record, which completes a restored alert. NULL, or a static reason. */
const char *alert_restore(aleph_member *m, const uint8_t *body, size_t len);
const char *alert_restore_cert(aleph_member *m, const uint8_t *body, size_t len);
/* Whether a restored unit may enter: once a restored alert showed its creator forked, only
 * the units a restored certificate commits entered this DAG before the crash (own units
 * aside: the creator adds them). */
int alert_restore_admits(const aleph_member *m, const uint8_t hash[32], uint32_t creator,
                         uint32_t round);

#endif

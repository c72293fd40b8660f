/* Committee and member key files (`aleph keygen` writes them, the node and tools read them).
 *
 * committee.json (public):
 *   {"format": "aleph-committee/1", "size": N, "coin": "threshold"|"off",
 *    "max_unit_bytes": B, "session": "<16 hex digits>",
 *    "default_creators": [i, ...] (optional: the default-creator schedule, docs/PROTOCOL.md),
 *    "epoch_rounds": E (optional, default 0: one endless epoch; docs/PROTOCOL.md, "Epochs"),
 *    "members": [{"index": i, "address": "host:port", "client_port": p,
 *                 "sign_public_key": "<64 hex>", "coin_verification_key": "<64 hex>"}, ...]}
 * Everything that enters ordering (N, coin mode, unit_bytes_max, the keys) is hashed into the
 * session id: session = the first 8 bytes (little-endian) of
 * BLAKE2b-256("aleph/committee\0" || u32 1 || u32 N || u32 coin || u32 unit_bytes_max ||
 *             for each member: u32 index || sign key || coin key
 *             [|| u32 L || L x u32 member, only with a default-creator schedule of L > 0]
 *             [|| "epochs" || u32 E, only with epoch_rounds E > 0]),
 * all integers little-endian (a committee without a schedule or epochs keeps the id it
 * always had).
 * The loader recomputes it, so an edited key or parameter is caught at start-up, and peers
 * whose files differ refuse each other in the handshake. Addresses and ports are not
 * hashed: they do not enter ordering and may be changed.
 *
 * member-<i>.key (secret, mode 0600):
 *   {"format": "aleph-member-key/1", "index": i, "session": "<16 hex>",
 *    "sign_secret_key": "<128 hex>", "coin_secret_share": "<64 hex>"}
 */
#ifndef ALEPH_NODE_KEYS_H
#define ALEPH_NODE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"

#define KEYS_ERR_MAX 2048
#define HOST_MAX 256

typedef struct committee_member {
    char host[HOST_MAX];
    uint16_t port;
    uint16_t client_port;
} committee_member;

typedef struct committee {
    uint32_t size;
    aleph_coin_mode coin_mode;
    uint32_t unit_bytes_max;
    uint64_t session;
    committee_member *members;   /* by index */
    uint8_t (*sign_pks)[32];
    uint8_t (*coin_vks)[32];
    uint32_t *default_creators;   /* the default-creator schedule; NULL: round mod N */
    uint32_t default_creators_len;
    uint32_t epoch_rounds;        /* rounds per epoch; 0: one endless epoch */
} committee;

uint64_t committee_session(const committee *c);
const char *coin_mode_name(aleph_coin_mode mode);
/* The one --coin vocabulary of every command: "threshold" or "off" (and "test", the cheap
 * test coin, where allow_test). 0, or -1 for anything else. */
int coin_mode_parse(const char *text, int allow_test, aleph_coin_mode *out);

/* Reads and validates a committee file. On failure returns -1 with one line per problem
 * found in err (each "FILE: ..."). */
int committee_load(const char *path, committee *c, char *err, size_t cap);
void committee_free(committee *c);

/* Reads a member key file and checks it against the committee (index range, session, the
 * public keys). */
int member_key_load(const char *path, const committee *c, aleph_secret *s, char *err,
                    size_t cap);

typedef struct keygen_params {
    uint32_t members;
    const char *out_dir;
    const char *host;
    uint32_t base_port;        /* member i listens on base_port + i */
    uint32_t client_base_port; /* member i's client port; 0: base_port + members + i */
    const committee_member *addresses; /* members entries (addresses.h) instead of host and
                                        * the base ports; NULL: host, base_port */
    aleph_coin_mode coin_mode;
    uint32_t unit_bytes_max;
    const uint32_t *default_creators; /* the schedule to write (len 0: none) */
    uint32_t default_creators_len;
    uint32_t epoch_rounds;        /* rounds per epoch; 0: one endless epoch */
} keygen_params;

/* Deals fresh random keys and writes DIR/committee.json and DIR/member-<i>.key (0600, never
 * overwriting). */
int keygen_write(const keygen_params *p, char *err, size_t cap);

#endif

/*
 * aleph: the Aleph consensus protocol (leaderless, asynchronous, Byzantine fault tolerant
 * atomic broadcast) as a library with no I/O inside.
 *
 * This is the one public header of the protocol core. A member is driven by events (a
 * message arrived, time passed) through aleph_member_step(); everything it wants done comes
 * back in an aleph_update: units to persist, messages to send, batches ordered, notices to
 * log, and the time at which it wants to be woken next. The caller does the I/O. The same
 * core runs in the tests, in the simulator and in the node.
 *
 * Rules implemented: docs/PROTOCOL.md. Structure: docs/ARCHITECTURE.md.
 */
#ifndef ALEPH_ALEPH_H
#define ALEPH_ALEPH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ---------------------------------------------------------------------------- */

/* The version of this header; aleph_version() gives the library's (they differ when a
 * program runs against another build of the shared library). */
#define ALEPH_VERSION_MAJOR 0
#define ALEPH_VERSION_MINOR 1
#define ALEPH_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the library linked. */
const char *aleph_version(void);

/* ---- Limits (wire-level; every decoder enforces them) ------------------------------------ */

#define ALEPH_MEMBERS_MAX 1024u
/* Longest default-creator schedule (aleph_config.default_creators). */
#define ALEPH_DEFAULT_CREATORS_MAX 4096u
/* aleph_config.epochs_kept (local, not on the wire): its bound and default (PROTOCOL.md). */
#define ALEPH_EPOCHS_KEPT_MAX 16u
#define ALEPH_EPOCHS_KEPT_DEFAULT 3u
#define ALEPH_HASH_BYTES 32u
#define ALEPH_SIGN_PK_BYTES 32u
#define ALEPH_SIGN_SK_BYTES 64u
#define ALEPH_SIGNATURE_BYTES 64u
/* The fewest bytes a unit's encoding can have (version, session, creator, round, parent
 * count, payload length, share flag, signature): aleph_unit_signed_parts' least length. */
#define ALEPH_UNIT_BYTES_MIN (1u + 8u + 2u + 4u + 2u + 4u + 1u + ALEPH_SIGNATURE_BYTES)
/* A threshold-coin share: the point S_i (32) and a Chaum-Pedersen proof (c, s) (64). */
#define ALEPH_COIN_SHARE_BYTES 96u
/* The threshold coin's nonce of a round: session (u64 LE) || round (u32 LE). */
#define ALEPH_COIN_NONCE_BYTES 12u
#define ALEPH_COIN_SCALAR_BYTES 32u
#define ALEPH_COIN_POINT_BYTES 32u
/* Hard cap on one unit's payload; the configured unit_bytes_max may be lower. */
#define ALEPH_PAYLOAD_BYTES_MAX (4u * 1024u * 1024u)
/* Hard cap on one message of the member protocol. The largest is a fork alert: two whole
 * units of the forker (the proof) and up to 65,536 committed unit hashes (2 MiB). Anything
 * larger is dropped and counted; every message kind has its own tighter bounds inside. */
#define ALEPH_MESSAGE_BYTES_MAX (2u * ALEPH_PAYLOAD_BYTES_MAX + 2u * 1024u * 1024u + 64u * 1024u)
/* Highest round a unit may carry; guards arithmetic on rounds from the network. */
#define ALEPH_ROUND_MAX 0x7fffffffu

/* Message destination meaning "every other member". */
#define ALEPH_TO_ALL UINT32_MAX

/* ---- Configuration -------------------------------------------------------------------------- */

typedef enum aleph_coin_mode {
    /* Deterministic schedule, no randomness (PROTOCOL.md section 4, "Deterministic mode").
     * Safe, but an adversary controlling message timing can stall it. For comparison. */
    ALEPH_COIN_OFF = 0,
    /* A stand-in whose value every member derives from (session, round) once it holds f+1
     * units of that round. Predictable: for tests and simulation only. */
    ALEPH_COIN_TEST = 1,
    /* The threshold coin on ristretto255 (PROTOCOL.md section 5). The default. */
    ALEPH_COIN_THRESHOLD = 2,
} aleph_coin_mode;

/* Everything that enters ordering must be equal at all members; the shell derives the
 * session id from the committee file so that a member with another configuration cannot
 * take part. Timing fields are local tuning and may differ. */
typedef struct aleph_config {
    uint32_t members; /* N, 1..ALEPH_MEMBERS_MAX */
    uint64_t session; /* id of this committee run */
    aleph_coin_mode coin_mode;
    const uint8_t (*sign_public_keys)[32];       /* N Ed25519 public keys */
    const uint8_t (*coin_verification_keys)[32]; /* N points X_i (threshold mode only) */
    /* The default creator of round r, whose units are round r's first candidates (PROTOCOL.md
     * section 4): default_creators[r mod default_creators_len], or r mod N when
     * default_creators_len is 0 (the default). Entries are member indices, repeats allowed
     * (docs/PROTOCOL.md, "Default-creator schedule": listing well-connected members gets
     * more heads decided at d = 2 over a WAN). */
    const uint32_t *default_creators;
    uint32_t default_creators_len; /* 0..ALEPH_DEFAULT_CREATORS_MAX */

    uint32_t unit_bytes_max;    /* payload bytes per unit (<= ALEPH_PAYLOAD_BYTES_MAX) */
    uint32_t tx_bytes_max;      /* one transaction */
    uint32_t pool_bytes_max;    /* local transaction pool; submits beyond it are refused */
    uint32_t pending_units_max; /* units waiting for parents */

    uint32_t round_delay_ms_min;  /* minimum time between two own units */
    uint32_t round_delay_ms_idle; /* pace when no transaction is pending anywhere */
    uint32_t parent_wait_ms_max;  /* extra wait for more than q parents of the last round */
    /* Extra wait, after a quorum of the last round's units is in, for that round's first
     * candidate (its default creator's unit), so that the next round's units carry it and
     * its head is decided at d = 2 (docs/PROTOCOL.md, "The fast path over a WAN"). */
    uint32_t candidate_wait_ms_max;
    /* Extra wait, after a quorum, for the creator of the next round's first candidate (the
     * next round's default creator): for the last round's units still missing whose creator's
     * units usually come within the bound, so that the head of the next round has them below
     * it and they are output with its batch rather than one batch later. */
    uint32_t head_parent_wait_ms_max;
    uint32_t anti_entropy_ms;     /* period of the anti-entropy exchange */
    uint32_t request_retry_ms;    /* first retry of a request for missing units */
    uint32_t rounds_max;          /* stop creating units after this round (0: no limit) */
    /* An ordered unit is shed (PROTOCOL.md, "Long runs") only once every peer reported
     * holding units of its creator this many rounds above it: a peer's report may include
     * units its backup has not made durable yet, which a crash would take back. */
    uint32_t shed_lag_rounds;
    /* Epochs (PROTOCOL.md, "Epochs"): an epoch ends with its batch of head round
     * epoch_rounds - 1; the next starts with a session derived from that head, an empty DAG
     * and rounds from 0. Committee-wide (it changes the wire format: with epochs every member
     * message names its epoch). 0: one endless epoch, and no epoch field on the wire. */
    uint32_t epoch_rounds;
    /* Finished epochs this member keeps (frozen, 0..ALEPH_EPOCHS_KEPT_MAX) to answer the
     * requests of members still in one of them, so that a member up to this many epochs
     * behind catches up through each in order (PROTOCOL.md, "A member behind"). Local: not
     * committee-wide, not on the wire. A kept epoch costs its DAG's stubs, plus the units
     * that could not be shed (docs/PROTOCOL.md gives the bytes). 0: the default. */
    uint32_t epochs_kept;

    uint64_t rng_seed; /* local choices (which peer to ask); not for ordering */

    /* 1: never create units; only receive and order (benchmarks, read-only replicas). */
    int observer;

    /* Restart safety (PROTOCOL.md, "Restart"). 1: before its first own unit the member asks
     * every peer for its newest own unit and creates nothing until q-1 peers answered (with
     * itself, a quorum). If a peer shows an own unit newer than the member holds (its backup
     * was lost or is stale, or another process uses the key), the member never creates and
     * reports ALEPH_NOTICE_OWN_NEWER, unless `recover` is 1: then it fetches its newest own
     * units, takes the newest as own parent and creates only above it. 0: no check (tests,
     * the simulator's runs without restarts). */
    int own_check;
    int recover;

    /* Optional signature checker, e.g. a cache shared by simulated members or a check done
     * earlier on a worker thread. NULL: libsodium's Ed25519 verification. Must return 1 for
     * a valid signature, 0 otherwise. */
    int (*verify_signature)(void *ctx, const uint8_t hash[32], const uint8_t sig[64],
                            const uint8_t public_key[32]);
    void *verify_signature_ctx;
    /* Optional: a received unit's hash computed earlier over exactly its bytes, e.g. by the
     * check on a worker thread that found what its signature covers. Given the pointer the
     * member received the unit at (within the message being received) and the length of its
     * signed part, returns 1 with out set to the hash of those bytes, 0 when it has none (the
     * member then hashes them itself). It must never answer for other bytes: the member uses
     * the answer as the unit's hash. NULL: the member hashes every unit. */
    int (*unit_hash_known)(void *ctx, const uint8_t *unit, size_t signed_len, uint8_t out[32]);
    void *unit_hash_ctx;
    /* Optional (threshold coin): a received unit's coin share found valid earlier, e.g. by
     * aleph_unit_share_check on a worker thread. Given the pointer the member received the
     * unit at (within the message being received), the unit's length and the nonce the member
     * checks its share against, returns 1 only when the share those very bytes carry was
     * found valid for exactly that nonce and the creator's verification key; 0 otherwise (the
     * member then checks the share itself, if its round's coin is ever needed). NULL: none. */
    int (*share_valid_known)(void *ctx, const uint8_t *unit, size_t len,
                             const uint8_t nonce[ALEPH_COIN_NONCE_BYTES]);
    void *share_valid_ctx;

    /* Optional: units shared by the members of one process (the simulator, tests), so that a
     * unit's body (encoding and parent list) is held once, not once per member. Members
     * sharing a store must have the same `members` and be stepped by one thread. NULL: each
     * member holds its own copies (the node). */
    struct aleph_unit_store *unit_store;
} aleph_config;

/* A store of verified units, shared by simulated members: a member that has verified a unit
 * (signature, parents, control hash) takes the store's copy of its encoding and parent list
 * when the store holds the same bytes, else puts its own there; it gives it back when it sheds
 * or frees the unit. Nothing a member decides depends on the store. Free it after every
 * member using it. NULL when out of memory. */
typedef struct aleph_unit_store aleph_unit_store;
aleph_unit_store *aleph_unit_store_new(uint32_t members);
void aleph_unit_store_free(aleph_unit_store *store);
/* Units whose body the store holds, and their encodings' bytes. */
void aleph_unit_store_stats(const aleph_unit_store *store, uint64_t *units, uint64_t *bytes);

/* Fills cfg with defaults for everything but members, session and the keys. */
void aleph_config_defaults(aleph_config *cfg);

/* Checks a configuration; returns NULL when usable, or a static description of the
 * first problem. */
const char *aleph_config_check(const aleph_config *cfg);

/* The finished epochs a member of cfg keeps, and whose backups a shell keeps beside the
 * current one: 0 without epochs, else cfg->epochs_kept, or its default when 0. */
uint32_t aleph_config_epochs_kept(const aleph_config *cfg);

/* f and q for a committee of n members. */
uint32_t aleph_faulty_max(uint32_t n);
uint32_t aleph_quorum(uint32_t n);

/* The private half of a member's identity. */
typedef struct aleph_secret {
    uint32_t index;
    uint8_t sign_secret_key[ALEPH_SIGN_SK_BYTES];
    uint8_t coin_secret_share[ALEPH_COIN_SCALAR_BYTES]; /* x_i (threshold mode) */
} aleph_secret;

/* ---- Events in, updates out ----------------------------------------------------------------- */

typedef enum aleph_event_kind {
    ALEPH_EVENT_TICK = 0,    /* time passed; also used to start a member */
    ALEPH_EVENT_MESSAGE = 1, /* bytes from another member */
} aleph_event_kind;

typedef struct aleph_event {
    aleph_event_kind kind;
    uint64_t now_ms;     /* the caller's clock (monotonic); virtual time in the simulator */
    uint32_t from;       /* MESSAGE: sender's member index (authenticated by the shell) */
    const uint8_t *data; /* MESSAGE: bytes; only read during the call */
    size_t len;
} aleph_event;

/* What the transport may do with a message it cannot send at once. */
typedef enum aleph_message_kind {
    /* A request, an answer, anti-entropy: keep it queued (also while the peer is away). */
    ALEPH_MESSAGE_MUST_DELIVER = 0,
    /* A broadcast copy of a new unit: the first to drop under back-pressure (anti-entropy
     * delivers the unit later). */
    ALEPH_MESSAGE_UNIT_BROADCAST = 1,
} aleph_message_kind;

typedef struct aleph_outgoing {
    uint32_t to; /* member index, or ALEPH_TO_ALL */
    const uint8_t *data;
    size_t len;
    aleph_message_kind kind;
} aleph_outgoing;

/* What a persisted record holds (aleph_update.persist; PROTOCOL.md, "Fork alerts", restart).
 * A backup keeps the kind beside the bytes and hands both back to aleph_member_restore_record. */
typedef enum aleph_persist_kind {
    ALEPH_PERSIST_UNIT = 0,       /* a unit that entered the DAG */
    ALEPH_PERSIST_ALERT = 1,      /* an alert this member keeps: its own, or one it signed */
    ALEPH_PERSIST_ALERT_CERT = 2, /* the certificate of a kept alert that completed */
} aleph_persist_kind;

typedef struct aleph_blob {
    const uint8_t *data;
    size_t len;
    aleph_persist_kind kind; /* persists only (0, a unit, elsewhere) */
    /* Persists of units: the unit's hash (ALEPH_HASH_BYTES, valid as long as data), so that a
     * backup can check the record through it without hashing the bytes again; NULL
     * elsewhere (a caller then hashes the bytes itself when it needs the hash). */
    const uint8_t *hash;
} aleph_blob;

/* One unit of an ordered batch. Pointers stay valid until the next call into the member. */
typedef struct aleph_ordered_unit {
    uint32_t creator;
    uint32_t round;
    const uint8_t *hash;
    const uint8_t *payload;
    size_t payload_len;
    uint32_t txs_len; /* transactions in the payload */
} aleph_ordered_unit;

typedef struct aleph_batch {
    uint32_t round; /* the round whose head closed this batch: its index within its epoch */
    uint32_t epoch; /* the epoch that ordered it (0 without epochs) */
    int epoch_last; /* 1: the epoch's last batch (round epoch_rounds - 1); the member is in
                       the next epoch after this update (ALEPH_NOTICE_EPOCH_STARTED) */
    uint32_t head_creator;
    const uint8_t *head_hash;
    uint32_t head_depth; /* d of the unit that decided the head (2, 3, 4, ...) */
    size_t units_len;
    const aleph_ordered_unit *units; /* sorted by (round, hash) */
    /* The election that chose the head, for checks outside the core (the simulator's dump):
     * candidates[0..candidates_len) in the committee-wide order (every candidate when the
     * non-default part had to be ordered, else only the default creator's units);
     * candidates[0..head_index) were decided 0 and candidates[head_index] is the head;
     * deciders[k] (k <= head_index) is the unit that decided candidates[k]. Unit hashes. */
    size_t candidates_len;
    size_t head_index;
    const uint8_t *const *candidates;
    const uint8_t *const *deciders;
} aleph_batch;

typedef enum aleph_notice_kind {
    ALEPH_NOTICE_UNIT_CREATED = 0, /* an own unit was created (round, hash) */
    ALEPH_NOTICE_UNIT_ADDED = 1,   /* a unit entered the DAG */
    ALEPH_NOTICE_FORK = 2,         /* creator was found forking (round of the proof) */
    ALEPH_NOTICE_DROPPED = 3,      /* input rejected; reason in `reason` */
    ALEPH_NOTICE_HALT = 4,         /* a round had every candidate decided 0: > f faulty */
    /* own_check: peer `peer` holds an own unit of `round`, newer than any this member holds;
     * the member will not create (restart with recover to continue above it). */
    ALEPH_NOTICE_OWN_NEWER = 5,
    /* own_check passed: creating may start; `round` is the next own round. */
    ALEPH_NOTICE_OWN_CHECKED = 6,
    /* an allocation failed; `reason` says where. What it cost is said too: a dropped input
     * (it comes again), or a HALT when the member could not go on without losing output. */
    ALEPH_NOTICE_OUT_OF_MEMORY = 7,
    /* the member moved to epoch `epoch` (in the update that carries the previous epoch's
     * last batch, after it); aleph_member_epoch_carry() now tells what it carried. */
    ALEPH_NOTICE_EPOCH_STARTED = 8,
    /* peer `peer` asked (a request, HIGHEST, OWN_QUERY, REQUEST_ALERT) about finished epoch
     * `asked_epoch`, which the member neither keeps nor archives: the request was dropped
     * (epoch_stale_dropped); a shell with that epoch's backup may load it into the archive
     * slot (aleph_member_archive_begin) so that the next one is answered. */
    ALEPH_NOTICE_EPOCH_NOT_HELD = 9,
} aleph_notice_kind;

typedef struct aleph_notice {
    aleph_notice_kind kind;
    uint32_t creator;
    uint32_t round;
    uint32_t peer;      /* who sent the input (DROPPED) */
    uint32_t epoch;     /* the member's epoch when the notice was made */
    const char *reason; /* static string (DROPPED) */
    uint8_t hash[ALEPH_HASH_BYTES];
    uint32_t asked_epoch; /* EPOCH_NOT_HELD: the finished epoch asked about */
} aleph_notice;

/* What a step asks the caller to do, in this order: append `persist` to the backup, in
 * order, each record with its kind (every unit that entered the DAG, in DAG order: parents
 * before children; every alert the member keeps, its own and those it signs, and the
 * certificate of each that completes, before the units it lets in), and when
 * `persist_before_send` is 1 (the step created an own unit, an own alert, or an alert it
 * signs) make it durable before sending any message of this or a later update; then send
 * `messages`, then deliver `batches` to the output, then log `notices`, then call
 * aleph_member_step() with a TICK at `wake_at_ms` at the latest. Other records may become
 * durable later, with the next own unit's or alert's (the backup is one append-only log, so
 * a durable record implies that every record before it is).
 * All memory is owned by the member and stays valid until the next call into it. */
typedef struct aleph_update {
    const aleph_blob *persist;
    size_t persist_len;
    int persist_before_send;
    /* The epoch whose backup the persists belong to: the epoch the step began in (in the
     * update that starts a new epoch they are the old epoch's; nothing of the new one is
     * persisted in it). */
    uint32_t persist_epoch;
    const aleph_outgoing *messages;
    size_t messages_len;
    const aleph_batch *batches;
    size_t batches_len;
    const aleph_notice *notices;
    size_t notices_len;
    uint64_t wake_at_ms;
} aleph_update;

/* ---- The member ----------------------------------------------------------------------------- */

typedef struct aleph_member aleph_member;

/* Creates a member. The configuration (and the arrays it points to) is copied. Returns
 * NULL with *error set to a static message when the configuration or secret is unusable. */
aleph_member *aleph_member_new(const aleph_config *cfg, const aleph_secret *secret,
                               const char **error);
void aleph_member_free(aleph_member *m);

/* Feeds one event; fills *up with what to do. Never fails: bad input is dropped, counted and
 * reported as a DROPPED notice. */
void aleph_member_step(aleph_member *m, const aleph_event *ev, aleph_update *up);

typedef enum aleph_submit_status {
    ALEPH_SUBMIT_OK = 0,
    ALEPH_SUBMIT_POOL_FULL = 1, /* back-pressure: try again later */
    ALEPH_SUBMIT_TOO_LARGE = 2, /* over tx_bytes_max, or empty */
    ALEPH_SUBMIT_HALTED = 3,    /* the member creates no more units: it would never be ordered */
} aleph_submit_status;

/* Adds a transaction to the local pool; it goes into a later own unit. Submitting produces
 * no update; see aleph_member_wake_at_ms(). */
aleph_submit_status aleph_member_submit(aleph_member *m, const uint8_t *tx, size_t len);

/* When the member wants its next TICK now: the last update's wake_at_ms, or sooner after
 * submits (a transaction in an empty pool ends the idle pace). A caller re-arms its timer
 * when this is sooner than the time it armed. */
uint64_t aleph_member_wake_at_ms(const aleph_member *m);

/* Restart: feeds one unit of the member's own backup, in the order the units were persisted
 * (parents before children), before the first step. The unit is checked like one from the
 * network (encoding, session, hash, signature, every parent already restored, control hash)
 * and enters the DAG without being persisted again; an own unit moves the member's own round
 * up to it. The next step orders what the restored DAG decides, from the first batch on (the
 * caller skips the batches it already delivered). Returns NULL when the unit entered the DAG
 * (or was there already), else a static reason: the backup is then not usable as it is. */
const char *aleph_member_restore(aleph_member *m, const uint8_t *unit, size_t len);

/* Restart: feeds one record of the member's own backup of any kind, in the order persisted
 * (a UNIT goes to aleph_member_restore). An ALERT is checked like one from the network
 * (strict decoding, session, the sender's signature, the fork proof's two signatures) and
 * kept as it was: the member's own alert is sent again as it is (never a second one about
 * the same forker), the first alert of another sender about a forker stays the only one it
 * signs, and the forker is known again. An ALERT_CERT (its signatures checked) completes a
 * restored alert. A record that does not fit (an alert of another session, a certificate
 * before its alert, a third alert of one sender about one forker, a known forker's unit no
 * restored certificate commits) returns a static reason: the backup is not usable as it is. */
const char *aleph_member_restore_record(aleph_member *m, aleph_persist_kind kind,
                                        const uint8_t *data, size_t len);

/* Restart into epoch `epoch` (PROTOCOL.md, "Epochs"): call once, before any
 * aleph_member_restore() and before the first step, with the backup's epoch, that epoch's
 * session and its carried transactions (the EPOCH_CARRY record's body, in the payload format;
 * NULL, 0 when none). Epoch 0 must have the committee's session. The units restored after it
 * are of that epoch; restored own units take the carry's first transactions (the member puts
 * carried transactions into own units before pooled ones), the rest goes into later own
 * units. Returns NULL, or a static reason. */
const char *aleph_member_restore_epoch(aleph_member *m, uint32_t epoch, uint64_t epoch_session,
                                       const uint8_t *carry, size_t carry_len);

/* Restart with the backups of finished epochs (PROTOCOL.md, "Epochs", restart): the units
 * restored after this call, until the next restore_finished or restore_epoch, are of finished
 * epoch `epoch` (its session), kept as after a boundary (epochs_kept, newest first) to answer
 * members still in it; never ordered, nothing carried. Call once per finished epoch's file,
 * oldest first, before aleph_member_restore_epoch() of the newest file, which must follow.
 * Returns NULL, or a static reason. */
const char *aleph_member_restore_finished(aleph_member *m, uint32_t epoch, uint64_t epoch_session);

/* The archive slot (PROTOCOL.md, "Beyond K: the archive"): one finished epoch older than the
 * kept ones, loaded by the shell from its backup file when a peer asks about it
 * (ALEPH_NOTICE_EPOCH_NOT_HELD), and answered from like a kept epoch restored from the backup:
 * requests, HIGHEST and the alerts it holds; never ordered, no new alert signed, nothing
 * carried, nothing persisted. archive_begin frees the epoch archived now, if any, and starts
 * an empty one for finished epoch `epoch` (neither current nor kept; epoch 0 must have the
 * committee's session); archive_record then takes that epoch's backup records in order,
 * checked as aleph_member_restore_record checks them (NULL, or a static reason: the shell
 * then frees the slot). Between steps only, after the first. archive_free empties the slot;
 * archive_epoch returns 1 and sets *epoch while one is held. */
const char *aleph_member_archive_begin(aleph_member *m, uint32_t epoch, uint64_t epoch_session);
const char *aleph_member_archive_record(aleph_member *m, aleph_persist_kind kind,
                                        const uint8_t *data, size_t len);
void aleph_member_archive_free(aleph_member *m);
int aleph_member_archive_epoch(const aleph_member *m, uint32_t *epoch);

/* The epoch the member is in, and that epoch's session (epoch 0: the committee's). */
uint32_t aleph_member_epoch(const aleph_member *m);
uint64_t aleph_member_epoch_session(const aleph_member *m);

/* session(e+1) = the first 8 bytes (LE) of BLAKE2b-256("aleph/epoch\0" || session(e) u64 LE
 * || e+1 u32 LE || the hash of epoch e's last head). */
uint64_t aleph_epoch_session_next(uint64_t session, uint32_t next_epoch,
                                  const uint8_t head_hash[ALEPH_HASH_BYTES]);

/* The transactions carried into the current epoch: own transactions that were in own units
 * of the previous epoch and in no batch of it, in the payload format (*txs of them). Valid
 * until the next epoch change; empty in epoch 0. The first *txs transactions the member puts
 * into own units of this epoch are exactly these, in this order (then the pool's, FIFO):
 * they were in durable own units of the previous epoch already. */
size_t aleph_member_epoch_carry(const aleph_member *m, const uint8_t **payload, uint32_t *txs);

typedef struct aleph_member_stats {
    uint64_t units_created;
    uint64_t units_added; /* entered the DAG, own included */
    uint64_t units_ordered;
    uint64_t batches_ordered;
    uint64_t txs_ordered;
    uint64_t messages_in;
    uint64_t messages_dropped; /* malformed, oversized, bad signature, rule broken */
    uint64_t units_pending;    /* waiting for parents now */
    uint64_t pending_evicted;  /* pending units dropped because the buffer was full */
    uint64_t requests_sent;
    uint64_t forks_detected;        /* members found forking (once each) */
    uint64_t alerts_sent;           /* own fork alerts (one per forker) */
    uint64_t alert_certificates_completed; /* alerts completed here (q signatures seen) */
    uint64_t alerts_invalid;        /* alerts, signatures, certificates rejected */
    uint64_t alerts_ignored;        /* a second alert of one sender about one forker */
    uint64_t alerts_held;           /* alerts stored now */
    uint64_t forker_units_admitted; /* units of known forkers let in by a completed alert */
    uint64_t forker_units_refused;  /* units of known forkers that no completed alert commits */
    uint64_t coin_shares_invalid;
    uint64_t coin_shares_created;
    uint64_t coin_shares_verified; /* checked because a coin value was needed */
    uint64_t coin_values;          /* coin values computed (threshold or test mode) */
    uint64_t pool_txs;             /* transactions waiting in the pool now */
    uint64_t pool_bytes;
    uint32_t round_created; /* highest own round created (or -1 cast: none) */
    uint32_t round_ordered; /* round of the last head (UINT32_MAX: none yet) */
    uint64_t dag_units;     /* units in the DAG now */
    uint64_t units_restored; /* through aleph_member_restore */
    int own_check_waiting;   /* own_check: still waiting for answers (creates nothing) */
    uint64_t units_shed;    /* ordered units whose encoding and parents were freed */
    uint64_t shed_bytes;    /* encoding bytes freed by shedding */
    uint64_t out_of_memory; /* allocations that failed (each also an OUT_OF_MEMORY notice) */
    uint32_t epoch;              /* the epoch the member is in */
    uint64_t carry_txs;          /* transactions carried into this epoch */
    uint64_t carry_txs_pending;  /* of which not yet in an own unit */
    uint64_t epoch_stale_dropped; /* messages of a finished epoch dropped (units, answers) */
    /* messages of a later epoch while still in this one: up to epochs_kept ahead (peers
     * keeping as many epochs as this member answer from this epoch), and beyond (far: no
     * catching up, PROTOCOL.md) */
    uint64_t epoch_ahead_dropped;
    uint64_t epoch_far_dropped;
    uint64_t epoch_answers; /* requests of a kept finished epoch answered from its state */
    uint32_t epochs_kept_now; /* finished epochs kept now (at most epochs_kept) */
    uint64_t archive_answers; /* requests of the archived epoch answered from its state */
    uint64_t archive_asked;   /* requests of a finished epoch neither kept nor archived
                                 (each an EPOCH_NOT_HELD notice) */
    /* Bulk catch-up (a member far behind pulls ranges of rounds, docs/PROTOCOL.md) */
    uint64_t range_requests_sent;
    uint64_t range_units_received;   /* units that came in UNITS answers */
    uint64_t range_timeouts;         /* range requests asked again of another peer */
    uint64_t range_requests_served;  /* answered with units */
    uint64_t range_requests_refused; /* answered empty: the asker's byte rate was spent */
    /* steps long after the previous one (the process was stopped): single-slot requests
     * waited until the committee's round was heard (docs/PROTOCOL.md, "Catch-up in bulk") */
    uint64_t resumes;
    uint64_t pushed_bytes; /* unit bytes sent by anti-entropy (answers to HIGHEST) */
    uint64_t slot_answer_bytes; /* unit bytes sent in answer to single-slot requests */
} aleph_member_stats;

void aleph_member_stats_get(const aleph_member *m, aleph_member_stats *out);

/* coin(round) as this member knows it from its own DAG (test or threshold mode): returns 1 and
 * fills out, or 0 when it is not known (yet) or the coin is off. For outside checks (the
 * simulator's dump); it may verify shares, which the member's stats count. */
int aleph_member_coin(aleph_member *m, uint32_t round, uint8_t out[32]);
/* The same for epoch `epoch`: the current one, or a finished one while it is kept. */
int aleph_member_coin_epoch(aleph_member *m, uint32_t epoch, uint32_t round, uint8_t out[32]);

/* ---- Payload format ------------------------------------------------------------------------- */

/* A unit's payload is a sequence of transactions, each as a 4-byte little-endian length and
 * that many bytes. A member accepts no unit whose payload is malformed, so the payload of an
 * ordered unit always walks to its end. Walks it: returns 1 and sets *tx, *tx_len for the next transaction, 0 at
 * the end, -1 on a malformed payload. *offset starts at 0. */
int aleph_payload_next(const uint8_t *payload, size_t len, size_t *offset, const uint8_t **tx,
                       size_t *tx_len);

/* ---- Unit inspection (tools, the simulator) ---------------------------------------------- */

/* A unit decoded and checked as a member of the committee `cfg` would check it on arrival
 * (everything that needs no DAG). Pointers refer into the bytes inspected. */
typedef struct aleph_unit_info {
    uint64_t session;
    uint32_t creator;
    uint32_t round;
    uint8_t hash[ALEPH_HASH_BYTES];
    uint32_t parents_len;
    const uint8_t *control_hash; /* NULL for round 0 */
    const uint8_t *payload;      /* in the payload format above, already checked */
    size_t payload_len;
    uint32_t txs_len;
    const uint8_t *coin_share; /* NULL when absent */
    size_t len;                /* the whole encoding */
    const uint8_t *parents_raw_; /* read through aleph_unit_parent() */
} aleph_unit_info;

/* Decodes a unit's bytes. Returns NULL and fills *out when the unit is well formed for cfg
 * (members, session, unit_bytes_max, coin_mode), or a static reason. */
const char *aleph_unit_inspect(const aleph_config *cfg, const uint8_t *data, size_t len,
                               aleph_unit_info *out);

/* The i-th parent (i < parents_len): its creator and round, creators ascending. */
void aleph_unit_parent(const aleph_unit_info *u, uint32_t i, uint32_t *creator,
                       uint32_t *round);

/* The control hash a unit carries over its parents' hashes, given in creator order. */
void aleph_unit_control_hash(const uint8_t *const *parent_hashes, uint32_t count,
                             uint8_t out[ALEPH_HASH_BYTES]);

/* When an outgoing message (or one received) carries one unit: returns 1 and points *unit,
 * *unit_len at the unit's bytes; else 0. */
int aleph_message_unit(const uint8_t *msg, size_t len, const uint8_t **unit, size_t *unit_len);

/* A range answer's (UNITS message's) units, one per call, for a shell that checks their
 * signatures ahead of the member on another thread: *offset starts at 0; returns 1 and points
 * *unit, *unit_len at the next unit, 0 after the last or when msg is no well-formed UNITS
 * message of committee cfg (members, epoch_rounds). */
int aleph_message_units_next(const aleph_config *cfg, const uint8_t *msg, size_t len,
                             size_t *offset, const uint8_t **unit, size_t *unit_len);

/* What a unit's signature covers, if the bytes are a well-formed unit: its creator, its hash
 * and its signature (the last ALEPH_SIGNATURE_BYTES). Returns 0 when too short to be one;
 * nothing else is checked (the member decodes and judges the unit itself; an answer given
 * through aleph_config.verify_signature is only ever used for exactly these bytes). */
int aleph_unit_signed_parts(const uint8_t *unit, size_t len, uint32_t *creator,
                            uint8_t hash[ALEPH_HASH_BYTES], const uint8_t **signature);

/* The creator and round a unit's header names, if the bytes are long enough to be a unit
 * (0 otherwise); nothing is checked. */
int aleph_unit_slot(const uint8_t *unit, size_t len, uint32_t *creator, uint32_t *round);

/* The coin share a unit carries (threshold mode), checked as a member checks it when its
 * round's coin is needed: against the creator's verification key in cfg and the nonce of the
 * session and round the unit names. Returns 1 and fills nonce_out when the unit is well
 * formed for cfg (any session) and its share is valid; 0 otherwise. For a shell that checks
 * shares ahead of the member on another thread (aleph_config.share_valid_known): the member
 * takes the answer only for the nonce it would check against itself. */
int aleph_unit_share_check(const aleph_config *cfg, const uint8_t *unit, size_t len,
                           uint8_t nonce_out[ALEPH_COIN_NONCE_BYTES]);

/* A member message's header in committee cfg: its type, its epoch (0 without epochs) and the
 * offset of its body. Returns 1, or 0 when the message is too short to hold a header. With
 * epochs, a message carrying a unit has it at msg + *body_off. */
int aleph_message_header(const aleph_config *cfg, const uint8_t *msg, size_t len, uint32_t *type,
                         uint32_t *epoch, size_t *body_off);

/* ---- Testing: failing allocations -----------------------------------------------------------
 * Every allocation in the core is counted, process-wide, from the last call of
 * aleph_testing_fail_allocation(nth); the nth one (1: the next) fails as if memory ran out,
 * and 0 fails none (the default). For single-threaded tests only (the counter is not atomic). */
void aleph_testing_fail_allocation(uint64_t nth);
/* The core's allocations counted since the last aleph_testing_fail_allocation. */
uint64_t aleph_testing_allocations(void);

/* ---- Testing: building hostile input ---------------------------------------------------------
 * For test tools that must produce what an honest member never sends (the simulator's garbage
 * generator, fuzzers). Not needed to run a member. */

/* The first byte of every message between members. */
typedef enum aleph_testing_message_type {
    ALEPH_TESTING_MSG_UNIT = 1,
    ALEPH_TESTING_MSG_REQUEST_UNITS = 2,
    ALEPH_TESTING_MSG_REQUEST_PARENTS = 3,
    ALEPH_TESTING_MSG_PARENTS = 4,
    ALEPH_TESTING_MSG_REQUEST_HASHES = 5,
    ALEPH_TESTING_MSG_HIGHEST = 6,
    ALEPH_TESTING_MSG_OWN_QUERY = 7,
    ALEPH_TESTING_MSG_OWN_ANSWER = 8,
    ALEPH_TESTING_MSG_ALERT = 9,
    ALEPH_TESTING_MSG_ALERT_SIGNATURE = 10,
    ALEPH_TESTING_MSG_ALERT_CERT = 11,
    ALEPH_TESTING_MSG_REQUEST_ALERT = 12,
    ALEPH_TESTING_MSG_REQUEST_RANGE = 13,
    ALEPH_TESTING_MSG_UNITS = 14,
    ALEPH_TESTING_MSG_LAST = ALEPH_TESTING_MSG_UNITS, /* every byte above is no type */
} aleph_testing_message_type;

/* Longest list a request may carry; the unit encoding's version byte. */
#define ALEPH_TESTING_MSG_LIST_MAX 256u
#define ALEPH_TESTING_UNIT_VERSION 1u

/* Every field of a unit, as a creator fills them in, whether or not they obey the rules. */
typedef struct aleph_testing_unit_draft {
    uint64_t session;
    uint32_t creator;
    uint32_t round;
    uint32_t parents_len;
    const uint32_t *parent_creators;
    const uint32_t *parent_rounds;
    const uint8_t *control_hash; /* ignored for round 0 */
    const uint8_t *payload;
    uint32_t payload_len;
    const uint8_t *coin_share; /* NULL: none */
} aleph_testing_unit_draft;

/* Bytes the encoding of d takes. */
size_t aleph_testing_unit_encoded_len(const aleph_testing_unit_draft *d);

/* Encodes d into buf (aleph_testing_unit_encoded_len bytes), signs it with secret_key and
 * writes its hash. Returns the length written. */
size_t aleph_testing_unit_encode_signed(const aleph_testing_unit_draft *d,
                                        const uint8_t secret_key[ALEPH_SIGN_SK_BYTES],
                                        uint8_t *buf, uint8_t hash_out[ALEPH_HASH_BYTES]);

/* The coin share member `secret` makes for (session, round), as its units carry it
 * (threshold mode): 0, or -1 when the secret's coin share does not match verification_key. */
int aleph_testing_coin_share(const aleph_secret *secret, const uint8_t verification_key[32],
                             uint64_t session, uint32_t round,
                             uint8_t out[ALEPH_COIN_SHARE_BYTES]);

/* A fork alert's body (docs/PROTOCOL.md, "Fork alerts"): its length, and its encoding into
 * buf signed with secret_key, whether or not the proof holds. Writes the alert hash. */
size_t aleph_testing_alert_encoded_len(uint32_t a_len, uint32_t b_len, uint32_t commit_count);
void aleph_testing_alert_encode_signed(uint8_t *buf, uint64_t session, uint32_t sender,
                                       uint32_t forker, const uint8_t *a, uint32_t a_len,
                                       const uint8_t *b, uint32_t b_len, uint32_t commit_round_lo,
                                       const uint8_t *const *commits, uint32_t commit_count,
                                       const uint8_t secret_key[ALEPH_SIGN_SK_BYTES],
                                       uint8_t hash_out[ALEPH_HASH_BYTES]);

/* ---- Keys ----------------------------------------------------------------------------------- */

/* Dealer setup: deterministic from seed when seed != NULL (tests, simulation), random
 * otherwise. Fills n secrets, n signing public keys and n coin verification keys.
 * Returns 0 on success. */
int aleph_keys_deal(uint32_t n, const uint8_t seed[32], aleph_secret *secrets,
                    uint8_t (*sign_public_keys)[32], uint8_t (*coin_verification_keys)[32]);

/* Library initialisation (libsodium); idempotent. Returns 0 on success. */
int aleph_init(void);

#ifdef __cplusplus
}
#endif

#endif

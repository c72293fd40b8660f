/* The client port's streams of ordered output (client.h): plain subscribers get the
 * transactions of every new batch; resumed subscribers get framed batches from a sequence
 * number on, first read back from the output files (output_follow), then live. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "client.h"
#include "client_conn.h"

#define RESUME_STEP_BATCHES 256u
#define RESUME_QUEUE_BYTES (4u << 20) /* a catch-up step waits while more is queued */

typedef struct stream_chunk {
    uint32_t refs;
    size_t len;
    uint8_t data[];
} stream_chunk;

typedef struct stream_write {
    uv_write_t req;
    stream_chunk *chunk;
    client *c; /* a catch-up write: the next step (or the close) follows its completion */
} stream_write;

static void resume_step(client *c);

static void on_stream_written(uv_write_t *req, int status)
{
    stream_write *w = (stream_write *)req;
    client *c = w->c;
    if (--w->chunk->refs == 0) free(w->chunk);
    free(w);
    if (!c || c->closing) return;
    if (status < 0 || (c->close_after_write &&
                       uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0))
        client_close(c);
    else if (c->resume == 1)
        resume_step(c);
}

/* Queues chunk on c (one more reference); -1 when the client was closed. */
static int stream_send(client *c, stream_chunk *chunk, int catch_up)
{
    stream_write *w = malloc(sizeof *w);
    if (!w) {
        client_close(c);
        return -1;
    }
    w->chunk = chunk;
    w->c = catch_up ? c : NULL;
    chunk->refs++;
    uv_buf_t buf = uv_buf_init((char *)chunk->data, (unsigned)chunk->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_stream_written) != 0) {
        chunk->refs--;
        free(w);
        client_close(c);
        return -1;
    }
    c->cp->counters.stream_bytes += chunk->len;
    return 0;
}

static void frame_header(uint8_t h[CLIENT_FRAME_BATCH_BYTES], uint64_t seq, uint32_t epoch,
                         uint32_t txs, uint32_t bytes)
{
    le32_put(h, CLIENT_FRAME_BATCH);
    le64_put(h + 4, seq);
    le32_put(h + 12, epoch);
    le32_put(h + 16, txs);
    le32_put(h + 20, bytes);
}

/* ---- resumed subscribers ---------------------------------------------------------------------- */

static int frames_room(client *c, size_t more)
{
    if (c->frames_len + more <= c->frames_cap) return 0;
    size_t cap = c->frames_cap ? c->frames_cap : 64u << 10;
    while (cap < c->frames_len + more) cap *= 2;
    uint8_t *g = realloc(c->frames, cap);
    if (!g) return -1;
    c->frames = g;
    c->frames_cap = cap;
    return 0;
}

static void add_file_batch(void *ctx, const output_batch_view *b, const output_unit_view *units)
{
    client *c = ctx;
    if (!b->has_units) { /* a file written in chain mode (before a restart with full) */
        c->frames_failed = 2;
        return;
    }
    if (c->frames_failed || frames_room(c, CLIENT_FRAME_BATCH_BYTES + b->payload_bytes) != 0) {
        c->frames_failed = 1;
        return;
    }
    frame_header(c->frames + c->frames_len, b->seq, b->epoch, b->txs, (uint32_t)b->payload_bytes);
    c->frames_len += CLIENT_FRAME_BATCH_BYTES;
    for (uint32_t i = 0; i < b->units; i++) {
        memcpy(c->frames + c->frames_len, units[i].payload, units[i].payload_len);
        c->frames_len += units[i].payload_len;
    }
}

/* The status of a resume request (u8 + u64), ahead of any frame. */
static int answer(client *c, uint8_t status, uint64_t value)
{
    if (frames_room(c, 9) != 0) return -1;
    memmove(c->frames + 9, c->frames, c->frames_len);
    c->frames[0] = status;
    le64_put(c->frames + 1, value);
    c->frames_len += 9;
    c->answered = 1;
    return 0;
}

static void send_frames(client *c, int track)
{
    if (!c->frames_len) return;
    stream_chunk *chunk = malloc(sizeof *chunk + c->frames_len);
    if (!chunk) {
        client_close(c);
        return;
    }
    chunk->refs = 1;
    chunk->len = c->frames_len;
    memcpy(chunk->data, c->frames, c->frames_len);
    c->frames_len = 0;
    stream_send(c, chunk, track);
    if (--chunk->refs == 0) free(chunk);
}

static void refuse(client *c, uint8_t status, uint64_t value, const char *why)
{
    c->cp->counters.resumes_refused++;
    log_line(c->cp->log, LOG_INFO, "resume_refused",
             "\"from\":%" PRIu64 ",\"status\":%u,\"value\":%" PRIu64 ",\"reason\":\"%s\"",
             c->from_seq, status, value, why);
    c->frames_len = 0;
    if (answer(c, status, value) != 0) {
        client_close(c);
        return;
    }
    c->resume = 0;
    c->close_after_write = 1;
    send_frames(c, 1);
}

/* Reads the next batches from the files; switches to live once every batch written so far
 * went out (the files and this loop are one thread: nothing is written in between). */
static void resume_step(client *c)
{
    client_port *cp = c->cp;
    if (c->closing || c->resume != 1) return;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > RESUME_QUEUE_BYTES) return;
    uint64_t oldest = 0;
    long got;
    for (int k = 0;; k++) {
        /* batches before FROM are skipped without a frame: read on until one is made */
        uint64_t consumed = c->follow->open ? c->follow->t.consumed : 0;
        got = output_follow_poll(c->follow, add_file_batch, c, RESUME_STEP_BATCHES, &oldest);
        if (got != 0 || c->frames_len || k == 64 || !c->follow->open ||
            c->follow->t.consumed == consumed)
            break;
    }
    if (got == -2) {
        refuse(c, CLIENT_STATUS_RESUME_TOO_OLD, oldest, "older than the output files kept");
        return;
    }
    if (got < 0 || c->frames_failed) {
        char esc[600];
        cp->counters.resumes_failed++;
        log_line(cp->log, LOG_WARN, "resume_failed", "\"from\":%" PRIu64 ",\"reason\":\"%s\"",
                 c->from_seq,
                 log_escape(esc, sizeof esc,
                            c->frames_failed == 2 ? "the files hold no payloads there (chain mode)"
                            : c->frames_failed    ? "out of memory"
                                                  : c->follow->why));
        client_close(c);
        return;
    }
    if (!c->answered && answer(c, 0, c->from_seq) != 0) {
        client_close(c);
        return;
    }
    uint64_t next = c->follow->started ? c->follow->next_seq : c->from_seq;
    if (next >= cp->output->next_seq && (uint64_t)got < RESUME_STEP_BATCHES) {
        c->resume = 2;
        output_follow_close(c->follow);
        free(c->follow);
        c->follow = NULL;
    }
    send_frames(c, c->resume == 1);
}

void client_resume_start(client *c, uint64_t from)
{
    client_port *cp = c->cp;
    c->from_seq = from;
    if (!cp->output || cp->output->policy.mode != OUTPUT_FULL) {
        refuse(c, CLIENT_STATUS_RESUME_NO_PAYLOADS, 0, "this member's output holds no payloads");
        return;
    }
    if (cp->subscribers >= cp->limits.subscribers_max) {
        cp->counters.refused_subscribers++;
        cp->counters.refused++;
        refuse(c, CLIENT_STATUS_REFUSED, 0, "subscribers_max subscribers already");
        return;
    }
    c->follow = malloc(sizeof *c->follow);
    if (!c->follow) {
        client_close(c);
        return;
    }
    output_follow_init(c->follow, cp->output->dir, from);
    c->subscriber = 1;
    c->resume = 1;
    cp->subscribers++;
    cp->counters.resumes++;
    log_line(cp->log, LOG_INFO, "client_resumed", "\"from\":%" PRIu64 ",\"subscribers\":%u", from,
             cp->subscribers);
    resume_step(c);
}

/* ---- every new batch ---------------------------------------------------------------------------- */

/* The batch's transactions; with room for a frame header before them when framed. */
static stream_chunk *batch_chunk(const aleph_batch *b, size_t head)
{
    size_t total = 0;
    for (size_t i = 0; i < b->units_len; i++) total += b->units[i].payload_len;
    stream_chunk *chunk = malloc(sizeof *chunk + head + total);
    if (!chunk) return NULL;
    chunk->refs = 1;
    size_t len = head;
    for (size_t i = 0; i < b->units_len; i++) {
        const aleph_ordered_unit *u = &b->units[i];
        /* The core ordered only well-formed payloads (unit_decode checks them): copy whole. */
        memcpy(chunk->data + len, u->payload, u->payload_len);
        len += u->payload_len;
    }
    chunk->len = len;
    return chunk;
}

/* 1 when c may take len more bytes; else it is dropped (too slow). */
static int room_for(client *c, size_t len)
{
    client_port *cp = c->cp;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + len <= cp->subscriber_buffer_max)
        return 1;
    cp->counters.subscribers_dropped++;
    log_line(cp->log, LOG_INFO, "subscriber_dropped", "\"reason\":\"more than %zu bytes behind\"",
             cp->subscriber_buffer_max);
    client_close(c);
    return 0;
}

void client_port_publish(client_port *cp, const aleph_batch *b, uint64_t seq, uint32_t epoch)
{
    if (!cp->subscribers || cp->closing) return;
    /* The payload format is already "u32 length + bytes" per transaction: the plain stream
     * is the concatenation of the units' payloads; a frame puts a header before it. */
    stream_chunk *plain = NULL, *framed = NULL;
    for (client *c = cp->clients, *next; c; c = next) {
        next = c->next;
        if (!c->subscriber || c->closing) continue;
        if (c->resume == 1) {
            resume_step(c); /* reads this batch from the file */
            continue;
        }
        if (c->resume == 2 && seq < c->from_seq) continue;
        stream_chunk **ch = c->resume == 2 ? &framed : &plain;
        if (!*ch) {
            *ch = batch_chunk(b, c->resume == 2 ? CLIENT_FRAME_BATCH_BYTES : 0);
            if (!*ch) continue;
            if (c->resume == 2) {
                uint32_t txs = 0;
                for (size_t i = 0; i < b->units_len; i++) txs += (uint32_t)b->units[i].txs_len;
                frame_header((*ch)->data, seq, epoch, txs,
                             (uint32_t)((*ch)->len - CLIENT_FRAME_BATCH_BYTES));
            }
        }
        if ((*ch)->len == 0 || !room_for(c, (*ch)->len)) continue;
        stream_send(c, *ch, 0);
    }
    if (plain && --plain->refs == 0) free(plain);
    if (framed && --framed->refs == 0) free(framed);
}

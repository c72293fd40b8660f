/* The client port's connections (private to client.c and client_stream.c). */
#ifndef ALEPH_NODE_CLIENT_CONN_H
#define ALEPH_NODE_CLIENT_CONN_H

#include <stdint.h>
#include <uv.h>

#include "client.h"
#include "output.h"
#include "net/source.h"

typedef struct client {
    uv_tcp_t tcp;
    client_port *cp;
    struct client *prev, *next;
    int subscriber;
    int closing;
    int paused;
    uint8_t hdr[4];
    uint32_t hdr_have;
    int in_body;
    int skipping;            /* body of an oversized tx: read and thrown away */
    uint32_t body_len, body_have;
    uint8_t *body;
    int close_after_write;
    int refusing;            /* told 5 (refused): closed once it was sent */
    net_source source;       /* budget key of its address */
    uint64_t active_ms;      /* last read or answer written */
    uint64_t frame_started_ms; /* first byte of the frame being read */
    /* --ack durable: answers wait here, in submit order, until their transaction is in a
     * durable own unit (seq: its number among all accepted transactions; 0: a refusal) */
    int durable;
    struct durable_ack {
        uint64_t seq;
        uint8_t status;
    } *pend;
    size_t pend_head, pend_len, pend_cap;
    /* resume: 1 catching up from the output files, 2 live (framed batches) */
    int resume;
    int in_resume_req;       /* reading the u64 FROM of a resume request */
    uint8_t req[8];
    uint32_t req_have;
    uint64_t from_seq;
    int answered;            /* the resume's status went out */
    output_follow *follow;
    uint8_t *frames;         /* frames of one catch-up step */
    size_t frames_len, frames_cap;
    int frames_failed;
} client;

void client_close(client *c);
void client_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
/* A resume request for batches from `from` on (client_stream.c). */
void client_resume_start(client *c, uint64_t from);

#endif

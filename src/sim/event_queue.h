/* The simulator's clock: a binary min-heap of events ordered by (virtual time, sequence
 * number). The sequence number is assigned at push, so events due at the same millisecond run
 * in the order they were scheduled and a run never depends on heap layout. */
#ifndef ALEPH_SIM_EVENT_QUEUE_H
#define ALEPH_SIM_EVENT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes in flight, shared by every delivery of one send (a broadcast is copied once). */
typedef struct sim_msg {
    uint32_t refs;
    uint32_t len;
    uint8_t hostile;     /* 0: from a member's core; 1: garbage; 2: garbage every receiver must drop */
    const char *label;   /* garbage: what it is (static) */
    uint8_t data[];
} sim_msg;

sim_msg *sim_msg_new(const uint8_t *data, size_t len);
void sim_msg_release(sim_msg *m);

typedef enum sim_event_kind {
    SIM_EV_TICK = 0,    /* wake one member instance (aux: instance) */
    SIM_EV_DELIVER = 1, /* msg from `from` arrives at `to` */
    SIM_EV_LOAD = 2,    /* submit transactions to every live member */
    SIM_EV_GARBAGE = 3, /* a garbage member sends one hostile message */
    SIM_EV_SYNC = 4,    /* member `to`'s disk sync completes (aux: its life then) */
    SIM_EV_CRASH = 5,   /* member `to` crashes (aux: the fault) */
    SIM_EV_RESTART = 6, /* member `to` comes back (aux: the fault) */
    SIM_EV_PAUSE = 7,   /* member `to`'s process stops (pause.h) */
    SIM_EV_CONTINUE = 8, /* ... and continues */
} sim_event_kind;

typedef struct sim_event {
    uint64_t at_ms;
    uint64_t seq;
    uint32_t kind;
    uint32_t to;
    uint32_t from;
    uint32_t aux;
    sim_msg *msg;
} sim_event;

typedef struct sim_queue {
    sim_event *heap;
    size_t len, cap;
    uint64_t next_seq;
    size_t len_max; /* high-water mark, for the summary */
} sim_queue;

void sim_queue_init(sim_queue *q);
/* Releases the messages of events still queued. */
void sim_queue_free(sim_queue *q);
/* Returns 0, -1 when out of memory. The event's seq is overwritten. */
int sim_queue_push(sim_queue *q, sim_event ev);
/* Returns 1 and fills *out with the earliest event, 0 when empty. */
int sim_queue_pop(sim_queue *q, sim_event *out);
/* Time of the earliest event; UINT64_MAX when empty. */
uint64_t sim_queue_peek_ms(const sim_queue *q);

#endif

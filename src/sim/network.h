/* The simulated network: per-link delay, loss, duplication, reordering and one partition.
 * It decides, for one message on one link, how many copies arrive and after how long; the
 * engine owns the bytes and the clock. */
#ifndef ALEPH_SIM_NETWORK_H
#define ALEPH_SIM_NETWORK_H

#include <stdint.h>

#include "base/latency_matrix.h"
#include "sim_rng.h"

typedef enum sim_latency_kind {
    SIM_LATENCY_CONST = 0,   /* every link: delay_ms_min */
    SIM_LATENCY_UNIFORM = 1, /* every message: uniform in [delay_ms_min, delay_ms_max] */
    SIM_LATENCY_MATRIX = 2,  /* RTT/2 between the members' regions (latency_matrix.h) */
} sim_latency_kind;

typedef struct sim_latency {
    sim_latency_kind kind;
    uint32_t delay_ms_min, delay_ms_max;
    const sim_latency_matrix *matrix; /* MATRIX: borrowed, must outlive the run */
} sim_latency;

typedef struct sim_network_config {
    uint32_t members;
    sim_latency latency;
    double loss;          /* per message and recipient, until healed */
    double duplicate;     /* probability of a second copy (independent delay) */
    uint32_t reorder_ms;  /* extra delay uniform in [0, reorder_ms] per copy */
    int partition;        /* 1: split the committee in two from start_ms to end_ms */
    uint64_t partition_start_ms, partition_end_ms;
    /* 1: member 0 (honest) can neither send nor receive from isolate_start_ms to
     * isolate_end_ms, healing or not: a member left behind, which must catch up after. */
    int isolate;
    uint64_t isolate_start_ms, isolate_end_ms;
} sim_network_config;

typedef struct sim_network {
    sim_network_config cfg;
    uint8_t *side;        /* partition side per member (0 or 1) */
    int healed;           /* after healing: no loss, no partition */
    sim_rng rng;
    uint64_t copies_scheduled, lost, cut_by_partition, duplicated;
} sim_network;

/* Returns 0, -1 when out of memory. The partition's sides are drawn from the seed: a random
 * half of the members (rounded down) on side 1, so that neither side has a quorum. */
int sim_network_init(sim_network *net, const sim_network_config *cfg, uint64_t seed);
void sim_network_free(sim_network *net);

/* Ends loss and the partition from now on (duplication and reordering stay). */
void sim_network_heal(sim_network *net);

/* 1 while the partition separates the members at now_ms. */
int sim_network_partitioned(const sim_network *net, uint64_t now_ms);

/* For one message from `from` to `to` sent at now_ms: returns how many copies arrive (0, 1 or
 * 2) and writes their delays in ms (each >= 1). */
uint32_t sim_network_route(sim_network *net, uint64_t now_ms, uint32_t from, uint32_t to,
                           uint64_t delays_ms[2]);

/* The delay of a link before reordering: for tests and reports. */
uint64_t sim_network_base_delay_ms(sim_network *net, uint32_t from, uint32_t to);

#endif

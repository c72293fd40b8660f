/* A default-creator schedule (aleph_config.default_creators, docs/PROTOCOL.md "Default-creator
 * schedule") derived from a round-trip-time matrix, for runs whose latencies are known in
 * advance: the simulator's matrix runs and `aleph local --wan`. */
#ifndef ALEPH_BASE_DEFAULT_CREATORS_H
#define ALEPH_BASE_DEFAULT_CREATORS_H

#include <stddef.h>
#include <stdint.h>

#include "latency_matrix.h"

/* Members are in regions in turn (member i in region i mod K), one-way delay as
 * sim_latency_matrix_one_way_ms (0 to itself). A member j makes its next unit about when the
 * q-th nearest unit of the round (its own included) is in; member c "covers" j when its unit
 * comes no later. The schedule lists, in index order, the members that cover every member
 * (their unit is a parent of every next-round unit, so their round's head is decided at
 * d = 2 without a wait); when fewer than f+1 do, the f+1 covering the most members (ties by
 * index), so that at least one listed member is honest. Writes up to `members` entries to
 * out and returns how many. */
uint32_t default_creators_from_matrix(const sim_latency_matrix *m, uint32_t members,
                                      uint32_t *out);

/* Parses "i,j,k" (member indices below `members`, repeats allowed, 1..ALEPH_DEFAULT_CREATORS_MAX
 * of them) into out, which holds ALEPH_DEFAULT_CREATORS_MAX entries. Returns the length, or 0
 * with a one-line reason in err. */
uint32_t default_creators_parse(const char *text, uint32_t members, uint32_t *out, char *err,
                                size_t err_len);

/* A schedule from a command-line value: a list (default_creators_parse), "matrix:FILE" (derived
 * from the round-trip-time matrix FILE), or "matrix" (from matrix_path, the run's own matrix;
 * NULL: refused). Returns the length, or 0 with a one-line reason in err. */
uint32_t default_creators_from_spec(const char *spec, uint32_t members, const char *matrix_path,
                                    uint32_t *out, char *err, size_t err_len);

#endif

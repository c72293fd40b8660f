/* The optional store of verified units shared by the members of one process
 * (aleph_config.unit_store): per unit hash, one copy of the encoding and of the parent list
 * (parents as store ids, so that members whose DAG ids differ share it), counted twice: by the
 * members that hold the unit at all (the id stays while a shed stub names it) and by those
 * that hold it whole (the body is freed when none does). Store ids are reused once no member
 * holds the unit. No I/O, no clock: a member's decisions never depend on it (store_parents
 * spares a member the control hash of a unit another member checked, same answer). */
#ifndef ALEPH_UNIT_STORE_H
#define ALEPH_UNIT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "aleph/aleph.h"

#define STORE_NONE UINT32_MAX

/* Takes the store's body of the unit `hash` when the store holds the same encoding and the
 * same parents (parent_sids: `members` store ids, NONE where absent; NULL for round 0), or
 * puts these there when it holds no body of it. Returns its store id and sets *bytes and
 * *parents to the shared copies; STORE_NONE when the store's copy differs (another signature)
 * or out of memory: the member then keeps its own. */
uint32_t store_acquire(aleph_unit_store *s, const uint8_t hash[32], const uint8_t *data,
                       uint32_t len, const uint32_t *parent_sids, const uint8_t **bytes,
                       const uint32_t **parents);
uint32_t store_members(const aleph_unit_store *s);
/* The shared parent list (`members` store ids) of the unit `hash` while some member holds it
 * whole; NULL otherwise or for round 0. Every list stored passed its unit's control-hash check
 * (or made it: an own unit), and each parent's id stays its own while the unit is held (whoever
 * holds a unit holds its parents), so a member whose resolved parents have these ids would
 * find that the control hash matches. */
const uint32_t *store_parents(const aleph_unit_store *s, const uint8_t hash[32]);
/* The member no longer holds the unit whole (shed): the body goes when nobody does. */
void store_shed(aleph_unit_store *s, uint32_t sid);
/* The member no longer holds the unit at all; `whole`: it had not shed it. */
void store_release(aleph_unit_store *s, uint32_t sid, int whole);

#endif

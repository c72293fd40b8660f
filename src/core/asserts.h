/* The core's assertion policy. ALEPH_ASSERT states an internal invariant (docs/ARCHITECTURE.md
 * lists them and where each is asserted): it is always on, in release builds too, because a
 * broken invariant in a consensus member is worth a crash rather than a wrong output. It is
 * never used on input from outside the member (messages, submitted transactions, restored
 * units): such input is dropped and counted. Assertions come in pairs where a value crosses a
 * boundary: where it is established (before a unit is persisted, before a message is sent)
 * and where it is relied on (after it is read back, after a message is decoded). */
#ifndef ALEPH_ASSERTS_H
#define ALEPH_ASSERTS_H

_Noreturn void aleph_assert_fail(const char *expr, const char *file, int line);

#define ALEPH_ASSERT(cond) ((cond) ? (void)0 : aleph_assert_fail(#cond, __FILE__, __LINE__))

#endif

/* Helpers shared by the cmocka test programs (tests/test_*.c). */
#ifndef ALEPH_TEST_SUPPORT_H
#define ALEPH_TEST_SUPPORT_H

#endif

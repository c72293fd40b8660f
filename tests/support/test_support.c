/* Helpers shared by the cmocka test programs; linked into every one of them. */
#include "test_support.h"

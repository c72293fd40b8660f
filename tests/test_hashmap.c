/* The core's hash-keyed map against a plain array model: random puts, gets and removes
 * (backward-shift deletion must never hide a key). Keys share few home slots, so probe runs
 * are long, and small tables with many key families make those runs wrap around the end of
 * the table: the hard cases for backward-shift deletion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hashmap.h"

#define KEYS 40
#define FAMILIES 64

/* The map places keys by their first 16 bytes: 4 home slots per family. */
static void key_of(uint32_t family, uint32_t i, uint8_t key[32])
{
    memset(key, 0, 32);
    key[0] = (uint8_t)(i % 4);
    key[1] = (uint8_t)family;
    key[31] = (uint8_t)i;
}

static void matches_a_model_under_random_operations(void **state)
{
    (void)state;
    srand(7);
    for (uint32_t family = 0; family < FAMILIES; family++) {
        hashmap m;
        assert_int_equal(hashmap_init(&m, 4), 0);
        int64_t model[KEYS];
        for (int i = 0; i < KEYS; i++) model[i] = -1;
        for (int step = 0; step < 20000; step++) {
            uint32_t i = (uint32_t)rand() % KEYS;
            uint8_t key[32];
            key_of(family, i, key);
            int op = rand() % 3;
            if (op == 0) {
                uint32_t v = (uint32_t)rand();
                assert_int_equal(hashmap_put(&m, key, v), 0);
                model[i] = v;
            } else if (op == 1) {
                assert_int_equal(hashmap_remove(&m, key), model[i] >= 0);
                model[i] = -1;
            } else {
                uint32_t v = 0;
                int found = hashmap_get(&m, key, &v);
                assert_int_equal(found, model[i] >= 0);
                if (found) assert_int_equal(v, (uint32_t)model[i]);
            }
        }
        size_t live = 0;
        for (uint32_t i = 0; i < KEYS; i++) {
            uint8_t key[32];
            key_of(family, i, key);
            assert_int_equal(hashmap_get(&m, key, NULL), model[i] >= 0);
            live += model[i] >= 0;
        }
        assert_int_equal(m.len, live);
        hashmap_free(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(matches_a_model_under_random_operations)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

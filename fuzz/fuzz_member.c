/* libFuzzer target: arbitrary bytes, cut into messages, fed to a member of a committee of 4
 * as if from its peers. The member must never crash, leak or read out of bounds; every
 * message is either used or dropped and counted. Build with `make fuzz`; run
 * ./build-fuzz/fuzz/fuzz_member -max_total_time=60. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aleph/aleph.h"

static aleph_secret secrets[4];
static uint8_t pks[4][32], vks[4][32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        uint8_t seed[32] = {9};
        if (aleph_keys_deal(4, seed, secrets, pks, vks) != 0) abort();
        ready = 1;
    }
    aleph_config cfg;
    aleph_config_defaults(&cfg);
    cfg.members = 4;
    cfg.session = 1;
    cfg.coin_mode = size > 0 ? (aleph_coin_mode)(data[0] % 3) : ALEPH_COIN_OFF;
    cfg.sign_public_keys = (const uint8_t(*)[32])pks;
    cfg.coin_verification_keys = (const uint8_t(*)[32])vks;
    cfg.unit_bytes_max = 4096;
    cfg.tx_bytes_max = 512;
    cfg.pool_bytes_max = 8192;
    aleph_member *m = aleph_member_new(&cfg, &secrets[0], NULL);
    if (!m) abort();
    uint64_t now = 0;
    /* Each message: 1 byte sender, 2 bytes length, then that many bytes. */
    size_t off = size > 0 ? 1 : 0;
    while (off + 3 <= size) {
        uint32_t from = data[off] % 5; /* 4 is outside the committee */
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (len > size - off) len = size - off;
        aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = now += 7, .from = from,
                          .data = data + off, .len = len};
        aleph_update up;
        aleph_member_step(m, &ev, &up);
        off += len;
    }
    aleph_member_free(m);
    return 0;
}

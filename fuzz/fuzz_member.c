/* libFuzzer target: arbitrary bytes, cut into messages, fed to a member of a committee of 4
 * as if from its peers. The member must never crash, leak or read out of bounds; every
 * message is either used or dropped and counted. Build with `make fuzz`; run
 * ./build-fuzz/fuzz/fuzz_member -max_total_time=60.
 *
 * Input: one mode byte (bits 0-1: coin mode off, test, threshold; bit 2: the member is an
 * observer, which takes units of its own index like any other), then messages, each 1 byte
 * sender, u16 length, that many bytes. The committee is the seed corpus's simulator run
 * (fuzz_support.h), so its real units pass the signature check: scripts/fuzz-corpus.sh
 * writes single messages and the run's units in the order sent (the DAG growing, ordered
 * batch by batch) to an observer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aleph/aleph.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t mode = size > 0 ? data[0] : 0;
    aleph_config cfg;
    aleph_secret secret;
    fuzz_sim_committee(&cfg, &secret, 0, (aleph_coin_mode)((mode & 3) % 3));
    cfg.observer = (mode >> 2) & 1;
    aleph_member *m = aleph_member_new(&cfg, &secret, NULL);
    if (!m) abort();
    uint64_t now = 0;
    size_t off = size > 0 ? 1 : 0;
    while (off + 3 <= size) {
        uint32_t from = data[off] % (FUZZ_SIM_MEMBERS + 1); /* 4 is outside the committee */
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (len > size - off) len = size - off;
        aleph_event ev = {.kind = ALEPH_EVENT_MESSAGE, .now_ms = now += 7, .from = from,
                          .data = data + off, .len = len};
        aleph_update up;
        aleph_member_step(m, &ev, &up);
        fuzz_update_check(&up);
        off += len;
    }
    aleph_member_free(m);
    return 0;
}

/* libFuzzer target: the unit and message decoders on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "message.h"
#include "unit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The committee of the seed corpus (scripts/fuzz-corpus.sh: N = 4, threshold coin); the
     * session is the input's own (bytes 1..8) unless the size is a multiple of 4, so that
     * real units decode and the other-session check stays reachable. */
    uint64_t session = 1;
    if (size >= 9 && size % 4 != 0) {
        session = 0;
        for (int i = 0; i < 8; i++) session |= (uint64_t)data[1 + i] << (8 * i);
    }
    unit_limits lim = {.session = session, .members = 4, .quorum = 3, .payload_bytes_max = 1024,
                       .coin_share_required = size % 8 != 5};
    unit_wire w;
    if (!unit_decode(data, size, &lim, &w)) {
        /* A decoded unit's fields lie inside the input. */
        if (w.payload + w.payload_len > data + size || w.signed_len + 64 != size) abort();
        for (uint32_t i = 0; i < w.parents_len; i++) {
            uint32_t c, r;
            unit_wire_parent(&w, i, &c, &r);
            if (c >= 4 || r >= w.round) abort();
        }
    }
    message msg;
    (void)message_decode(data, size, 4, &msg);
    return 0;
}

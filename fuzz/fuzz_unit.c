/* libFuzzer target: the unit and message decoders on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "message.h"
#include "unit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unit_limits lim = {.session = 1, .members = 7, .quorum = 5, .payload_bytes_max = 1024,
                       .coin_share_required = size & 1};
    unit_wire w;
    if (!unit_decode(data, size, &lim, &w)) {
        /* A decoded unit's fields lie inside the input. */
        if (w.payload + w.payload_len > data + size || w.signed_len + 64 != size) abort();
        for (uint32_t i = 0; i < w.parents_len; i++) {
            uint32_t c, r;
            unit_wire_parent(&w, i, &c, &r);
            if (c >= 7 || r >= w.round) abort();
        }
    }
    message msg;
    (void)message_decode(data, size, 7, &msg);
    return 0;
}

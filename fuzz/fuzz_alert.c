/* libFuzzer target: the fork alert and certificate decoders (alert_wire.c) on arbitrary
 * bytes. A decoded alert's parts lie inside the input, its proof units are the forker's, of
 * one round and different; a decoded certificate's signers are ascending and inside the
 * committee, with at least a quorum of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The committee of the seed corpus (N = 4, threshold coin); the session is that of the
     * first proof unit (input bytes 9..16) unless the size is a multiple of 4. */
    uint64_t session = 1;
    if (size >= 17 && size % 4 != 0) {
        session = 0;
        for (int i = 0; i < 8; i++) session |= (uint64_t)data[9 + i] << (8 * i);
    }
    unit_limits lim = {.session = session, .members = 4, .quorum = 3, .payload_bytes_max = 1024,
                       .coin_share_required = size % 8 != 5};
    alert_wire w;
    if (!alert_decode(data, size, &lim, &w)) {
        if (w.sender >= 4 || w.forker >= 4) abort();
        if (w.a.creator != w.forker || w.b.creator != w.forker || w.a.round != w.b.round) abort();
        if (memcmp(w.a_hash, w.b_hash, 32) == 0) abort();
        if (w.commit_count > ALERT_COMMITS_MAX) abort();
        if (w.commits + 32 * (size_t)w.commit_count > data + size) abort();
        if (w.signed_len + 64 != size) abort();
    }
    cert_wire c;
    if (!cert_decode(data, size, 4, 3, &c)) {
        if (c.count < 3 || c.count > 4) abort();
        for (uint32_t i = 1; i < c.count; i++)
            if (cert_signer(&c, i) <= cert_signer(&c, i - 1) || cert_signer(&c, i) >= 4) abort();
    }
    return 0;
}

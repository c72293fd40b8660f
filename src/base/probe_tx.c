/* The probe transaction that load generators send and analysis reads back. */
#include "probe_tx.h"

#include <string.h>

#include "util.h"

/* Padding: a fixed pseudo-random pattern (copied, not computed per byte). */
static uint8_t padding[4096];
static int padding_ready;

void probe_tx_fill(uint8_t *tx, uint32_t size, uint64_t send_ns, uint64_t seq,
                     uint32_t client_id)
{
    if (!padding_ready) {
        for (size_t i = 0; i < sizeof padding; i++) padding[i] = (uint8_t)(i * 131u + 17u);
        padding_ready = 1;
    }
    le64_put(tx, send_ns);
    le64_put(tx + 8, seq);
    le32_put(tx + 16, client_id);
    for (uint32_t off = PROBE_TX_BYTES_MIN; off < size;) {
        uint32_t n = size - off < sizeof padding ? size - off : (uint32_t)sizeof padding;
        memcpy(tx + off, padding, n);
        off += n;
    }
}

int probe_tx_parse(const uint8_t *tx, size_t len, uint64_t *send_ns, uint64_t *seq,
                     uint32_t *client_id)
{
    if (len < PROBE_TX_BYTES_MIN) return 0;
    *send_ns = le64_get(tx);
    *seq = le64_get(tx + 8);
    *client_id = le32_get(tx + 16);
    return 1;
}

/* The probe transaction: what load generators send and analysis reads back. A probe of S bytes
 * (S >= PROBE_TX_BYTES_MIN) is
 *   u64 send time (CLOCK_REALTIME ns) | u64 sequence number | u32 client id | padding
 * all little-endian; (client id, sequence) names every transaction once. */
#ifndef ALEPH_BASE_PROBE_TX_H
#define ALEPH_BASE_PROBE_TX_H

#include <stddef.h>
#include <stdint.h>

#define PROBE_TX_BYTES_MIN 20u

/* Fills a probe of `size` bytes. */
void probe_tx_fill(uint8_t *tx, uint32_t size, uint64_t send_ns, uint64_t seq, uint32_t client_id);
/* Reads one back; 0 when it is too short to be a probe. */
int probe_tx_parse(const uint8_t *tx, size_t len, uint64_t *send_ns, uint64_t *seq,
                   uint32_t *client_id);

#endif

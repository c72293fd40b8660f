/* libFuzzer target: the output file reader (src/node/output.c: output_tail), which `aleph
 * local`, `aleph analyze` and the tests run on members' output files, as those files grow.
 * Whatever the bytes, nothing crashes or reads outside what it holds (every payload byte
 * handed over is read here), and reading the file while it grows in pieces hands over the
 * same batches, and finds the same corruption, as reading it whole.
 *
 * Input: byte 0: the size of the pieces the file grows by ((byte 0 + 1) * 64); the rest is the
 * file. The seed corpus (scripts/fuzz-corpus.sh) is the start of real output files of an
 * `aleph local` run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "node/output.h"

typedef struct digest {
    uint64_t batches, units, sum;
} digest;

static void on_batch(void *ctx, const output_batch_view *b, const output_unit_view *units)
{
    digest *d = ctx;
    d->batches++;
    d->sum = d->sum * 31 + b->round * 7 + b->head_creator + b->head_hash[0] + b->head_hash[31];
    /* A batch written in chain mode counts its units but does not carry them (units is NULL). */
    if (!b->has_units) {
        d->sum = d->sum * 31 + b->units + b->chain[0] + b->chain[31];
        return;
    }
    for (uint32_t i = 0; i < b->units; i++) {
        d->units++;
        d->sum = d->sum * 31 + units[i].round + units[i].creator + units[i].hash[0] +
                 units[i].hash[31];
        for (uint32_t k = 0; k < units[i].payload_len; k++) d->sum += units[i].payload[k];
    }
}

/* Reads the file at path as it is: the batches' digest, 1 when it is corrupt. */
static int read_all(const char *path, digest *d, uint64_t *consumed)
{
    output_tail t;
    if (output_tail_open(&t, path) != 0) abort();
    int corrupt = output_tail_poll(&t, on_batch, d) < 0;
    *consumed = t.consumed;
    output_tail_close(&t);
    return corrupt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t piece = ((size_t)data[0] + 1) * 64;
    const uint8_t *file = data + 1;
    size_t len = size - 1;
    digest whole = {0}, grown = {0};
    uint64_t whole_consumed, grown_consumed;
    const char *path = fuzz_file_write("output.bin", file, len);
    int whole_corrupt = read_all(path, &whole, &whole_consumed);

    /* The same bytes appended piece by piece, polled after each. */
    path = fuzz_file_write("output.bin", file, 0);
    output_tail t;
    if (output_tail_open(&t, path) != 0) abort();
    FILE *w = fopen(path, "ab");
    if (!w) abort();
    int grown_corrupt = 0;
    for (size_t off = 0; off < len && !grown_corrupt;) {
        size_t n = len - off < piece ? len - off : piece;
        if (fwrite(file + off, 1, n, w) != n || fflush(w) != 0) abort();
        off += n;
        grown_corrupt = output_tail_poll(&t, on_batch, &grown) < 0;
    }
    if (!grown_corrupt && len == 0) grown_corrupt = output_tail_poll(&t, on_batch, &grown) < 0;
    /* Once corrupt, it stays so. */
    if (grown_corrupt && output_tail_poll(&t, on_batch, &grown) >= 0) abort();
    grown_consumed = t.consumed;
    fclose(w);
    output_tail_close(&t);
    if (grown_corrupt != whole_corrupt || grown.batches != whole.batches ||
        grown.units != whole.units || grown.sum != whole.sum || grown_consumed != whole_consumed)
        abort();
    if (whole_consumed > len) abort();
    return 0;
}

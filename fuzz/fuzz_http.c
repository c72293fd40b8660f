/* libFuzzer target: the metrics port's GET parser (net/http_get.c) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_get.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_get_request req;
    http_parse_result r = http_get_parse(data, size, &req);
    if (r == HTTP_PARSE_DONE) {
        /* A parsed path is a bounded absolute path inside the input's head. */
        size_t len = strnlen(req.path, sizeof req.path);
        if (len == sizeof req.path || req.path[0] != '/' || req.head_len > size ||
            req.head_len > HTTP_REQUEST_BYTES_MAX)
            abort();
    } else if (r == HTTP_PARSE_BAD) {
        if (req.status < 400 || req.status > 505 || !req.error) abort();
    } else if (r != HTTP_PARSE_MORE || size >= HTTP_REQUEST_BYTES_MAX) {
        abort(); /* the limit is never waited past */
    }
    return 0;
}

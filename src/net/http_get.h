/* A strictly bounded HTTP/1.x GET request parser: the metrics port's only decoder of network
 * input (http_server.c). It reads the request line and the header lines of one request and
 * nothing else: no bodies, no chunked encoding, no continuation lines, no keep-alive. Anything
 * outside that is an error with the status to answer, never a crash: the head is at most
 * HTTP_REQUEST_BYTES_MAX bytes, the path at most HTTP_PATH_BYTES_MAX. fuzz/fuzz_http.c. */
#ifndef ALEPH_NET_HTTP_GET_H
#define ALEPH_NET_HTTP_GET_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_REQUEST_BYTES_MAX 4096u
#define HTTP_PATH_BYTES_MAX 256u

typedef enum http_parse_result {
    HTTP_PARSE_MORE = 0,  /* no error so far; the head is not complete yet */
    HTTP_PARSE_DONE = 1,  /* a complete GET request: path filled */
    HTTP_PARSE_BAD = -1,  /* a request to refuse: status filled (400, 405, 414, 431, 505) */
} http_parse_result;

typedef struct http_get_request {
    char path[HTTP_PATH_BYTES_MAX + 1]; /* the target up to '?', NUL-terminated */
    int status;                         /* BAD: the status to answer */
    const char *error;                  /* BAD: a static description */
    size_t head_len;                    /* DONE: bytes of the head, final CRLF CRLF included */
} http_get_request;

/* Parses the first len bytes received on a connection (call again with more bytes on MORE). */
http_parse_result http_get_parse(const uint8_t *buf, size_t len, http_get_request *out);

/* The reason phrase for the statuses the metrics port answers ("Unknown" otherwise). */
const char *http_status_text(int status);

#endif

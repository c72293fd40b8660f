#include "http_get.h"

#include <string.h>
#include <strings.h>

static http_parse_result bad(http_get_request *out, int status, const char *error)
{
    out->status = status;
    out->error = error;
    return HTTP_PARSE_BAD;
}

static int is_tchar(uint8_t c)
{
    /* RFC 9110 token characters */
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The request line: METHOD SP target SP HTTP/1.x, line end excluded. */
static http_parse_result parse_request_line(const uint8_t *p, size_t len, http_get_request *out)
{
    size_t i = 0;
    while (i < len && is_tchar(p[i])) i++;
    if (i == 0 || i == len || p[i] != ' ') return bad(out, 400, "malformed request line");
    int is_get = i == 3 && memcmp(p, "GET", 3) == 0;
    size_t t0 = ++i;
    while (i < len && p[i] > 0x20 && p[i] < 0x7f) i++;
    size_t target_len = i - t0;
    if (i == len || p[i] != ' ' || target_len == 0) return bad(out, 400, "malformed request line");
    if (!is_get) return bad(out, 405, "only GET is served");
    if (p[t0] != '/') return bad(out, 400, "request target is not an absolute path");
    if (target_len > HTTP_PATH_BYTES_MAX) return bad(out, 414, "request target too long");
    size_t v0 = i + 1;
    if (len - v0 != 8 || memcmp(p + v0, "HTTP/1.", 7) != 0)
        return bad(out, len - v0 >= 5 && memcmp(p + v0, "HTTP/", 5) == 0 ? 505 : 400,
                   "not HTTP/1.0 or HTTP/1.1");
    if (p[v0 + 7] != '0' && p[v0 + 7] != '1') return bad(out, 505, "not HTTP/1.0 or HTTP/1.1");
    size_t path_len = 0;
    while (path_len < target_len && p[t0 + path_len] != '?') path_len++;
    memcpy(out->path, p + t0, path_len);
    out->path[path_len] = '\0';
    return HTTP_PARSE_DONE;
}

/* One header line (line end excluded): name ":" value, with no body announced. */
static http_parse_result parse_header_line(const uint8_t *p, size_t len, http_get_request *out)
{
    size_t i = 0;
    while (i < len && is_tchar(p[i])) i++;
    if (i == 0 || i == len || p[i] != ':') return bad(out, 400, "malformed header line");
    size_t name_len = i;
    for (size_t k = i + 1; k < len; k++)
        if ((p[k] < 0x20 && p[k] != '\t') || p[k] == 0x7f)
            return bad(out, 400, "control character in a header value");
    if (name_len == 17 && strncasecmp((const char *)p, "transfer-encoding", 17) == 0)
        return bad(out, 400, "a GET with a body");
    if (name_len == 14 && strncasecmp((const char *)p, "content-length", 14) == 0) {
        size_t k = i + 1;
        while (k < len && (p[k] == ' ' || p[k] == '\t')) k++;
        if (len - k != 1 || p[k] != '0') return bad(out, 400, "a GET with a body");
    }
    return HTTP_PARSE_DONE;
}

http_parse_result http_get_parse(const uint8_t *buf, size_t len, http_get_request *out)
{
    memset(out, 0, sizeof *out);
    size_t line_start = 0, line_no = 0;
    size_t scan_len = len < HTTP_REQUEST_BYTES_MAX ? len : HTTP_REQUEST_BYTES_MAX;
    for (size_t i = 0; i < scan_len; i++) {
        if (buf[i] == '\r') {
            if (i + 1 == scan_len) break; /* the LF may follow */
            if (buf[i + 1] != '\n') return bad(out, 400, "CR without LF");
            continue;
        }
        if (buf[i] != '\n') continue;
        if (i == 0 || buf[i - 1] != '\r') return bad(out, 400, "LF without CR");
        size_t line_len = i - 1 - line_start;
        const uint8_t *line = buf + line_start;
        http_parse_result r;
        if (line_no == 0) {
            r = parse_request_line(line, line_len, out);
        } else if (line_len == 0) {
            out->head_len = i + 1;
            return HTTP_PARSE_DONE;
        } else if (line[0] == ' ' || line[0] == '\t') {
            return bad(out, 400, "obsolete line folding");
        } else {
            r = parse_header_line(line, line_len, out);
        }
        if (r != HTTP_PARSE_DONE) return r;
        line_no++;
        line_start = i + 1;
    }
    if (len >= HTTP_REQUEST_BYTES_MAX)
        return bad(out, line_no == 0 ? 414 : 431, "request head too large");
    if (line_no == 0 && len - line_start > 16 + HTTP_PATH_BYTES_MAX + 10)
        return bad(out, 414, "request line too long"); /* longer than any line we could serve */
    return HTTP_PARSE_MORE;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

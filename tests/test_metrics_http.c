/* The metrics port's decoders and writers: the bounded GET parser (net/http_get.c) on good,
 * partial and hostile requests, and the Prometheus text of metrics_text.c and metrics.c
 * (cumulative buckets, escaped labels, drop reasons counted and bounded).
 * Checked to fail: with parse_header_line's Content-Length check removed the body case
 * fails; with histogram buckets not cumulative the bucket assertions fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http_get.h"
#include "node/metrics.h"
#include "node/metrics_text.h"

static http_parse_result parse(const char *text, http_get_request *req)
{
    return http_get_parse((const uint8_t *)text, strlen(text), req);
}

static void a_get_parses_and_every_prefix_asks_for_more(void **state)
{
    (void)state;
    const char *req_text = "GET /metrics?x=1 HTTP/1.1\r\nHost: a:9\r\nAccept: */*\r\n\r\n";
    http_get_request req;
    assert_int_equal(parse(req_text, &req), HTTP_PARSE_DONE);
    assert_string_equal(req.path, "/metrics");
    assert_int_equal(req.head_len, strlen(req_text));
    for (size_t n = 0; n < strlen(req_text); n++)
        assert_int_equal(http_get_parse((const uint8_t *)req_text, n, &req), HTTP_PARSE_MORE);
    assert_int_equal(parse("GET /health HTTP/1.0\r\n\r\n", &req), HTTP_PARSE_DONE);
    assert_string_equal(req.path, "/health");
}

static void expect_bad(const char *text, int status)
{
    http_get_request req;
    assert_int_equal(parse(text, &req), HTTP_PARSE_BAD);
    assert_int_equal(req.status, status);
    assert_non_null(req.error);
}

static void hostile_requests_get_a_status(void **state)
{
    (void)state;
    expect_bad("POST /metrics HTTP/1.1\r\n\r\n", 405);
    expect_bad("GET /metrics HTTP/2.0\r\n\r\n", 505);
    expect_bad("GET /metrics SPDY/1\r\n\r\n", 400);
    expect_bad("GET metrics HTTP/1.1\r\n\r\n", 400);
    expect_bad("GET  /metrics HTTP/1.1\r\n\r\n", 400);
    expect_bad("GET /metrics HTTP/1.1\n\n", 400);
    expect_bad("GET /metrics HTTP/1.1\rX\r\n\r\n", 400);
    expect_bad("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 400);
    expect_bad("GET /metrics HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n", 400);
    expect_bad("GET /metrics HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400);
    expect_bad("GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n", 400);
    expect_bad("GET /metrics HTTP/1.1\r\nA: b\x01\r\n\r\n", 400);
    http_get_request req;
    const uint8_t nul[] = "GET /m\0 HTTP/1.1\r\n\r\n";
    assert_int_equal(http_get_parse(nul, sizeof nul - 1, &req), HTTP_PARSE_BAD);
    /* Content-Length: 0 is no body. */
    assert_int_equal(parse("GET /m HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &req), HTTP_PARSE_DONE);
}

static void sizes_are_bounded(void **state)
{
    (void)state;
    char *big = malloc(HTTP_REQUEST_BYTES_MAX + 64);
    assert_non_null(big);
    /* A path over the limit. */
    int n = snprintf(big, HTTP_REQUEST_BYTES_MAX, "GET /");
    memset(big + n, 'a', HTTP_PATH_BYTES_MAX);
    strcpy(big + n + HTTP_PATH_BYTES_MAX, " HTTP/1.1\r\n\r\n");
    expect_bad(big, 414);
    /* A request line that never ends. */
    memset(big, 'a', 600);
    memcpy(big, "GET /", 5);
    http_get_request req;
    assert_int_equal(http_get_parse((const uint8_t *)big, 600, &req), HTTP_PARSE_BAD);
    assert_int_equal(req.status, 414);
    /* Headers that never end: 431 at the head limit, never more than it read. */
    n = snprintf(big, 64, "GET / HTTP/1.1\r\n");
    for (size_t i = (size_t)n; i < HTTP_REQUEST_BYTES_MAX + 64; i++) big[i] = i % 20 ? 'x' : ':';
    assert_int_equal(http_get_parse((const uint8_t *)big, HTTP_REQUEST_BYTES_MAX + 64, &req),
                     HTTP_PARSE_BAD);
    assert_int_equal(req.status, 431);
    free(big);
}

static void histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    const double bounds[] = {0.1, 1, 10};
    histogram h;
    histogram_init(&h, bounds, 3);
    histogram_observe(&h, 0.05);
    histogram_observe(&h, 0.1);
    histogram_observe(&h, 0.5);
    histogram_observe(&h, 100);
    text_buf t = {0};
    metrics_histogram(&t, "x_seconds", "help", &h);
    assert_false(t.failed);
    assert_non_null(strstr(t.data, "# TYPE x_seconds histogram\n"));
    assert_non_null(strstr(t.data, "x_seconds_bucket{le=\"0.1\"} 2\n"));
    assert_non_null(strstr(t.data, "x_seconds_bucket{le=\"1\"} 3\n"));
    assert_non_null(strstr(t.data, "x_seconds_bucket{le=\"10\"} 3\n"));
    assert_non_null(strstr(t.data, "x_seconds_bucket{le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(t.data, "x_seconds_count 4\n"));
    free(t.data);
}

static void labels_are_escaped_and_drop_reasons_bounded(void **state)
{
    (void)state;
    text_buf t = {0};
    metrics_sample_u64(&t, "y_total", "reason", "a \"b\" \\ c\nd", 7);
    assert_string_equal(t.data, "y_total{reason=\"a \\\"b\\\" \\\\ c\\nd\"} 7\n");
    free(t.data);

    node_metrics m;
    node_metrics_init(&m);
    static char reasons[METRICS_DROP_REASONS_MAX + 5][32];
    for (uint32_t i = 0; i < METRICS_DROP_REASONS_MAX + 5; i++) {
        snprintf(reasons[i], sizeof reasons[i], "reason %u", i);
        aleph_notice n = {.kind = ALEPH_NOTICE_DROPPED, .reason = reasons[i]};
        node_metrics_notice(&m, &n);
        node_metrics_notice(&m, &n);
    }
    aleph_notice halt = {.kind = ALEPH_NOTICE_HALT, .reason = "x"};
    node_metrics_notice(&m, &halt);
    assert_int_equal(m.drops_len, METRICS_DROP_REASONS_MAX);
    assert_int_equal(m.drops[3].count, 2);
    assert_int_equal(m.drops_other, 10);
    assert_int_equal(m.halts, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_get_parses_and_every_prefix_asks_for_more),
        cmocka_unit_test(hostile_requests_get_a_status),
        cmocka_unit_test(sizes_are_bounded),
        cmocka_unit_test(histogram_buckets_are_cumulative),
        cmocka_unit_test(labels_are_escaped_and_drop_reasons_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

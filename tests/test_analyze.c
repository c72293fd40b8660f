/* `aleph analyze` on recorded runs (tests/data/analyze/run4, written by make_fixture.py there):
 * every expected figure is counted here from the fixture's design, not by the analyzer's
 * code; broken and truncated log lines are counted and skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aleph/aleph.h"
#include "cli/commands.h"
#include "measure/logscan.h"

/* The fixture's design (make_fixture.py). */
#define N 4
#define ROUNDS 10
#define TX_SIZE 32
static const int64_t T0_MS = 1700000000000ll;
static const int DEPTHS[ROUNDS] = {2, 2, 3, 2, 4, 2, 2, 5, 2, 2};
/* The steady window of run.json: [T0 + 1 s, T0 + 9 s). */
static int in_window(int64_t ms)
{
    return ms >= T0_MS + 1000 && ms < T0_MS + 9000;
}

static char fixture[4096];

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank on the sorted values: index round(p/100 * (n-1)). */
static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = (size_t)floor(p / 100.0 * (double)(n - 1) + 0.5);
    return v[k];
}

static double mean(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return s / (double)n;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int analyze(const char *target, const char *out)
{
    char *argv[] = {"analyze", (char *)target, "--json", "--no-plots", "--out", (char *)out, NULL};
    fflush(stdout);
    return command_analyze(6, argv);
}

static json_t *load_summary(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) fail_msg("%s: %s", path, e.text);
    return j;
}

static double num(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_number(v)) fail_msg("summary.json has no number %s", key);
    return json_number_value(v);
}

static double sub(json_t *j, const char *obj, const char *key)
{
    return num(json_object_get(j, obj), key);
}

#define assert_near(a, b, eps)                                                                \
    do {                                                                                      \
        double a_ = (a), b_ = (b);                                                            \
        if (fabs(a_ - b_) > (eps)) fail_msg("%s = %g, expected %g", #a, a_, b_);              \
    } while (0)

static void test_run_directory(void **state)
{
    char out[] = "/tmp/aleph-test-analyze.XXXXXX";
    assert_non_null(mkdtemp(out));
    assert_int_equal(analyze(fixture, out), 0);
    json_t *j = load_summary(out);

    assert_true(json_is_true(json_object_get(j, "agreement")));
    assert_true(json_is_true(json_object_get(j, "exactly_once")));
    assert_int_equal((int)num(j, "members"), N);
    assert_string_equal(json_string_value(json_object_get(j, "network")), "loopback");

    /* throughput: member 0's batches output inside the window, 2 tx per creator each */
    int batches_in = 0;
    for (int r = 0; r < ROUNDS; r++) batches_in += in_window(T0_MS + r * 1000 + 500);
    double window_s = 8.0;
    assert_near(num(j, "throughput_tx_s"), batches_in * 2 * N / window_s, 0.05);
    assert_near(num(j, "throughput_mb_s"), batches_in * 2 * N / window_s * TX_SIZE / 1e6, 0.005);
    /* rounds: first and last in-window batch are one second per round apart */
    assert_near(num(j, "rounds_per_s"), 1.0, 0.05);
    assert_near(num(j, "units_per_batch"), N, 0.001);

    /* end to end: own-origin transactions at each member, sent inside the window */
    double lat[ROUNDS * N * 2];
    size_t nl = 0;
    for (int r = 0; r < ROUNDS; r++)
        for (int c = 0; c < N; c++)
            for (int k = 0; k < 2; k++) {
                int64_t out_ms = T0_MS + r * 1000 + 500, l = 100 * (c + 1) + 10 * k;
                if (in_window(out_ms - l)) lat[nl++] = (double)l;
            }
    assert_int_equal((int)num(j, "latency_samples"), (int)nl);
    assert_near(sub(j, "latency_ms", "mean"), mean(lat, nl), 0.05);
    assert_near(sub(j, "latency_ms", "p50"), pct(lat, nl, 50), 0.05);
    assert_near(sub(j, "latency_ms", "p95"), pct(lat, nl, 95), 0.05);
    assert_near(sub(j, "latency_ms", "p99"), pct(lat, nl, 99), 0.05);

    /* consensus: own units ordered (at T0 + r s + 500 ms) inside the window */
    double cons[ROUNDS * N];
    size_t nc = 0;
    for (int m = 0; m < N; m++)
        for (int r = 0; r < ROUNDS; r++)
            if (in_window(T0_MS + r * 1000 + 500)) cons[nc++] = 300 + 10 * m + r;
    assert_near(sub(j, "consensus_latency_ms", "mean"), mean(cons, nc), 0.05);
    assert_near(sub(j, "consensus_latency_ms", "p50"), pct(cons, nc, 50), 0.05);

    /* decision depth at member 0 in the window */
    int d2 = 0, d3 = 0, d4 = 0;
    for (int r = 0; r < ROUNDS; r++) {
        if (!in_window(T0_MS + r * 1000 + 500)) continue;
        if (DEPTHS[r] == 2) d2++;
        else if (DEPTHS[r] == 3) d3++;
        else d4++;
    }
    json_t *dd = json_object_get(j, "decided_depth");
    assert_int_equal((int)num(dd, "2"), d2);
    assert_int_equal((int)num(dd, "3"), d3);
    assert_int_equal((int)num(dd, "4+"), d4);

    /* traffic, memory, CPU from the last stats line (uptime 10 s) */
    double sent = 0;
    for (int m = 0; m < N; m++) sent += 1e6 * (m + 1) / 10.0;
    assert_near(num(j, "bytes_sent_per_member_s"), sent / N, 1);
    assert_near(num(j, "bytes_received_per_member_s"), 2e6 / 10.0, 1);
    assert_near(num(j, "peak_rss_mb"), 10.0 + (N - 1), 0.01);
    assert_near(num(j, "cpu_s_per_member"), (1.0 + 1.5 + 2.0 + 2.5) / N, 0.01);
    assert_int_equal((int)sub(j, "dropped", "send_queue_full"), 3);
    assert_int_equal((int)sub(j, "dropped", "messages_rejected"), 2);

    /* receive delay: 50 + 10 c + t ms on link c -> t, units created inside the window */
    double delay_sum = 0;
    int links = 0;
    for (int c = 0; c < N; c++)
        for (int t = 0; t < N; t++)
            if (c != t) delay_sum += 50 + 10 * c + t, links++;
    int units_in = 0;
    for (int r = 0; r < ROUNDS; r++) units_in += in_window(T0_MS + r * 1000 + 100);
    assert_near(sub(j, "receive_delay_ms", "mean"), delay_sum / links, 0.05);
    assert_near(sub(j, "receive_delay_ms", "link_mean_min"), 50 + 10 * 0 + 1, 0.05);
    assert_near(sub(j, "receive_delay_ms", "link_mean_max"), 50 + 10 * 3 + 2, 0.05);
    assert_int_equal((int)sub(j, "receive_delay_ms", "units"), units_in * links);

    /* lines: per member 1 start + 10 rounds x (created, 3 received, ordered, head) + 2 stats;
     * member 3 has 3 more, all broken */
    int per_member = 1 + ROUNDS * (1 + (N - 1) + 1 + 1) + 2;
    assert_int_equal((int)num(j, "log_lines"), N * per_member + 3);
    assert_int_equal((int)num(j, "log_lines_broken"), 3);
    json_t *pm = json_object_get(j, "per_member");
    assert_int_equal((int)json_array_size(pm), N);
    assert_int_equal((int)num(json_array_get(pm, 3), "log_lines_broken"), 3);
    assert_int_equal((int)num(json_array_get(pm, 0), "log_lines_broken"), 0);
    json_decref(j);

    /* the CSV files: second 3 at member 0 holds batch 3 (8 tx; latencies 100..410) */
    char path[4200], line[512];
    snprintf(path, sizeof path, "%s/series.csv", out);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int rows = 0, found = 0;
    while (fgets(line, sizeof line, f)) {
        rows++;
        if (strncmp(line, "3,", 2) == 0) {
            unsigned offered, ordered;
            double mb, lmean, lp50;
            assert_int_equal(sscanf(line, "3,%u,%u,%lf,%lf,%lf", &offered, &ordered, &mb, &lmean, &lp50), 5);
            assert_int_equal(offered, 8);
            assert_int_equal(ordered, 2 * N);
            assert_near(lmean, 255.0, 0.01); /* (100+110+200+210+300+310+400+410)/8 */
            assert_near(lp50, 300.0, 0.01);  /* nearest rank: index round(3.5) = 4 */
            found = 1;
        }
    }
    fclose(f);
    assert_true(found);
    assert_true(rows >= 1 + ROUNDS);
    const char *files[] = {"members.csv", "traffic.csv", "links.csv", "latency_cdf.csv", "summary.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 0);
    }
    snprintf(path, sizeof path, "%s/links.csv", out);
    f = fopen(path, "r");
    assert_non_null(f);
    rows = 0;
    while (fgets(line, sizeof line, f)) rows++;
    fclose(f);
    assert_int_equal(rows, 1 + links);
    rm_rf(out);
}

static void test_single_log(void **state)
{
    char out[] = "/tmp/aleph-test-analyze.XXXXXX";
    assert_non_null(mkdtemp(out));
    char log[4200];
    snprintf(log, sizeof log, "%s/member-3/node.log", fixture);
    assert_int_equal(analyze(log, out), 0);
    json_t *j = load_summary(out);
    assert_true(json_is_null(json_object_get(j, "agreement"))); /* one output: not checked */
    assert_int_equal((int)num(j, "members"), N);
    assert_int_equal((int)num(j, "log_lines_broken"), 3);
    /* member 3's own units ordered in the window: 330 + r for r = 1..8 */
    double cons[ROUNDS];
    size_t nc = 0;
    for (int r = 0; r < ROUNDS; r++)
        if (in_window(T0_MS + r * 1000 + 500)) cons[nc++] = 330 + r;
    assert_near(sub(j, "consensus_latency_ms", "mean"), mean(cons, nc), 0.05);
    /* its own-origin transactions: 400 and 410 ms */
    assert_near(sub(j, "latency_ms", "mean"), 405.0, 0.05);
    assert_near(num(j, "throughput_tx_s"), 8.0, 0.05);
    assert_near(num(j, "bytes_sent_per_member_s"), 4e6 / 10.0, 1);
    json_decref(j);
    rm_rf(out);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void test_broken_lines_not_fatal(void **state)
{
    char dir[] = "/tmp/aleph-test-analyze.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[4200];
    snprintf(path, sizeof path, "%s/node.log", dir);
    /* garbage only: nothing to analyse, a usage error, no crash */
    const char garbage[] = "\x7f\x45garbage\n{\"ts\":\"2023-11-14T22:13:20.000Z\",\"lev\n\n}{\n";
    write_file(path, garbage, sizeof garbage - 1);
    assert_int_equal(analyze(path, dir), 2);
    /* one good line among broken ones */
    const char mixed[] =
        "{\"ts\":\"2023-11-14T22:13:20.000Z\",\"level\":\"info\",\"member\":0,\"event\":\"node_started\",\"members\":1}\n"
        "not json\n"
        "{\"ts\":\"2023-11-14T22:13:20.100Z\",\"level\":\"info\",\"member\":0,\"event\":\"unit_created\",\"round\":0,\"hash\":\"00112233\"}\n"
        "{\"ts\":\"2023-11-14T22:13:20.200Z\",\"level\":\"info\",\"member\":0,\"event\":\"head_decided\",\"round\":0,\"creator\":0,\"hash\":\"0011223344556677\",\"depth\":2,\"units\":1,\"txs\":5}\n"
        "{\"ts\":\"2023-11-14T22:13:20.300Z\",\"level\":\"info\",\"mem";
    write_file(path, mixed, sizeof mixed - 1);
    assert_int_equal(analyze(path, dir), 0);
    json_t *j = load_summary(dir);
    assert_int_equal((int)num(j, "log_lines"), 5);
    /* "not json", a unit_created with a short hash, the cut last line */
    assert_int_equal((int)num(j, "log_lines_broken"), 3);
    assert_int_equal((int)num(j, "batches"), 1);
    json_decref(j);
    rm_rf(dir);
}

static void test_logscan_line_shapes(void **state)
{
    static const char text[] =
        "{\"ts\":\"2023-11-14T22:13:20.000Z\",\"level\":\"info\",\"member\":2,\"event\":\"unit_created\",\"round\":7,\"hash\":\"0123456789abcdef\"}\n"
        /* unbalanced */
        "{\"ts\":\"2023-11-14T22:13:20.000Z\",\"level\":\"info\",\"member\":2,\"event\":\"unit_created\",\"round\":8,\"hash\":\"0123456789abcdef\"\n"
        /* bad time */
        "{\"ts\":\"2023-11-14 22:13:20\",\"level\":\"info\",\"member\":2,\"event\":\"unit_created\",\"round\":9,\"hash\":\"0123456789abcdef\"}\n"
        /* a string left open */
        "{\"ts\":\"2023-11-14T22:13:20.000Z\",\"level\":\"info\",\"member\":2,\"event\":\"unit_cre}\n"
        /* warn line, counted as a warning */
        "{\"ts\":\"2023-11-14T22:13:21.000Z\",\"level\":\"warn\",\"member\":2,\"event\":\"input_dropped\",\"peer\":1,\"reason\":\"x\"}\n"
        /* unknown events are fine */
        "{\"ts\":\"2023-11-14T22:13:21.500Z\",\"level\":\"info\",\"member\":2,\"event\":\"something_new\",\"x\":[1,{\"y\":2}]}\n"
        /* a NUL inside */
        "{\"ts\":\"2023-11-14T22:13:22.000Z\"\0,\"level\":\"info\"}\n";
    member_log m;
    member_log_parse(&m, text, sizeof text - 1);
    assert_int_equal(m.member, 2);
    assert_int_equal(m.lines, 7);
    assert_int_equal(m.broken, 4);
    assert_int_equal(m.created_len, 1);
    assert_int_equal(m.created[0].round, 7);
    assert_true(m.created[0].hash == 0x0123456789abcdefull);
    assert_int_equal(m.created[0].ts_ms, T0_MS);
    assert_int_equal(m.warn_lines, 1);
    assert_int_equal(m.input_dropped, 1);
    assert_int_equal(m.last_ts_ms, T0_MS + 1500);
    member_log_free(&m);
    assert_int_equal(log_ts_parse_ms("2023-11-14T22:13:20.999Z"), T0_MS + 999);
    assert_int_equal(log_ts_parse_ms("2023-11-14T22:13:2"), -1);
}

int main(void)
{
    if (aleph_init() != 0) return 1;
    char here[4096];
    snprintf(here, sizeof here, "%s", __FILE__);
    snprintf(fixture, sizeof fixture, "%s/data/analyze/run4", dirname(here));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_directory),
        cmocka_unit_test(test_single_log),
        cmocka_unit_test(test_broken_lines_not_fatal),
        cmocka_unit_test(test_logscan_line_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

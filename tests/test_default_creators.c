/*
 * The default-creator schedule (aleph_config.default_creators, docs/PROTOCOL.md
 * "Default-creator schedule"): c(r) = schedule[r mod length] instead of r mod N.
 *   - the core refuses a schedule naming a member outside the committee or too long;
 *   - a run with a schedule (repeats, and a member that crashes) keeps every invariant, the
 *     ordering oracle recomputes every batch with the header's schedule, and the heads are the
 *     scheduled creators' units (checked in the dump, apart from the oracle);
 *   - the schedule derived from the 8-region matrix lists the members whose unit reaches
 *     everyone within their quorum time, and falls back to the best-covering f+1;
 *   - the committee file carries it, hashed into the session id;
 *   - over that matrix the derived schedule decides more heads at d = 2 than r mod N (counts
 *     in virtual time, not a timing claim).
 * Checked to fail: with ordering.c's default creator back to `round % m->n` (the mutant
 * default_creator_ignores_schedule in tests/mutants/list) the oracle reports a divergence in
 * schedule_orders_by_it, and the head count there fails without the oracle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/default_creators.h"
#include "base/keys.h"
#include "base/latency_matrix.h"
#include "cli/commands.h"
#include "sim/sim.h"
#include "sim_oracle.h"
#include "test_support.h"

static void matrix_path(char *buf, size_t len)
{
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    if (slash) snprintf(buf, len, "%.*s/data/aws-8-regions-rtt-ms.tsv", (int)(slash - file), file);
    else snprintf(buf, len, "data/aws-8-regions-rtt-ms.tsv");
}

static void load_matrix(sim_latency_matrix *m)
{
    char path[4096], err[512];
    matrix_path(path, sizeof path);
    if (sim_latency_matrix_load(path, m, err, sizeof err) != 0) fail_msg("%s", err);
}

static void config_check_refuses_bad_schedules(void **state)
{
    (void)state;
    ts_committee c;
    ts_committee_init(&c, 4, ALEPH_COIN_TEST, 1);
    assert_null(aleph_config_check(&c.cfg));
    uint32_t ok[] = {3, 0, 3}, outside[] = {1, 4};
    c.cfg.default_creators = ok;
    c.cfg.default_creators_len = 3;
    assert_null(aleph_config_check(&c.cfg));
    c.cfg.default_creators = outside;
    c.cfg.default_creators_len = 2;
    assert_non_null(aleph_config_check(&c.cfg));
    const char *why = NULL;
    assert_null(aleph_member_new(&c.cfg, &c.secrets[0], &why));
    assert_non_null(why);
    c.cfg.default_creators = NULL;
    assert_non_null(aleph_config_check(&c.cfg));
    uint32_t *long_one = calloc(ALEPH_DEFAULT_CREATORS_MAX + 1, sizeof *long_one);
    assert_non_null(long_one);
    c.cfg.default_creators = long_one;
    c.cfg.default_creators_len = ALEPH_DEFAULT_CREATORS_MAX + 1;
    assert_non_null(aleph_config_check(&c.cfg));
    c.cfg.default_creators_len = ALEPH_DEFAULT_CREATORS_MAX;
    assert_null(aleph_config_check(&c.cfg));
    /* the member keeps its own copy of the schedule */
    aleph_member *m = aleph_member_new(&c.cfg, &c.secrets[0], &why);
    assert_non_null(m);
    long_one[0] = 99;
    aleph_member_free(m);
    free(long_one);
}

/* Member 0's batches in the dump: how many heads are the scheduled creator's unit. */
static uint32_t heads_by_schedule(const char *dir, const uint32_t *sched, uint32_t len,
                                  uint32_t *batches)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/output-0.jsonl", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1 << 16];
    uint32_t matching = 0;
    *batches = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t e;
        json_t *b = json_loads(line, 0, &e);
        assert_non_null(b);
        uint32_t r = (uint32_t)json_integer_value(json_object_get(b, "round"));
        uint32_t creator = (uint32_t)json_integer_value(json_object_get(b, "head_creator"));
        matching += creator == sched[r % len];
        (*batches)++;
        json_decref(b);
    }
    fclose(f);
    return matching;
}

static void schedule_orders_by_it(void **state)
{
    (void)state;
    /* member 6 crashes (honest first, then crashed): its rounds need the coin's order */
    uint32_t sched[] = {5, 2, 6, 2};
    const aleph_coin_mode modes[] = {ALEPH_COIN_THRESHOLD, ALEPH_COIN_OFF};
    for (size_t k = 0; k < 2; k++)
        for (uint64_t seed = 1; seed <= 2; seed++) {
            char dir[] = "/tmp/aleph-schedule-XXXXXX";
            assert_non_null(mkdtemp(dir));
            sim_config c;
            sim_config_defaults(&c);
            c.members = 7;
            c.crashed = 1;
            c.seed = seed;
            c.rounds = 24;
            c.coin_mode = modes[k];
            c.default_creators = sched;
            c.default_creators_len = 4;
            c.dump_dir = dir;
            sim_result r;
            int rc = sim_run_oracle(&c, &r);
            if (rc != 0) fail_msg("%s", r.failure);
            assert_true(r.ok && r.agreement && r.liveness && r.complete);
            uint32_t batches, matching = heads_by_schedule(dir, sched, 4, &batches);
            oracle_remove_dir(dir);
            assert_true(batches >= c.rounds + 1);
            /* all but the crashed member's rounds after its crash, and a few slow ones */
            assert_true(matching * 2 >= batches);
        }
}

static void schedule_from_the_matrix(void **state)
{
    (void)state;
    sim_latency_matrix m;
    load_matrix(&m);
    uint32_t out[ALEPH_MEMBERS_MAX];
    /* us-east-1, us-west-1, us-west-2, ap-northeast-1 */
    uint32_t want8[] = {0, 1, 2, 7}, want16[] = {0, 1, 2, 7, 8, 9, 10, 15};
    assert_int_equal(default_creators_from_matrix(&m, 8, out), 4);
    assert_memory_equal(out, want8, sizeof want8);
    assert_int_equal(default_creators_from_matrix(&m, 16, out), 8);
    assert_memory_equal(out, want16, sizeof want16);
    /* one member, or one region: everyone covers everyone */
    assert_int_equal(default_creators_from_matrix(&m, 1, out), 1);
    static const char one_region[] = "region\ta\na\t0\n";
    static const char far[] = "region\ta\tb\tc\td\n"
                              "a\t0\t80\t120\t100\nb\t80\t0\t20\t100\n"
                              "c\t120\t20\t0\t20\nd\t100\t100\t20\t0\n";
    char err[256];
    assert_int_equal(sim_latency_matrix_parse(one_region, sizeof one_region - 1, "t", &m, err,
                                              sizeof err), 0);
    assert_int_equal(default_creators_from_matrix(&m, 5, out), 5);
    /* only b covers everyone: the best-covering f+1 = 2, b and then a (ties by index) */
    assert_int_equal(sim_latency_matrix_parse(far, sizeof far - 1, "t", &m, err, sizeof err), 0);
    assert_int_equal(default_creators_from_matrix(&m, 4, out), 2);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 1);
}

/* 8 members over the 8-region matrix, seed 2, 40 rounds, with the default-creator schedule
 * sched (NULL: r mod N). */
static sim_config matrix_config(const sim_latency_matrix *m, const uint32_t *sched, uint32_t len)
{
    sim_config c;
    sim_config_defaults(&c);
    c.members = 8;
    c.seed = 2;
    c.rounds = 40;
    c.net.latency.kind = SIM_LATENCY_MATRIX;
    c.net.latency.matrix = m;
    c.default_creators = sched;
    c.default_creators_len = len;
    return c;
}

static void matrix_schedule_decides_more_heads_at_d2(void **state)
{
    (void)state;
    sim_latency_matrix m;
    load_matrix(&m);
    uint32_t sched[8], len = default_creators_from_matrix(&m, 8, sched);
    uint64_t at_d2[2], heads[2];
    for (int with = 0; with < 2; with++) {
        sim_config c = matrix_config(&m, with ? sched : NULL, with ? len : 0);
        sim_result r;
        if (sim_run_oracle(&c, &r) != 0) fail_msg("%s", r.failure);
        assert_true(r.ok);
        at_d2[with] = r.heads_at_depth[0];
        heads[with] = r.heads_at_depth[0] + r.heads_at_depth[1] + r.heads_at_depth[2] +
                      r.heads_at_depth[3];
    }
    assert_true(at_d2[1] * heads[0] > at_d2[0] * heads[1] + heads[0] * heads[1] / 10);
}

/* The wait of the next round's default creator for the last round's late units
 * (head_parent_wait_ms_max, creator.c, docs/PROTOCOL.md "The head's parents"): over the
 * 8-region matrix with the schedule, the far regions' units of round r reach the creator of
 * head(r+1) after its quorum; without the wait they are not below that head and are output a
 * batch later. Virtual time: the machine's load does not matter. Checked to fail: with
 * head_parent_wait() returning 0 both runs output 78 own units late (the assertion fails);
 * with it, 40. */
static void head_parent_wait_outputs_fewer_units_late(void **state)
{
    (void)state;
    sim_latency_matrix m;
    load_matrix(&m);
    uint32_t sched[8], len = default_creators_from_matrix(&m, 8, sched);
    uint64_t late[2], next[2];
    double e2e_mean[2];
    for (int wait = 0; wait < 2; wait++) {
        sim_config c = matrix_config(&m, sched, len);
        c.head_parent_wait_ms = wait ? 30 : 0;
        sim_result r;
        if (sim_run_oracle(&c, &r) != 0) fail_msg("%s", r.failure);
        assert_true(r.ok && r.agreement && r.liveness && r.complete);
        late[wait] = r.own_units_in_batch[2];
        next[wait] = r.own_units_in_batch[1];
        e2e_mean[wait] = r.latency_ms.mean;
    }
    assert_true(late[0] > 0);
    assert_true(3 * late[1] < 2 * late[0]);
    assert_true(next[1] > next[0]);
    assert_true(e2e_mean[1] < e2e_mean[0]);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The committee file carries the schedule and its session id covers it. */
static void committee_file_carries_the_schedule(void **state)
{
    (void)state;
    char dir[] = "/tmp/aleph-schedule-keys-XXXXXX", path[4200], err[KEYS_ERR_MAX];
    assert_non_null(mkdtemp(dir));
    uint32_t sched[] = {3, 1, 3};
    keygen_params p = {.members = 4, .out_dir = dir, .host = "127.0.0.1", .base_port = 62000,
                       .coin_mode = ALEPH_COIN_OFF, .unit_bytes_max = 1u << 20,
                       .default_creators = sched, .default_creators_len = 3};
    assert_int_equal(keygen_write(&p, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/committee.json", dir);
    committee c;
    assert_int_equal(committee_load(path, &c, err, sizeof err), 0);
    assert_int_equal(c.default_creators_len, 3);
    assert_memory_equal(c.default_creators, sched, sizeof sched);
    uint64_t with = c.session;
    c.default_creators_len = 0; /* the same committee without the schedule: another id */
    assert_true(committee_session(&c) != with);
    c.default_creators_len = 3;
    committee_free(&c);
    /* an edited schedule changes the content but not the session: caught */
    char *text = read_text(path), *at = strstr(text, "\"default_creators\"");
    assert_non_null(at);
    char *digit = strchr(at, '3');
    assert_non_null(digit);
    *digit = '2';
    snprintf(path, sizeof path, "%s/edited.json", dir);
    write_text(path, text);
    assert_int_not_equal(committee_load(path, &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "session"));
    /* a member outside the committee */
    *digit = '7';
    write_text(path, text);
    assert_int_not_equal(committee_load(path, &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "default_creators"));
    /* keygen refuses one too */
    sched[1] = 4;
    snprintf(path, sizeof path, "%s/other", dir);
    p.out_dir = path;
    assert_int_not_equal(keygen_write(&p, err, sizeof err), 0);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int cli(const char *args)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "sim %s", args);
    char *argv[64];
    int argc = 0;
    for (char *tok = strtok(buf, " "); tok && argc < 63; tok = strtok(NULL, " ")) argv[argc++] = tok;
    argv[argc] = NULL;
    return command_sim(argc, argv);
}

static void cli_flag(void **state)
{
    (void)state;
    char path[4096], args[4200];
    matrix_path(path, sizeof path);
    assert_int_equal(cli("--members 4 --rounds 8 --default-creators 3,1,3 --quiet"), 0);
    snprintf(args, sizeof args, "--members 8 --rounds 8 --latency matrix:%s "
             "--default-creators matrix --quiet", path);
    assert_int_equal(cli(args), 0);
    assert_int_equal(cli("--members 4 --default-creators 4"), 2);
    assert_int_equal(cli("--members 4 --default-creators matrix"), 2);
    assert_int_equal(cli("--members 4 --default-creators 1,x"), 2);
    assert_int_equal(cli("--members 4 --default-creators ,"), 2);
    assert_int_equal(cli("--members 4 --rounds 60 --adversary 5 --default-creators 1"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_check_refuses_bad_schedules),
        cmocka_unit_test(schedule_orders_by_it),
        cmocka_unit_test(schedule_from_the_matrix),
        cmocka_unit_test(matrix_schedule_decides_more_heads_at_d2),
        cmocka_unit_test(head_parent_wait_outputs_fewer_units_late),
        cmocka_unit_test(committee_file_carries_the_schedule),
        cmocka_unit_test(cli_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

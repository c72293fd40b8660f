/* `aleph sim`: the command line around sim_run(). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "base/keys.h"
#include "base/latency_matrix.h"
#include "sim/sim.h"

static void usage(FILE *out)
{
    fprintf(out,
"usage: aleph sim [OPTIONS]\n"
"\n"
"Runs a committee of real Aleph members (the protocol core) in one process on virtual time,\n"
"over a simulated network, with faulty members, and checks on every run:\n"
"  agreement     every honest or crashed member's output is a prefix of one sequence (units by\n"
"                hash, same head per round, no round skipped);\n"
"  no duplicate  no unit is output twice;\n"
"  completeness  every unit an honest member created before healing (up to the target round)\n"
"                is output by every honest member;\n"
"  liveness      every honest member orders the head of round ROUNDS (the target) within\n"
"                the liveness time limit.\n"
"Members may create units up to round ROUNDS+%u (their rounds_max): a head of round r needs\n"
"units up to r+3 (r+5 when the coin orders the candidates), and a candidate whose votes turned\n"
"unanimous against the fixed common votes of d=3,4 is decided only once a later coin agrees\n"
"(1/2 per round). The slack keeps such a wait from failing a run for want of rounds; a passing\n"
"run stops a few rounds after the target. The run has two phases: the faulty phase (loss,\n"
"partition) lasts until every honest member has created a unit of round ROUNDS/2, or the\n"
"faulty time limit; then the network heals (loss and partition end; duplication, reordering\n"
"and faulty members stay) and the run ends as soon as the checks above are met. One seed\n"
"reproduces a run exactly.\n"
"\n"
"options (defaults in brackets):\n"
"  --members N            committee size, 1..1024 [4]\n"
"  --byzantine F          Byzantine members, the last F indices [0]\n"
"  --byzantine-kind K     crash|silent|forker|garbage|mix [mix]\n"
"                           crash:   honest until it creates its unit of a random round in\n"
"                                    1..ROUNDS/2, then stops (messages in flight still arrive)\n"
"                           silent:  runs, but nothing it sends is delivered\n"
"                           forker:  two instances with the same key and different\n"
"                                    transactions; one's messages go to the first half of the\n"
"                                    committee, the other's to the second half; both receive all\n"
"                           garbage: honest, and every 50 virtual ms sends everyone a hostile\n"
"                                    message (random bytes, cut or bit-flipped units, bad\n"
"                                    signatures, wrong lengths, validly signed units breaking\n"
"                                    the unit rules)\n"
"                           mix:     forker, garbage, silent, crash in turn\n"
"  --crashed C            further members (just before the Byzantine ones) that behave like\n"
"                         crash; their output is checked for agreement [0].\n"
"                         F + C must not exceed f = floor((N-1)/3)\n"
"  --seed S               seed of the run (keys, session, network, faults) [1]\n"
"  --seeds K              run seeds S..S+K-1 and print one aggregate line [1]\n"
"  --rounds R             the target head round, %u..1000000 [40]\n"
"  --latency SPEC         one-way delay of every message [uniform:20:80]\n"
"                           const:MS        always MS\n"
"                           uniform:MIN:MAX uniform in MIN..MAX per message\n"
"                           matrix:FILE     RTT/2 from a region RTT matrix (TSV as in\n"
"                                           tests/data/aws-8-regions-rtt-ms.tsv), member i in\n"
"                                           region i mod K; intra-region 1 ms\n"
"  --loss P               probability that a message to one recipient is lost, faulty\n"
"                         phase only, in [0, 1) [0]\n"
"  --duplicate P          probability that a message arrives twice, in [0, 1] [0]\n"
"  --reorder MS           extra delay uniform in 0..MS per message copy [0]\n"
"  --partition A:B        from virtual ms A to B (or healing, if sooner) a random half of\n"
"                         the committee cannot talk to the other half [none]\n"
"  --coin MODE            threshold|test|off [threshold]\n"
"  --fork-variants K      every forker also signs and sends K further variants of each of\n"
"                         its units, with other payloads (a flood) [0], K <= 10000\n"
"  --txs-per-tick K       transactions (16 B: member, sequence, submit time) submitted to\n"
"                         every live member every 100 virtual ms, until it reaches its\n"
"                         rounds_max; a forker gets at least 1 [1]\n"
"  --round-delay-ms MS    members' minimum time between own units [the core's, 2]\n"
"  --parent-wait-ms MS    members' extra wait for more than a quorum of parents [the\n"
"                         core's, 0]\n"
"  --candidate-wait-ms MS members' extra wait, after a quorum, for the first candidate of\n"
"                         the last round (its default creator's unit) [the core's, 30]\n"
"  --faulty-ms MS         faulty phase limit, virtual ms [30000 + 500*ROUNDS, plus B of\n"
"                         --partition]\n"
"  --liveness-ms MS       time allowed after healing, virtual ms [60000 + 2000*ROUNDS]\n"
"  --adversary R0[:K]     an adversarial scheduler attacks the default candidate of round\n"
"                         R0: it picks which quorum of units reaches each member before\n"
"                         it creates its next unit, to keep the candidate undecided, for\n"
"                         up to K rounds [K = 40]. Member delays are set to 0; every member\n"
"                         must be live (no --byzantine, --crashed); ROUNDS >= R0 + K + 8.\n"
"                         Reports when member 0 output the head of R0 (with --seeds, the\n"
"                         distribution over seeds)\n"
"  --json                 print one JSON object per run (with --seeds, one aggregate\n"
"                         object) instead of the summary block\n"
"  --dump DIR             write the run for outside checks: DIR/header.json, dag.jsonl\n"
"                         (every unit created, forks included), arrivals-<i>.txt (member\n"
"                         i's DAG in arrival order), output-<i>.jsonl (its batches and\n"
"                         election records), coins.jsonl; with --seeds K > 1, DIR/seed-<S>/\n"
"                         per seed. tests/oracle/oracle.py DIR recomputes every batch\n"
"  --quiet                print nothing but failures (and --json output)\n"
"  --verbose              on stderr: when the network heals, how each run ends, and every\n"
"                         member's core statistics at the end of each run\n"
"  --help                 this text\n"
"\n"
"exit status: 0 every run passed, 1 a check failed (the seed and a rerun command are\n"
"printed), 2 usage error.\n",
            SIM_ROUNDS_SLACK, SIM_ROUNDS_MIN);
}

static int usage_error(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "aleph sim: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, " (see aleph sim --help)\n");
    return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, &v) != 0 || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_prob(const char *s, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= 0 && v <= 1)) return -1;
    *out = v;
    return 0;
}

typedef struct cli {
    sim_config cfg;
    uint64_t seeds;
    int json, quiet, verbose;
    sim_latency_matrix *matrix;
} cli;

static int parse_latency(cli *c, const char *spec)
{
    sim_latency *l = &c->cfg.net.latency;
    if (strncmp(spec, "const:", 6) == 0) {
        l->kind = SIM_LATENCY_CONST;
        if (parse_u32(spec + 6, &l->delay_ms_min) != 0)
            return usage_error("--latency: '%s' is not const:MS with MS a whole number%s", spec, "");
        l->delay_ms_max = l->delay_ms_min;
        return 0;
    }
    if (strncmp(spec, "uniform:", 8) == 0) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", spec + 8);
        char *colon = strchr(buf, ':');
        if (!colon) return usage_error("--latency: '%s' is not uniform:MIN:MAX%s", spec, "");
        *colon = '\0';
        l->kind = SIM_LATENCY_UNIFORM;
        if (parse_u32(buf, &l->delay_ms_min) != 0 || parse_u32(colon + 1, &l->delay_ms_max) != 0)
            return usage_error("--latency: '%s' is not uniform:MIN:MAX with whole numbers%s", spec, "");
        if (l->delay_ms_min > l->delay_ms_max)
            return usage_error("--latency: '%s' has MIN above MAX%s", spec, "");
        return 0;
    }
    if (strncmp(spec, "matrix:", 7) == 0) {
        if (!c->matrix && !(c->matrix = malloc(sizeof *c->matrix))) return 2;
        char err[512];
        if (sim_latency_matrix_load(spec + 7, c->matrix, err, sizeof err) != 0)
            return usage_error("--latency: %s%s", err, "");
        l->kind = SIM_LATENCY_MATRIX;
        l->matrix = c->matrix;
        return 0;
    }
    return usage_error("--latency: '%s' is not const:MS, uniform:MIN:MAX or matrix:FILE%s", spec, "");
}

static int parse_args(cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *arg = argv[i], *value = NULL;
        if (strncmp(arg, "--", 2) != 0) return usage_error("unexpected argument '%s'%s", arg, "");
        const char *eq = strchr(arg, '=');
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", arg);
        }
        if (strcmp(name, "--help") == 0 || strcmp(name, "--json") == 0 ||
            strcmp(name, "--quiet") == 0 || strcmp(name, "--verbose") == 0) {
            if (value) return usage_error("%s takes no value%s", name, "");
            if (strcmp(name, "--help") == 0) return -1;
            if (strcmp(name, "--json") == 0) c->json = 1;
            else if (strcmp(name, "--verbose") == 0) c->verbose = 1;
            else c->quiet = 1;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) return usage_error("%s needs a value%s", name, "");
            value = argv[++i];
        }
        sim_config *g = &c->cfg;
        int bad = 0;
        if (strcmp(name, "--members") == 0) bad = parse_u32(value, &g->members);
        else if (strcmp(name, "--byzantine") == 0) bad = parse_u32(value, &g->byzantine);
        else if (strcmp(name, "--crashed") == 0) bad = parse_u32(value, &g->crashed);
        else if (strcmp(name, "--seed") == 0) bad = parse_u64(value, &g->seed);
        else if (strcmp(name, "--seeds") == 0) bad = parse_u64(value, &c->seeds) || c->seeds == 0;
        else if (strcmp(name, "--rounds") == 0) bad = parse_u32(value, &g->rounds);
        else if (strcmp(name, "--reorder") == 0) bad = parse_u32(value, &g->net.reorder_ms);
        else if (strcmp(name, "--txs-per-tick") == 0) bad = parse_u32(value, &g->txs_per_tick);
        else if (strcmp(name, "--fork-variants") == 0)
            bad = parse_u32(value, &g->fork_variants) || g->fork_variants > SIM_FORK_VARIANTS_MAX;
        else if (strcmp(name, "--round-delay-ms") == 0 || strcmp(name, "--parent-wait-ms") == 0 ||
                 strcmp(name, "--candidate-wait-ms") == 0) {
            uint32_t v = 0;
            bad = parse_u32(value, &v) || v > 60000;
            if (name[2] == 'r') g->round_delay_ms = v;
            else if (name[2] == 'p') g->parent_wait_ms = v;
            else g->candidate_wait_ms = v;
        }
        else if (strcmp(name, "--faulty-ms") == 0) bad = parse_u64(value, &g->faulty_ms_max) || !g->faulty_ms_max;
        else if (strcmp(name, "--liveness-ms") == 0) bad = parse_u64(value, &g->liveness_ms_max) || !g->liveness_ms_max;
        else if (strcmp(name, "--loss") == 0) bad = parse_prob(value, &g->net.loss) || g->net.loss >= 1;
        else if (strcmp(name, "--duplicate") == 0) bad = parse_prob(value, &g->net.duplicate);
        else if (strcmp(name, "--dump") == 0) g->dump_dir = *value ? value : NULL, bad = !*value;
        else if (strcmp(name, "--byzantine-kind") == 0) {
            int k = sim_behaviour_parse(value);
            if (k < 0)
                return usage_error("--byzantine-kind: '%s' is not crash, silent, forker, garbage or mix%s", value, "");
            g->byzantine_kind = (sim_behaviour)k;
        } else if (strcmp(name, "--coin") == 0) {
            if (coin_mode_parse(value, 1, &g->coin_mode) != 0) return usage_error("--coin: '%s' is not threshold, test or off%s", value, "");
        } else if (strcmp(name, "--latency") == 0) {
            int rc = parse_latency(c, value);
            if (rc) return rc;
            g->latency_spec = value;
        } else if (strcmp(name, "--adversary") == 0) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", value);
            char *colon = strchr(buf, ':');
            g->adversary_rounds = 40;
            if (colon) {
                *colon = '\0';
                if (parse_u32(colon + 1, &g->adversary_rounds) != 0 || !g->adversary_rounds)
                    return usage_error("--adversary: '%s' is not ROUND[:ROUNDS]%s", value, "");
            }
            if (parse_u32(buf, &g->adversary_round) != 0 || g->adversary_round == 0)
                return usage_error("--adversary: '%s' is not ROUND[:ROUNDS] with ROUND >= 1%s", value, "");
        } else if (strcmp(name, "--partition") == 0) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", value);
            char *colon = strchr(buf, ':');
            if (!colon) return usage_error("--partition: '%s' is not START_MS:END_MS%s", value, "");
            *colon = '\0';
            if (parse_u64(buf, &g->net.partition_start_ms) != 0 ||
                parse_u64(colon + 1, &g->net.partition_end_ms) != 0)
                return usage_error("--partition: '%s' is not START_MS:END_MS with whole numbers%s", value, "");
            if (g->net.partition_start_ms >= g->net.partition_end_ms)
                return usage_error("--partition: '%s' does not start before it ends%s", value, "");
            g->net.partition = 1;
        } else {
            return usage_error("unknown option '%s'%s", name, "");
        }
        if (bad) return usage_error("%s: '%s' is not a valid value", name, value);
    }
    return 0;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Over seeds: how many rounds above r0 member 0 had reached when the head of r0 came out. */
static void print_adversary_distribution(const cli *c, uint32_t *delays)
{
    uint64_t k = c->seeds, never = 0, sum = 0;
    qsort(delays, k, sizeof *delays, compare_u32); /* "never" (UINT32_MAX) sorts last */
    uint32_t histogram[11] = {0};                  /* d = 0..9, and 10 or more */
    for (uint64_t i = 0; i < k; i++) {
        if (delays[i] == UINT32_MAX) {
            never++;
            continue;
        }
        sum += delays[i];
        histogram[delays[i] < 10 ? delays[i] : 10]++;
    }
    uint64_t seen = k - never;
    double mean = seen ? (double)sum / (double)seen : 0;
    long p50 = delays[k / 2] == UINT32_MAX ? -1 : (long)delays[k / 2];
    long p95 = delays[k * 95 / 100] == UINT32_MAX ? -1 : (long)delays[k * 95 / 100];
    uint32_t max = seen ? delays[seen - 1] : 0;
    if (c->json) {
        printf("{\"adversary_round\":%u,\"runs\":%" PRIu64 ",\"head_delay_rounds\":{\"mean\":%.2f,"
               "\"p50\":%ld,\"p95\":%ld,\"max\":%u,\"never\":%" PRIu64 "},\"histogram\":[",
               c->cfg.adversary_round, k, mean, p50, p95, max, never);
        for (int i = 0; i < 11; i++) printf("%s%u", i ? "," : "", histogram[i]);
        printf("]}\n");
        return;
    }
    printf("adversary: rounds d above %u that member 0 had created when it output head(%u), over "
           "%" PRIu64 " seeds (-1: never):\n  mean %.2f (over %" PRIu64 " runs), p50 %ld, p95 %ld, "
           "max %u, never %" PRIu64 "\n  histogram:",
           c->cfg.adversary_round, c->cfg.adversary_round, k, mean, seen, p50, p95, max, never);
    for (int i = 0; i < 11; i++)
        if (histogram[i]) printf(" d%s%d: %u", i == 10 ? ">=" : "=", i, histogram[i]);
    printf("\n");
}

static int run_one(cli *c, sim_config *cfg, sim_result *res, const char *dump_root)
{
    char dir[4096];
    if (dump_root && c->seeds > 1) {
        snprintf(dir, sizeof dir, "%s/seed-%" PRIu64, dump_root, cfg->seed);
        cfg->dump_dir = dir;
    }
    int rc = sim_run(cfg, res);
    cfg->dump_dir = dump_root;
    return rc;
}

int command_sim(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    sim_config_defaults(&c.cfg);
    c.seeds = 1;
    int rc = parse_args(&c, argc, argv);
    if (rc < 0) {
        usage(stdout);
        free(c.matrix);
        return 0;
    }
    if (rc) {
        free(c.matrix);
        return rc;
    }
    char err[512];
    if (sim_config_check(&c.cfg, err, sizeof err)) {
        fprintf(stderr, "aleph sim: %s (see aleph sim --help)\n", err);
        free(c.matrix);
        return 2;
    }
    if (c.cfg.dump_dir && c.seeds > 1 && mkdir(c.cfg.dump_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "aleph sim: --dump: cannot create %s: %s\n", c.cfg.dump_dir, strerror(errno));
        free(c.matrix);
        return 2;
    }
    if (c.verbose) c.cfg.progress = stderr;
    const char *dump_root = c.cfg.dump_dir;
    sim_config cfg = c.cfg;
    uint64_t failures = 0, runs = 0;
    uint64_t *failing = NULL;
    size_t failing_cap = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int exit_code = 0;
    uint32_t *delays = c.cfg.adversary_round ? calloc(c.seeds, sizeof *delays) : NULL;
    for (uint64_t k = 0; k < c.seeds; k++) {
        cfg.seed = c.cfg.seed + k;
        sim_result res;
        int r = run_one(&c, &cfg, &res, dump_root);
        runs++;
        if (delays) delays[k] = res.adversary_head_delay;
        if (r == 2) {
            fprintf(stderr, "aleph sim: %s\n", res.failure);
            free(failing);
            free(c.matrix);
            return 2;
        }
        if (r != 0) {
            failures++;
            exit_code = 1;
            if (failures > failing_cap) {
                failing_cap = failing_cap ? failing_cap * 2 : 16;
                uint64_t *grown = realloc(failing, failing_cap * sizeof *grown);
                if (grown) failing = grown;
            }
            if (failing && failures <= failing_cap) failing[failures - 1] = cfg.seed;
        }
        if (c.seeds == 1) {
            if (c.json) sim_result_print_json(stdout, &cfg, &res);
            else if (!c.quiet || r != 0) sim_result_print(stdout, &cfg, &res);
        } else if (!c.quiet && !c.json) {
            printf("seed %" PRIu64 ": %s  batches %" PRIu64 "  units %" PRIu64
                   "  virtual %.1f s  wall %.2f s\n",
                   cfg.seed, r ? "FAILED" : "ok", res.batches, res.units_ordered,
                   (double)res.end_ms / 1000.0, res.wall_s);
        }
        if (r != 0) {
            char rerun[1024];
            sim_rerun_command(rerun, sizeof rerun, &cfg, cfg.seed);
            fprintf(c.json && c.seeds == 1 ? stderr : stdout,
                    "FAILED seed %" PRIu64 ": %s\nrerun: %s\n", cfg.seed, res.failure, rerun);
        }
        fflush(stdout);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (c.seeds > 1) {
        if (c.json) {
            printf("{\"runs\":%" PRIu64 ",\"failures\":%" PRIu64 ",\"failing_seeds\":[", runs, failures);
            for (uint64_t k = 0; k < failures && failing && k < failing_cap; k++)
                printf("%s%" PRIu64, k ? "," : "", failing[k]);
            printf("],\"seed_first\":%" PRIu64 ",\"wall_s\":%.3f}\n", c.cfg.seed, wall);
        } else {
            printf("sim: runs %" PRIu64 ", failures %" PRIu64 ", failing seeds:", runs, failures);
            if (!failures) printf(" none");
            for (uint64_t k = 0; k < failures && failing && k < failing_cap; k++)
                printf(" %" PRIu64, failing[k]);
            printf(" (seeds %" PRIu64 "..%" PRIu64 ", wall %.1f s)\n", c.cfg.seed,
                   c.cfg.seed + c.seeds - 1, wall);
        }
    }
    if (delays && c.seeds > 1) print_adversary_distribution(&c, delays);
    free(delays);
    free(failing);
    free(c.matrix);
    return exit_code;
}

/* `aleph sim`: the command line around sim_run(). */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "base/keys.h"
#include "base/options.h"
#include "base/default_creators.h"
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
"  completeness  every unit an honest member created (made durable, with a disk) before\n"
"                healing (up to the target round) is output by every honest member;\n"
"  signed once   no honest key signs two units of one round, across restarts;\n"
"  exactly once  no transaction in an own unit made durable (durably confirmed) is output\n"
"                twice, and every one in a unit that completeness covers is output;\n"
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
"  --isolate A:B          from virtual ms A to B member 0 (honest) can neither send nor\n"
"                         receive, healing or not: it falls behind and must catch up [none]\n"
"  --coin MODE            threshold|test|off [threshold]\n"
"  --epoch-rounds E       epochs of E rounds (E >= 4; 0: one endless epoch) [0]; --rounds,\n"
"                         the target and crash rounds then count rounds over all epochs\n"
"                         (epoch * E + round)\n"
"  --epochs-kept K        finished epochs every member keeps to answer members behind\n"
"                         (1..16; 0: the core's default, 3); with --restarts its disk\n"
"                         keeps their backup files too, restored with the newest\n"
"  --epochs-archived A    with a disk (--restarts or --fsync-ms): A more finished\n"
"                         epochs' files kept, loaded into the archive slot when a peer\n"
"                         asks about one (aleph node --epochs-archived) [0]\n"
"  --units-unshared       every member keeps its own copy of each unit (by default the\n"
"                         members share one copy of its encoding and parent list, an\n"
"                         aleph_unit_store; the run is the same either way, only memory\n"
"                         differs)\n"
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
"  --head-parent-wait-ms MS the next round's default creator's extra wait, after a quorum,\n"
"                         for the last round's units that usually come that soon, so that\n"
"                         the next head has them below it [the core's, 0]\n"
"  --default-creators L   the committee's default-creator schedule: c(r) = L[r mod |L|],\n"
"                         L a comma-separated list of members, or 'matrix': derived from\n"
"                         the --latency matrix (the members whose unit reaches everyone\n"
"                         within their quorum time; docs/PROTOCOL.md) [none: r mod N]\n"
"  --faulty-ms MS         faulty phase limit, virtual ms [30000 + 500*ROUNDS, plus B of\n"
"                         --partition]\n"
"  --liveness-ms MS       time allowed after healing, virtual ms [60000 + 2000*ROUNDS]\n"
"  --adversary R0[:K]     an adversarial scheduler attacks the default candidate of round\n"
"                         R0: it picks which quorum of units reaches each member before\n"
"                         it creates its next unit, to keep the candidate undecided, for\n"
"                         up to K rounds [K = 40]. Member delays are set to 0. Faulty\n"
"                         members may only be forkers (--byzantine-kind forker, floods\n"
"                         too; no --crashed): plans use honest units only and hold the\n"
"                         forkers' units back, so with h honest members the scheduler has\n"
"                         h - q units of room (none at N = 4, F = 1: decided at once); the\n"
"                         creator of R0 (R0 mod N) must be honest. ROUNDS >= R0 + K + 8.\n"
"                         Reports when member 0 output the head of R0 (with --seeds, the\n"
"                         distribution over seeds)\n"
"  --restarts K           K crash-restart faults per run [0]: a random honest member crashes\n"
"                         once its own round reaches a random round in 1..ROUNDS/2-1 (0 to\n"
"                         2*FSYNC_MS+1 ms later), loses what its disk had not synced (a random\n"
"                         part of it may survive) and the messages waiting for the sync,\n"
"                         and comes back after --down-ms from its backup with the own check\n"
"                         (aleph_member_restore), or with its backup deleted (own check with\n"
"                         recover); its batches are derived again and checked. A member may\n"
"                         crash more than once, several may be down at once. A backup made\n"
"                         after a deleted one may miss an own unit signed before: the own\n"
"                         check refuses it and the member is restarted with recover, as an\n"
"                         operator would. rounds_max grows by K*(MAX/10+1) (MAX of --down-ms)\n"
"                         so that the others still create when a member comes back far\n"
"                         behind; K <= %u. With --epoch-rounds the disk keeps a file per\n"
"                         epoch (the old one deleted once the new one's start is durable)\n"
"                         and two crashes in three fall at a boundary: once the own round\n"
"                         is within -2..+5 of one, or in the step that moves the member to\n"
"                         the next epoch (0 to 2*FSYNC_MS+1 ms later); a member down longer\n"
"                         than --epochs-kept epochs of the others cannot catch up\n"
"  --backup-lost P        probability that a restart finds its backup deleted [0]; not\n"
"                         with --epoch-rounds (a wiped member restarts in epoch 0)\n"
"  --down-ms MIN:MAX      time down, uniform in MIN..MAX virtual ms [%u:%u]\n"
"  --fsync-ms MS          every honest member gets a simulated disk: what an update persists\n"
"                         becomes durable at a sync taking MS (one at a time; appends during\n"
"                         one wait for the next), and messages after an own unit wait for\n"
"                         its sync, as in aleph node [%u with --restarts, else no disk]\n"
"  --pauses K             K pause faults per run [0]: a random honest member's process stops\n"
"                         (SIGSTOP) at a random virtual ms in 300..1300 and continues\n"
"                         PAUSE_MS later: no steps, its clock stands still, every\n"
"                         message, sync and load for it waits and comes at once when it\n"
"                         continues (the core's resume hold then runs); K <= 1000\n"
"  --pause-ms MS          how long a pause lasts [4000]\n"
"  --restart-bug KIND     testing: a planted bug the checks must catch: no-own-check (restart\n"
"                         without the own check), send-early (messages do not wait for the\n"
"                         sync) or no-carry (with --epoch-rounds, a restart into an epoch's\n"
"                         file leaves its carried transactions out) or no-kept (it restores\n"
"                         the newest epoch's file only, not the finished ones) [none]\n"
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
            SIM_ROUNDS_SLACK, SIM_ROUNDS_MIN, SIM_RESTARTS_MAX, SIM_DOWN_MS_MIN_DEFAULT,
            SIM_DOWN_MS_MAX_DEFAULT, SIM_FSYNC_MS_DEFAULT);
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

typedef struct cli {
    sim_config cfg;
    uint64_t seeds;
    int json, quiet, verbose;
    sim_latency_matrix *matrix;
    /* flags read as text or as numbers and applied after the table (UINT32_MAX: not given) */
    uint32_t round_delay_ms, parent_wait_ms, candidate_wait_ms, head_parent_wait_ms, fsync_ms;
    const char *byzantine_kind, *coin, *adversary, *partition, *isolate, *default_creators,
        *down_ms, *restart_bug;
    uint32_t *creators; /* the schedule cfg.default_creators points to */
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

#define F(field) offsetof(cli, field)
#define WAIT(name, field) {name, OPT_U32, F(field), 0, 60000, NULL, NULL}
static const opt_spec sim_table[] = {
    {"members", OPT_U32, F(cfg.members), 0, UINT32_MAX, NULL, NULL},
    {"byzantine", OPT_U32, F(cfg.byzantine), 0, UINT32_MAX, NULL, NULL},
    {"crashed", OPT_U32, F(cfg.crashed), 0, UINT32_MAX, NULL, NULL},
    {"seed", OPT_U64, F(cfg.seed), 0, (double)UINT64_MAX, NULL, NULL},
    {"seeds", OPT_U64, F(seeds), 1, (double)UINT64_MAX, NULL, NULL},
    {"rounds", OPT_U32, F(cfg.rounds), 0, UINT32_MAX, NULL, NULL},
    {"reorder", OPT_U32, F(cfg.net.reorder_ms), 0, UINT32_MAX, NULL, NULL},
    {"txs-per-tick", OPT_U32, F(cfg.txs_per_tick), 0, UINT32_MAX, NULL, NULL},
    {"epoch-rounds", OPT_U32, F(cfg.epoch_rounds), 0, 1000000, NULL, NULL},
    {"epochs-kept", OPT_U32, F(cfg.epochs_kept), 0, ALEPH_EPOCHS_KEPT_MAX, NULL, NULL},
    {"epochs-archived", OPT_U32, F(cfg.epochs_archived), 0, 1024, NULL, NULL},
    {"fork-variants", OPT_U32, F(cfg.fork_variants), 0, SIM_FORK_VARIANTS_MAX, NULL, NULL},
    WAIT("round-delay-ms", round_delay_ms),
    WAIT("parent-wait-ms", parent_wait_ms),
    WAIT("candidate-wait-ms", candidate_wait_ms),
    WAIT("head-parent-wait-ms", head_parent_wait_ms),
    {"faulty-ms", OPT_U64, F(cfg.faulty_ms_max), 1, (double)UINT64_MAX, NULL, NULL},
    {"liveness-ms", OPT_U64, F(cfg.liveness_ms_max), 1, (double)UINT64_MAX, NULL, NULL},
    {"loss", OPT_DOUBLE, F(cfg.net.loss), 0, 1, NULL, NULL},
    {"duplicate", OPT_DOUBLE, F(cfg.net.duplicate), 0, 1, NULL, NULL},
    {"dump", OPT_STRING, F(cfg.dump_dir), 0, 0, NULL, NULL},
    {"byzantine-kind", OPT_STRING, F(byzantine_kind), 0, 0, NULL, NULL},
    {"coin", OPT_STRING, F(coin), 0, 0, NULL, NULL},
    {"latency", OPT_STRING, F(cfg.latency_spec), 0, 0, NULL, NULL},
    {"adversary", OPT_STRING, F(adversary), 0, 0, NULL, NULL},
    {"partition", OPT_STRING, F(partition), 0, 0, NULL, NULL},
    {"isolate", OPT_STRING, F(isolate), 0, 0, NULL, NULL},
    {"default-creators", OPT_STRING, F(default_creators), 0, 0, NULL, NULL},
    {"restarts", OPT_U32, F(cfg.restarts), 0, SIM_RESTARTS_MAX, NULL, NULL},
    {"backup-lost", OPT_DOUBLE, F(cfg.backup_lost), 0, 1, NULL, NULL},
    {"down-ms", OPT_STRING, F(down_ms), 0, 0, NULL, NULL},
    WAIT("fsync-ms", fsync_ms),
    {"pauses", OPT_U32, F(cfg.pauses), 0, SIM_PAUSES_MAX, NULL, NULL},
    {"pause-ms", OPT_U64, F(cfg.pause_ms), 1, 3600000, NULL, NULL},
    {"restart-bug", OPT_STRING, F(restart_bug), 0, 0, NULL, NULL},
    {"json", OPT_FLAG, F(json), 0, 0, NULL, NULL},
    {"quiet", OPT_FLAG, F(quiet), 0, 0, NULL, NULL},
    {"units-unshared", OPT_FLAG, F(cfg.units_unshared), 0, 0, NULL, NULL},
    {"verbose", OPT_FLAG, F(verbose), 0, 0, NULL, NULL},
    OPT_END,
};
#undef WAIT
#undef F

/* --adversary ROUND[:ROUNDS] */
static int parse_adversary(sim_config *g, const char *value)
{
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
    return 0;
}

/* --partition START_MS:END_MS (and --isolate, the same form) */
static int parse_window(const char *flag, const char *value, uint64_t *start, uint64_t *end)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", value);
    char *colon = strchr(buf, ':');
    if (!colon) return usage_error("--%s: '%s' is not START_MS:END_MS", flag, value);
    *colon = '\0';
    if (parse_u64(buf, start) != 0 || parse_u64(colon + 1, end) != 0)
        return usage_error("--%s: '%s' is not START_MS:END_MS with whole numbers", flag, value);
    if (*start >= *end) return usage_error("--%s: '%s' does not start before it ends", flag, value);
    return 0;
}

/* --default-creators LIST|matrix (after --members and --latency) */
static int parse_default_creators(cli *c, const char *value)
{
    sim_config *g = &c->cfg;
    uint32_t cap = g->members > ALEPH_DEFAULT_CREATORS_MAX ? g->members : ALEPH_DEFAULT_CREATORS_MAX;
    if (!(c->creators = malloc(cap * sizeof *c->creators))) return 2;
    uint32_t len = 0;
    if (strcmp(value, "matrix") == 0) {
        if (g->net.latency.kind != SIM_LATENCY_MATRIX)
            return usage_error("--default-creators: '%s' needs --latency matrix:FILE%s", value, "");
        len = default_creators_from_matrix(g->net.latency.matrix, g->members, c->creators);
        if (len == 0) return usage_error("--default-creators: no schedule from the matrix%s%s", "", "");
    } else {
        char err[256];
        if (!(len = default_creators_parse(value, g->members, c->creators, err, sizeof err)))
            return usage_error("--default-creators: %s%s", err, "");
    }
    g->default_creators = c->creators;
    g->default_creators_len = len;
    return 0;
}

/* --down-ms MIN:MAX */
static int parse_down(sim_config *g, const char *value)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", value);
    char *colon = strchr(buf, ':');
    if (!colon) return usage_error("--down-ms: '%s' is not MIN:MAX%s", value, "");
    *colon = '\0';
    if (parse_u64(buf, &g->down_ms_min) != 0 || parse_u64(colon + 1, &g->down_ms_max) != 0)
        return usage_error("--down-ms: '%s' is not MIN:MAX with whole numbers%s", value, "");
    if (g->down_ms_min > g->down_ms_max)
        return usage_error("--down-ms: '%s' has MIN above MAX%s", value, "");
    return 0;
}

/* The table's options, then the values that need more than a range. -1 for --help. */
static int parse_args(cli *c, int argc, char **argv)
{
    sim_config *g = &c->cfg;
    opts_extra x = {.no_config = 1};
    if (opts_parse(sim_table, c, "sim", argc, argv, 1, &x) != 0) return 2;
    if (x.help) return -1;
    if (g->net.loss >= 1) return usage_error("--loss: '%s' is not a valid value%s", "1", "");
    if (g->dump_dir && !*g->dump_dir) return usage_error("--dump: '' is not a valid value%s%s", "", "");
    if (c->round_delay_ms != UINT32_MAX) g->round_delay_ms = c->round_delay_ms;
    if (c->parent_wait_ms != UINT32_MAX) g->parent_wait_ms = c->parent_wait_ms;
    if (c->candidate_wait_ms != UINT32_MAX) g->candidate_wait_ms = c->candidate_wait_ms;
    if (c->head_parent_wait_ms != UINT32_MAX) g->head_parent_wait_ms = c->head_parent_wait_ms;
    if (c->fsync_ms != UINT32_MAX) g->fsync_ms = c->fsync_ms;
    if (c->down_ms && parse_down(g, c->down_ms) != 0) return 2;
    if (c->restart_bug) {
        if (strcmp(c->restart_bug, "no-own-check") == 0) g->restart_bug = SIM_BUG_NO_OWN_CHECK;
        else if (strcmp(c->restart_bug, "send-early") == 0) g->restart_bug = SIM_BUG_SEND_EARLY;
        else if (strcmp(c->restart_bug, "no-carry") == 0) g->restart_bug = SIM_BUG_NO_CARRY;
        else if (strcmp(c->restart_bug, "no-kept") == 0) g->restart_bug = SIM_BUG_NO_KEPT;
        else
            return usage_error("--restart-bug: '%s' is not no-own-check, send-early, no-carry or "
                               "no-kept%s",
                               c->restart_bug, "");
    }
    if (c->byzantine_kind) {
        int k = sim_behaviour_parse(c->byzantine_kind);
        if (k < 0)
            return usage_error("--byzantine-kind: '%s' is not crash, silent, forker, garbage or mix%s", c->byzantine_kind, "");
        g->byzantine_kind = (sim_behaviour)k;
    }
    if (c->coin && coin_mode_parse(c->coin, 1, &g->coin_mode) != 0)
        return usage_error("--coin: '%s' is not threshold, test or off%s", c->coin, "");
    if (g->latency_spec) {
        int rc = parse_latency(c, g->latency_spec);
        if (rc) return rc;
    }
    if (c->adversary && parse_adversary(g, c->adversary) != 0) return 2;
    if (c->partition && parse_window("partition", c->partition, &g->net.partition_start_ms,
                                     &g->net.partition_end_ms) != 0)
        return 2;
    g->net.partition = c->partition != NULL;
    if (c->isolate && parse_window("isolate", c->isolate, &g->net.isolate_start_ms,
                                   &g->net.isolate_end_ms) != 0)
        return 2;
    g->net.isolate = c->isolate != NULL;
    if (c->default_creators) return parse_default_creators(c, c->default_creators);
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
    c.round_delay_ms = c.parent_wait_ms = c.candidate_wait_ms = c.head_parent_wait_ms = c.fsync_ms =
        UINT32_MAX;
    int rc = parse_args(&c, argc, argv);
    if (rc < 0) {
        usage(stdout);
        free(c.matrix);
        free(c.creators);
        return 0;
    }
    if (rc) {
        free(c.matrix);
        free(c.creators);
        return rc;
    }
    char err[512];
    if (sim_config_check(&c.cfg, err, sizeof err)) {
        fprintf(stderr, "aleph sim: %s (see aleph sim --help)\n", err);
        free(c.matrix);
        free(c.creators);
        return 2;
    }
    if (c.cfg.dump_dir && c.seeds > 1 && mkdir(c.cfg.dump_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "aleph sim: --dump: cannot create %s: %s\n", c.cfg.dump_dir, strerror(errno));
        free(c.matrix);
        free(c.creators);
        return 2;
    }
    if (c.verbose) c.cfg.progress = stderr;
    const char *dump_root = c.cfg.dump_dir;
    sim_config cfg = c.cfg;
    uint64_t failures = 0, runs = 0, restarts = 0, restarts_lost = 0;
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
        restarts += res.restarts;
        restarts_lost += res.restarts_backup_lost;
        if (delays) delays[k] = res.adversary_head_delay;
        if (r == 2) {
            fprintf(stderr, "aleph sim: %s\n", res.failure);
            free(failing);
            free(c.matrix);
            free(c.creators);
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
            printf("],\"seed_first\":%" PRIu64 ",\"restarts\":%" PRIu64
                   ",\"restarts_backup_lost\":%" PRIu64 ",\"wall_s\":%.3f}\n",
                   c.cfg.seed, restarts, restarts_lost, wall);
        } else {
            printf("sim: runs %" PRIu64 ", failures %" PRIu64 ", failing seeds:", runs, failures);
            if (!failures) printf(" none");
            for (uint64_t k = 0; k < failures && failing && k < failing_cap; k++)
                printf(" %" PRIu64, failing[k]);
            printf(" (seeds %" PRIu64 "..%" PRIu64 ", wall %.1f s)\n", c.cfg.seed,
                   c.cfg.seed + c.seeds - 1, wall);
            if (c.cfg.restarts)
                printf("sim: restarts %" PRIu64 " (%" PRIu64 " with the backup deleted) over %" PRIu64
                       " runs with crash-restart faults\n", restarts, restarts_lost, runs);
        }
    }
    if (delays && c.seeds > 1) print_adversary_distribution(&c, delays);
    free(delays);
    free(failing);
    free(c.matrix);
    free(c.creators);
    return exit_code;
}

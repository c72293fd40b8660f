#include "adversary.h"

#include <stdlib.h>
#include <string.h>

#include "aleph/aleph.h"

#define VOTE_UNKNOWN (-1)

struct sim_adversary {
    uint32_t n, q, r0, rounds_max;
    uint32_t h;                   /* honest members: the only units the plans choose */
    uint8_t *honest;              /* per member */
    aleph_config cfg;             /* the committee's, to inspect units */
    int active;
    uint32_t held_through; /* highest round t whose plan was made */
    /* Per round offset d = t - r0 (0..rounds_max+1), per creator: */
    int8_t *votes;          /* the vote of (creator, r0 + d) about U0 */
    uint8_t *present;       /* the unit exists */
    uint32_t *parent_round; /* [(d * n + c) * n + j]: round of j's parent, UINT32_MAX none */
    uint8_t *plan;          /* [(d * n + i) * n + c]: unit (c, r0+d-1) may reach i before it
                               creates round r0+d */
    uint8_t *planned;       /* per d */
};

static size_t at2(const sim_adversary *a, uint32_t d, uint32_t c)
{
    return (size_t)d * a->n + c;
}

sim_adversary *sim_adversary_new(uint32_t members, uint32_t attack_round, uint32_t rounds_max,
                                 const aleph_config *cfg, const uint8_t *honest)
{
    sim_adversary *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->n = members;
    a->q = aleph_quorum(members);
    a->r0 = attack_round;
    a->rounds_max = rounds_max;
    a->cfg = *cfg;
    a->active = members >= 4;
    size_t rows = (size_t)rounds_max + 2;
    a->votes = malloc(rows * members);
    a->present = calloc(rows * members, 1);
    a->parent_round = malloc(rows * members * members * sizeof *a->parent_round);
    a->plan = calloc(rows * members * members, 1);
    a->planned = calloc(rows, 1);
    a->honest = malloc(members ? members : 1);
    if (!a->votes || !a->present || !a->parent_round || !a->plan || !a->planned || !a->honest) {
        sim_adversary_free(a);
        return NULL;
    }
    memset(a->votes, VOTE_UNKNOWN, rows * members);
    for (uint32_t i = 0; i < members; i++) {
        a->honest[i] = honest ? honest[i] != 0 : 1;
        a->h += a->honest[i];
    }
    /* U0's creator must be honest, and the honest must hold a quorum. */
    if (!a->honest[attack_round % members] || a->h < a->q) a->active = 0;
    return a;
}

void sim_adversary_free(sim_adversary *a)
{
    if (!a) return;
    free(a->votes);
    free(a->present);
    free(a->parent_round);
    free(a->plan);
    free(a->planned);
    free(a->honest);
    free(a);
}

void sim_adversary_stop(sim_adversary *a)
{
    a->active = 0;
}

int sim_adversary_active(const sim_adversary *a)
{
    return a->active;
}

uint32_t sim_adversary_attack_round(const sim_adversary *a)
{
    return a->r0;
}

uint32_t sim_adversary_rounds_held(const sim_adversary *a)
{
    return a->held_through;
}

/* The scheduler's guess of CommonVote(U0, r0+d): exact in deterministic mode. */
static int common_vote(uint32_t d)
{
    if (d == 2 || d == 4) return 1;
    if (d == 3) return 0;
    return (d & 1) ? 1 : 0;
}

/* The vote of unit (c, r0+d), from its parents' votes. */
static int vote_of(const sim_adversary *a, uint32_t d, uint32_t c)
{
    const uint32_t *pr = &a->parent_round[at2(a, d, c) * a->n];
    uint32_t t = a->r0 + d;
    if (d == 1) return pr[a->r0 % a->n] == a->r0; /* U0's slot holds round r0 */
    uint32_t count[2] = {0, 0};
    for (uint32_t j = 0; j < a->n; j++) {
        if (pr[j] != t - 1 || !a->honest[j]) continue;
        int v = a->votes[at2(a, d - 1, j)];
        if (v == VOTE_UNKNOWN) return VOTE_UNKNOWN;
        count[v]++;
    }
    if (count[0] && count[1]) return common_vote(d);
    return count[1] ? 1 : 0;
}

/* Chooses, for every member, the q units of round r0+d-1 it sees first: honest members' units
 * only (a forker's are held like the units a plan leaves out, so they never become parents
 * while the attack lasts). Every set holds q honest units, so every member can create. */
static void make_plan(sim_adversary *a, uint32_t d)
{
    uint32_t n = a->n, q = a->q;
    uint8_t *plan = &a->plan[at2(a, d, 0) * n];
    a->planned[d] = 1;
    if (d == 1) {
        /* Round r0+1 votes 1 where U0 is a parent. Few 1s: at d = 2 (common vote 1) every set
         * then includes a 0. U0's creator always votes 1 (own parent). Without U0 a member
         * must still find q honest units: if it cannot, it gets U0 too. */
        uint32_t c0 = a->r0 % n, ones_wanted = a->h - q, ones = 1;
        for (uint32_t i = 0; i < n; i++) {
            int own_honest = a->honest[i];
            uint32_t others = a->h - own_honest - (i != c0); /* honest units but own and U0 */
            int with_u0 = i == c0 || ones < ones_wanted || own_honest + others < q;
            if (i != c0 && with_u0) ones++;
            uint32_t taken = 0;
            for (uint32_t k = 0; k < n && taken < q; k++) {
                uint32_t c = (i + k) % n; /* own unit first */
                if (!a->honest[c] || (c == c0 && !with_u0)) continue;
                plan[i * n + c] = 1;
                taken++;
            }
            if (with_u0 && !plan[i * n + c0]) {
                /* Make room for U0: replace the last non-own unit taken. */
                for (uint32_t k = n; k-- > 1;) {
                    uint32_t c = (i + k) % n;
                    if (plan[i * n + c]) {
                        plan[i * n + c] = 0;
                        break;
                    }
                }
                plan[i * n + c0] = 1;
            }
        }
        return;
    }
    int cv = common_vote(d), cv_next = common_vote(d + 1);
    const int8_t *prev = &a->votes[at2(a, d - 1, 0)];
    uint32_t against = 0; /* honest units of round t-1 voting against cv */
    for (uint32_t c = 0; c < n; c++) against += a->honest[c] && prev[c] != cv;
    if (against == 0) {
        a->active = 0; /* every set decides: the attack is over */
        return;
    }
    /* How many members should vote against cv (unanimous sets): the next round wants at
     * least q votes against its own common vote, and at least one for it. */
    uint32_t unanimous_wanted = cv_next == cv ? q : 1;
    uint32_t unanimous = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t taken = 0;
        int own_against = 0;
        if (a->honest[i]) {
            own_against = prev[i] != cv;
            plan[i * n + i] = 1;
            taken++;
        }
        int go_unanimous = a->honest[i] && own_against && against >= q &&
                           (unanimous < unanimous_wanted || against == a->h);
        if (go_unanimous) {
            unanimous++;
            for (uint32_t k = 1; k < n && taken < q; k++) {
                uint32_t c = (i + k) % n;
                if (a->honest[c] && prev[c] != cv) plan[i * n + c] = 1, taken++;
            }
        } else {
            /* Mixed: at least one vote of each kind, never q votes for cv. */
            int need_against = !own_against, need_for = own_against;
            for (uint32_t k = 1; k < n && (need_against || need_for); k++) {
                uint32_t c = (i + k) % n;
                if (!a->honest[c]) continue;
                int is_against = prev[c] != cv;
                if ((is_against && need_against) || (!is_against && need_for)) {
                    plan[i * n + c] = 1;
                    taken++;
                    if (is_against) need_against = 0;
                    else need_for = 0;
                }
            }
            for (uint32_t k = 1; k < n && taken < q; k++) {
                uint32_t c = (i + k) % n;
                if (a->honest[c] && !plan[i * n + c]) plan[i * n + c] = 1, taken++;
            }
        }
    }
}

int sim_adversary_created(sim_adversary *a, const uint8_t *data, size_t len)
{
    aleph_unit_info w;
    if (!a->active || aleph_unit_inspect(&a->cfg, data, len, &w) != NULL) return 0;
    if (w.round < a->r0 || w.round > a->r0 + a->rounds_max) return 0;
    uint32_t d = w.round - a->r0;
    if (!a->honest[w.creator]) return 0; /* a forker's: never planned, held while planning */
    if (a->present[at2(a, d, w.creator)]) return 0; /* one unit per slot: no forks here */
    a->present[at2(a, d, w.creator)] = 1;
    uint32_t *pr = &a->parent_round[at2(a, d, w.creator) * a->n];
    for (uint32_t j = 0; j < a->n; j++) pr[j] = UINT32_MAX;
    for (uint32_t i = 0; i < w.parents_len; i++) {
        uint32_t c, r;
        aleph_unit_parent(&w, i, &c, &r);
        pr[c] = r;
    }
    if (d >= 1) a->votes[at2(a, d, w.creator)] = (int8_t)vote_of(a, d, w.creator);

    /* Once the whole round is in, plan the next one. */
    for (uint32_t c = 0; c < a->n; c++)
        if (a->honest[c] && !a->present[at2(a, d, c)]) return 0;
    if (d >= 1) a->held_through = d;
    if (d + 1 > a->rounds_max) {
        a->active = 0;
        return 1;
    }
    make_plan(a, d + 1);
    return 1;
}

int sim_adversary_admit(const sim_adversary *a, uint32_t to, int32_t to_own_round,
                        const uint8_t *msg, size_t len)
{
    const uint8_t *unit;
    size_t unit_len;
    if (!a->active || !aleph_message_unit(msg, len, &unit, &unit_len)) return 1;
    aleph_unit_info w;
    if (aleph_unit_inspect(&a->cfg, unit, unit_len, &w) != NULL) return 1;
    uint32_t t = w.round + 1; /* the round whose parents this unit may become */
    if (t <= a->r0 || t > a->r0 + a->rounds_max) return 1;
    if (w.creator == to || (int64_t)to_own_round >= (int64_t)t) return 1;
    uint32_t d = t - a->r0;
    if (!a->planned[d]) return 0; /* not decided yet: hold */
    return a->plan[(at2(a, d, to)) * a->n + w.creator];
}

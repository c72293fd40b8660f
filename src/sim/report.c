/* What a run prints: the human summary block, the JSON object (names as in
 * docs/BENCHMARKING.md: members, faulty, seed, rounds, batches, units_ordered, agreement,
 * latency_ms in virtual time), and the command that reruns a seed. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "samples.h"

static const char *coin_name(aleph_coin_mode m)
{
    return m == ALEPH_COIN_OFF ? "off" : m == ALEPH_COIN_TEST ? "test" : "threshold";
}

static void latency_text(const sim_config *cfg, char *buf, size_t len)
{
    if (cfg->latency_spec) {
        snprintf(buf, len, "%s", cfg->latency_spec);
        return;
    }
    const sim_latency *l = &cfg->net.latency;
    if (l->kind == SIM_LATENCY_CONST) snprintf(buf, len, "const:%u", l->delay_ms_min);
    else if (l->kind == SIM_LATENCY_UNIFORM) snprintf(buf, len, "uniform:%u:%u", l->delay_ms_min, l->delay_ms_max);
    else snprintf(buf, len, "matrix:(%u regions)", l->matrix ? l->matrix->regions : 0);
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void sim_rerun_command(char *buf, size_t len, const sim_config *cfg, uint64_t seed)
{
    char lat[300];
    latency_text(cfg, lat, sizeof lat);
    int n = snprintf(buf, len,
                     "aleph sim --members %u --byzantine %u --byzantine-kind %s --crashed %u "
                     "--rounds %u --latency %s --coin %s --txs-per-tick %u",
                     cfg->members, cfg->byzantine, sim_behaviour_name(cfg->byzantine_kind),
                     cfg->crashed, cfg->rounds, lat, coin_name(cfg->coin_mode), cfg->txs_per_tick);
    size_t at = n > 0 && (size_t)n < len ? (size_t)n : len - 1;
    if (cfg->net.loss > 0) at += (size_t)snprintf(buf + at, len - at, " --loss %g", cfg->net.loss);
    if (at < len && cfg->net.duplicate > 0)
        at += (size_t)snprintf(buf + at, len - at, " --duplicate %g", cfg->net.duplicate);
    if (at < len && cfg->net.reorder_ms)
        at += (size_t)snprintf(buf + at, len - at, " --reorder %u", cfg->net.reorder_ms);
    if (at < len && cfg->net.partition)
        at += (size_t)snprintf(buf + at, len - at, " --partition %" PRIu64 ":%" PRIu64,
                               cfg->net.partition_start_ms, cfg->net.partition_end_ms);
    if (at < len && cfg->net.isolate)
        at += (size_t)snprintf(buf + at, len - at, " --isolate %" PRIu64 ":%" PRIu64,
                               cfg->net.isolate_start_ms, cfg->net.isolate_end_ms);
    if (at < len && cfg->fork_variants)
        at += (size_t)snprintf(buf + at, len - at, " --fork-variants %u", cfg->fork_variants);
    if (at < len && cfg->faulty_ms_max)
        at += (size_t)snprintf(buf + at, len - at, " --faulty-ms %" PRIu64, cfg->faulty_ms_max);
    if (at < len && cfg->liveness_ms_max)
        at += (size_t)snprintf(buf + at, len - at, " --liveness-ms %" PRIu64, cfg->liveness_ms_max);
    if (at < len && cfg->round_delay_ms >= 0)
        at += (size_t)snprintf(buf + at, len - at, " --round-delay-ms %lld",
                               (long long)cfg->round_delay_ms);
    if (at < len && cfg->parent_wait_ms >= 0)
        at += (size_t)snprintf(buf + at, len - at, " --parent-wait-ms %lld",
                               (long long)cfg->parent_wait_ms);
    if (at < len && cfg->candidate_wait_ms >= 0)
        at += (size_t)snprintf(buf + at, len - at, " --candidate-wait-ms %lld",
                               (long long)cfg->candidate_wait_ms);
    if (at < len && cfg->head_parent_wait_ms >= 0)
        at += (size_t)snprintf(buf + at, len - at, " --head-parent-wait-ms %lld",
                               (long long)cfg->head_parent_wait_ms);
    for (uint32_t i = 0; at < len && i < cfg->default_creators_len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%u", i ? "," : " --default-creators ",
                               cfg->default_creators[i]);
    if (at < len && cfg->epoch_rounds)
        at += (size_t)snprintf(buf + at, len - at, " --epoch-rounds %u", cfg->epoch_rounds);
    if (cfg->epochs_kept && at < len)
        at += (size_t)snprintf(buf + at, len - at, " --epochs-kept %u", cfg->epochs_kept);
    if (cfg->epochs_archived && at < len)
        at += (size_t)snprintf(buf + at, len - at, " --epochs-archived %u", cfg->epochs_archived);
    if (at < len && cfg->adversary_round)
        at += (size_t)snprintf(buf + at, len - at, " --adversary %u:%u", cfg->adversary_round,
                               cfg->adversary_rounds);
    if (at < len && cfg->restarts)
        at += (size_t)snprintf(buf + at, len - at, " --restarts %u --backup-lost %g --down-ms %" PRIu64
                               ":%" PRIu64, cfg->restarts, cfg->backup_lost, cfg->down_ms_min,
                               cfg->down_ms_max);
    if (at < len && cfg->pauses)
        at += (size_t)snprintf(buf + at, len - at, " --pauses %u --pause-ms %" PRIu64, cfg->pauses,
                               cfg->pause_ms);
    if (at < len && cfg->fsync_ms >= 0)
        at += (size_t)snprintf(buf + at, len - at, " --fsync-ms %lld", (long long)cfg->fsync_ms);
    if (at < len && cfg->restart_bug)
        at += (size_t)snprintf(buf + at, len - at, " --restart-bug %s",
                               cfg->restart_bug == SIM_BUG_NO_OWN_CHECK ? "no-own-check"
                               : cfg->restart_bug == SIM_BUG_SEND_EARLY ? "send-early"
                               : cfg->restart_bug == SIM_BUG_NO_CARRY   ? "no-carry"
                                                                        : "no-kept");
    if (at < len) snprintf(buf + at, len - at, " --seed %" PRIu64, seed);
}

static void faulty_text(const sim_config *cfg, char *buf, size_t len)
{
    uint32_t n = cfg->members;
    size_t at = 0;
    buf[0] = '\0';
    if (cfg->crashed) {
        uint32_t first = n - cfg->byzantine - cfg->crashed;
        at += (size_t)snprintf(buf + at, len - at, "; crashed: %u..%u", first,
                               first + cfg->crashed - 1);
    }
    if (cfg->byzantine && at < len) {
        at += (size_t)snprintf(buf + at, len - at, "; byzantine %s: %u..%u",
                               sim_behaviour_name(cfg->byzantine_kind), n - cfg->byzantine, n - 1);
        if (cfg->byzantine_kind == SIM_MIX && at < len)
            snprintf(buf + at, len - at, " (forker, garbage, silent, crash in turn)");
    }
}

void sim_result_print(FILE *out, const sim_config *cfg, const sim_result *r)
{
    char lat[300], faulty[200], part[64];
    latency_text(cfg, lat, sizeof lat);
    faulty_text(cfg, faulty, sizeof faulty);
    if (cfg->net.partition)
        snprintf(part, sizeof part, "%" PRIu64 "..%" PRIu64 " ms", cfg->net.partition_start_ms,
                 cfg->net.partition_end_ms);
    else snprintf(part, sizeof part, "none");
    uint32_t n = cfg->members;
    fprintf(out, "aleph sim (virtual time)\n");
    fprintf(out, "  members            %u (f %u, q %u)\n", n, aleph_faulty_max(n), aleph_quorum(n));
    fprintf(out, "  faulty             %u%s\n", r->faulty, faulty);
    fprintf(out, "  seed               %" PRIu64 "\n", r->seed);
    fprintf(out, "  rounds             %u (target: every honest member orders the head of round %u; rounds_max %u)\n",
            r->rounds, r->target_round, r->rounds_max);
    fprintf(out, "  coin               %s\n", coin_name(cfg->coin_mode));
    fprintf(out, "  network            latency %s, loss %g, duplicate %g, reorder +0..%u ms, partition %s\n",
            lat, cfg->net.loss, cfg->net.duplicate, cfg->net.reorder_ms, part);
    fprintf(out, "  load               %u tx of 16 B per live member per 100 ms; %" PRIu64 " submitted to honest members\n",
            cfg->txs_per_tick, r->txs_submitted);
    fprintf(out, "  phases             healed at %" PRIu64 " ms, ended at %" PRIu64 " ms (virtual)\n",
            r->heal_ms, r->end_ms);
    fprintf(out, "  result             %s\n", r->ok ? "OK" : "FAILED");
    if (!r->ok) fprintf(out, "  failure            %s\n", r->failure);
    fprintf(out, "  batches            %" PRIu64 "\n", r->batches);
    fprintf(out, "  units_ordered      %" PRIu64 " (txs_ordered %" PRIu64 ")\n", r->units_ordered,
            r->txs_ordered);
    if (r->head_round_min == UINT32_MAX)
        fprintf(out, "  head round         (an honest member ordered nothing)\n");
    else fprintf(out, "  head round         lowest last head over honest members: %u\n", r->head_round_min);
    fprintf(out, "  agreement          %s\n", r->agreement ? "yes" : "NO");
    fprintf(out, "  signed once        %s (%" PRIu64 " units of honest keys); exactly once %s (%" PRIu64
                 " txs durably confirmed, %" PRIu64 " set apart)\n",
            r->signed_once ? "yes" : "NO", r->signed_units, r->exactly_once ? "yes" : "NO",
            r->txs_confirmed, r->txs_set_apart);
    if (cfg->restarts || cfg->fsync_ms >= 0)
        fprintf(out, "  restarts           %u of %u (%u with the backup deleted, %u refused as "
                     "stale and recovered); %" PRIu64
                     " records lost, %" PRIu64 " restored; %" PRIu64 " syncs, %" PRIu64
                     " messages held for one (%" PRIu64 " lost)\n",
                r->restarts, cfg->restarts, r->restarts_backup_lost, r->restarts_refused,
                r->records_lost,
                r->units_restored, r->syncs, r->messages_held, r->messages_held_lost);
    if (cfg->pauses)
        fprintf(out, "  pauses             %u of %u (%u skipped), %" PRIu64 " deliveries waited; %" PRIu64
                     " resumes detected\n",
                r->pauses, cfg->pauses, r->pauses_skipped, r->messages_paused, r->resumes);
    if (cfg->restarts && cfg->epoch_rounds)
        fprintf(out, "  restarts, epochs   %u crashes at a switch; %u restored into a later epoch, "
                     "%u into the epoch before a switch they had made\n",
                r->crashes_at_switch, r->restarts_epoch_later, r->restarts_cut_switch);
    fprintf(out, "  latency            end to end, virtual ms: mean %.1f  p50 %.0f  p95 %.0f  p99 %.0f  (%" PRIu64 " txs)\n",
            r->latency_ms.mean, r->latency_ms.p50, r->latency_ms.p95, r->latency_ms.p99,
            r->latency_ms.count);
    fprintf(out, "  consensus latency  unit creation to ordering at its creator, virtual ms: mean %.1f  p50 %.0f\n",
            r->consensus_latency_ms.mean, r->consensus_latency_ms.p50);
    if (r->latency_ms.inexact || r->consensus_latency_ms.inexact)
        fprintf(out, "  latency note       more than %u samples over %u ms: a percentile above "
                     "them is a lower bound\n", SIM_SAMPLES_TAIL_MAX, SIM_SAMPLES_EXACT_MS);
    uint64_t heads = r->heads_at_depth[0] + r->heads_at_depth[1] + r->heads_at_depth[2] +
                     r->heads_at_depth[3];
    fprintf(out, "  heads decided at   d=2 %.1f%%  d=3 %.1f%%  d=4 %.1f%%  d>=5 %.1f%%  (%" PRIu64 " decisions, honest members)\n",
            pct(r->heads_at_depth[0], heads), pct(r->heads_at_depth[1], heads),
            pct(r->heads_at_depth[2], heads), pct(r->heads_at_depth[3], heads), heads);
    const uint64_t *in = r->own_units_in_batch;
    fprintf(out, "  own units output   in batch(r) %" PRIu64 "  batch(r+1) %" PRIu64
                 "  later %" PRIu64 "  (a unit of round r, at its creator)\n",
            in[0], in[1], in[2]);
    if (r->adversary_round) {
        if (r->adversary_head_delay == UINT32_MAX)
            fprintf(out, "  adversary          head of round %u never output at member 0\n",
                    r->adversary_round);
        else
            fprintf(out,
                    "  adversary          head of round %u output when member 0 was at round "
                    "r+%u (decided at d=%u); the scheduler held it through r+%u in its view\n",
                    r->adversary_round, r->adversary_head_delay, r->adversary_head_depth,
                    r->adversary_held);
    }
    fprintf(out, "  messages           sent %" PRIu64 ", delivered %" PRIu64 ", lost %" PRIu64 ", cut %" PRIu64 ", duplicated %" PRIu64 ", silenced %" PRIu64 ", to crashed %" PRIu64 "\n",
            r->messages_sent, r->messages_delivered, r->messages_lost, r->messages_cut,
            r->messages_duplicated, r->messages_silenced, r->messages_to_crashed);
    fprintf(out, "  dropped            %" PRIu64 " by honest members; garbage sent %" PRIu64 " (%" PRIu64 " must be dropped)\n",
            r->messages_dropped, r->garbage_sent, r->garbage_must_drop);
    fprintf(out, "  forks detected     %" PRIu64 " (sum over honest members)\n", r->forks_detected);
    fprintf(out, "  fork alerts        %" PRIu64 " sent, %" PRIu64 " certificates completed, %" PRIu64 " rejected; forker units %" PRIu64 " admitted by alert, %" PRIu64 " refused (sums over honest members)\n",
            r->alerts_sent, r->alert_certificates_completed, r->alerts_invalid,
            r->forker_units_admitted, r->forker_units_refused);
    fprintf(out, "  honest DAG         at most %" PRIu64 " units at one member; %" PRIu64 " flood variants sent\n",
            r->dag_units_max, r->fork_variants_sent);
    if (cfg->epoch_rounds)
        fprintf(out,
                "  epochs             of %u rounds; honest members end in epochs %u..%u; %" PRIu64
                " txs carried over a boundary; %" PRIu64 " tracked units left out of their epoch, "
                "%" PRIu64 " txs of tracked units each output once; dropped: %" PRIu64
                " of a finished epoch, %" PRIu64 " of the next, %" PRIu64 " of a later one; %" PRIu64
                " answers from a kept finished epoch\n",
                cfg->epoch_rounds, r->epoch_min, r->epoch_max, r->carry_txs, r->units_set_apart,
                r->txs_required, r->epoch_stale_dropped, r->epoch_ahead_dropped,
                r->epoch_far_dropped, r->epoch_answers);
    if (cfg->epochs_archived)
        fprintf(out, "  archive            %" PRIu64 " loads, %" PRIu64 " answers from an archived epoch\n",
                r->archive_loads, r->archive_answers);
    fprintf(out, "  signatures         %" PRIu64 " checks, %" PRIu64 " answered by the shared cache\n",
            r->sig_checks, r->sig_cache_hits);
    fprintf(out, "  wall time          %.2f s (%" PRIu64 " steps)\n", r->wall_s, r->steps);
}

void sim_result_print_json(FILE *out, const sim_config *cfg, const sim_result *r)
{
    char lat[300];
    latency_text(cfg, lat, sizeof lat);
    json_t *o = json_object();
    json_object_set_new(o, "members", json_integer(r->members));
    json_object_set_new(o, "faulty", json_integer(r->faulty));
    json_object_set_new(o, "byzantine", json_integer(cfg->byzantine));
    json_object_set_new(o, "byzantine_kind", json_string(sim_behaviour_name(cfg->byzantine_kind)));
    json_object_set_new(o, "crashed", json_integer(cfg->crashed));
    json_object_set_new(o, "seed", json_integer((json_int_t)r->seed));
    json_object_set_new(o, "rounds", json_integer(r->rounds));
    json_object_set_new(o, "target_round", json_integer(r->target_round));
    json_object_set_new(o, "rounds_max", json_integer(r->rounds_max));
    json_object_set_new(o, "coin", json_string(coin_name(cfg->coin_mode)));
    json_object_set_new(o, "network", json_string(lat));
    json_object_set_new(o, "loss", json_real(cfg->net.loss));
    json_object_set_new(o, "duplicate", json_real(cfg->net.duplicate));
    json_object_set_new(o, "reorder_ms", json_integer(cfg->net.reorder_ms));
    if (cfg->net.partition) {
        json_t *p = json_object();
        json_object_set_new(p, "start_ms", json_integer((json_int_t)cfg->net.partition_start_ms));
        json_object_set_new(p, "end_ms", json_integer((json_int_t)cfg->net.partition_end_ms));
        json_object_set_new(o, "partition", p);
    } else {
        json_object_set_new(o, "partition", json_null());
    }
    json_object_set_new(o, "txs_per_tick", json_integer(cfg->txs_per_tick));
    json_object_set_new(o, "fork_variants", json_integer(cfg->fork_variants));
    json_object_set_new(o, "ok", json_boolean(r->ok));
    json_object_set_new(o, "agreement", json_boolean(r->agreement));
    json_object_set_new(o, "liveness", json_boolean(r->liveness));
    json_object_set_new(o, "complete", json_boolean(r->complete));
    json_object_set_new(o, "signed_once", json_boolean(r->signed_once));
    json_object_set_new(o, "exactly_once", json_boolean(r->exactly_once));
    json_object_set_new(o, "failure", r->ok ? json_null() : json_string(r->failure));
    json_object_set_new(o, "batches", json_integer((json_int_t)r->batches));
    json_object_set_new(o, "units_ordered", json_integer((json_int_t)r->units_ordered));
    json_object_set_new(o, "txs_ordered", json_integer((json_int_t)r->txs_ordered));
    json_object_set_new(o, "txs_submitted", json_integer((json_int_t)r->txs_submitted));
    json_object_set_new(o, "head_round_min", r->head_round_min == UINT32_MAX
                                                 ? json_null()
                                                 : json_integer(r->head_round_min));
    json_t *l = json_object();
    json_object_set_new(l, "mean", json_real(r->latency_ms.mean));
    json_object_set_new(l, "p50", json_real(r->latency_ms.p50));
    json_object_set_new(l, "p95", json_real(r->latency_ms.p95));
    json_object_set_new(l, "p99", json_real(r->latency_ms.p99));
    json_object_set_new(l, "count", json_integer((json_int_t)r->latency_ms.count));
    if (r->latency_ms.inexact) json_object_set_new(l, "inexact", json_true());
    json_object_set_new(o, "latency_ms", l);
    json_t *c = json_object();
    json_object_set_new(c, "mean", json_real(r->consensus_latency_ms.mean));
    json_object_set_new(c, "p50", json_real(r->consensus_latency_ms.p50));
    if (r->consensus_latency_ms.inexact) json_object_set_new(c, "inexact", json_true());
    json_object_set_new(o, "consensus_latency_ms", c);
    json_t *d = json_object();
    json_object_set_new(d, "2", json_integer((json_int_t)r->heads_at_depth[0]));
    json_object_set_new(d, "3", json_integer((json_int_t)r->heads_at_depth[1]));
    json_object_set_new(d, "4", json_integer((json_int_t)r->heads_at_depth[2]));
    json_object_set_new(d, "5+", json_integer((json_int_t)r->heads_at_depth[3]));
    json_object_set_new(o, "heads_at_depth", d);
    json_t *ob = json_object();
    json_object_set_new(ob, "own_round", json_integer((json_int_t)r->own_units_in_batch[0]));
    json_object_set_new(ob, "next", json_integer((json_int_t)r->own_units_in_batch[1]));
    json_object_set_new(ob, "later", json_integer((json_int_t)r->own_units_in_batch[2]));
    json_object_set_new(o, "own_units_in_batch", ob);
    if (r->adversary_round) {
        json_t *a = json_object();
        json_object_set_new(a, "round", json_integer(r->adversary_round));
        json_object_set_new(a, "head_delay_rounds", r->adversary_head_delay == UINT32_MAX
                                                        ? json_null()
                                                        : json_integer(r->adversary_head_delay));
        json_object_set_new(a, "head_depth", json_integer(r->adversary_head_depth));
        json_object_set_new(a, "held_rounds", json_integer(r->adversary_held));
        json_object_set_new(o, "adversary", a);
    }
    json_t *rs = json_object();
    json_object_set_new(rs, "planned", json_integer(cfg->restarts));
    json_object_set_new(rs, "done", json_integer(r->restarts));
    json_object_set_new(rs, "backup_lost", json_integer(r->restarts_backup_lost));
    json_object_set_new(rs, "refused_then_recovered", json_integer(r->restarts_refused));
    json_object_set_new(rs, "crashes_at_switch", json_integer(r->crashes_at_switch));
    json_object_set_new(rs, "into_later_epoch", json_integer(r->restarts_epoch_later));
    json_object_set_new(rs, "cut_switch", json_integer(r->restarts_cut_switch));
    json_object_set_new(rs, "records_lost", json_integer((json_int_t)r->records_lost));
    json_object_set_new(rs, "units_restored", json_integer((json_int_t)r->units_restored));
    json_object_set_new(rs, "syncs", json_integer((json_int_t)r->syncs));
    json_object_set_new(rs, "messages_held", json_integer((json_int_t)r->messages_held));
    json_object_set_new(rs, "messages_held_lost", json_integer((json_int_t)r->messages_held_lost));
    json_object_set_new(rs, "units_set_apart", json_integer((json_int_t)r->units_set_apart));
    json_object_set_new(o, "restarts", rs);
    json_object_set_new(o, "signed_units", json_integer((json_int_t)r->signed_units));
    json_object_set_new(o, "txs_confirmed", json_integer((json_int_t)r->txs_confirmed));
    json_object_set_new(o, "txs_set_apart", json_integer((json_int_t)r->txs_set_apart));
    json_object_set_new(o, "heal_ms", json_integer((json_int_t)r->heal_ms));
    json_object_set_new(o, "end_ms", json_integer((json_int_t)r->end_ms));
    json_object_set_new(o, "wall_s", json_real(r->wall_s));
    json_object_set_new(o, "steps", json_integer((json_int_t)r->steps));
    json_object_set_new(o, "messages_sent", json_integer((json_int_t)r->messages_sent));
    json_object_set_new(o, "messages_delivered", json_integer((json_int_t)r->messages_delivered));
    json_object_set_new(o, "messages_lost", json_integer((json_int_t)r->messages_lost));
    json_object_set_new(o, "messages_cut", json_integer((json_int_t)r->messages_cut));
    json_object_set_new(o, "messages_duplicated", json_integer((json_int_t)r->messages_duplicated));
    json_object_set_new(o, "messages_silenced", json_integer((json_int_t)r->messages_silenced));
    json_object_set_new(o, "messages_to_crashed", json_integer((json_int_t)r->messages_to_crashed));
    json_object_set_new(o, "messages_dropped", json_integer((json_int_t)r->messages_dropped));
    json_object_set_new(o, "garbage_sent", json_integer((json_int_t)r->garbage_sent));
    json_object_set_new(o, "garbage_must_drop", json_integer((json_int_t)r->garbage_must_drop));
    json_t *reasons = json_object();
    for (uint32_t k = 0; k < r->drop_reasons_len; k++)
        json_object_set_new(reasons, r->drop_reasons[k].reason,
                            json_integer((json_int_t)r->drop_reasons[k].count));
    json_object_set_new(o, "dropped_reasons", reasons);
    json_object_set_new(o, "forks_detected", json_integer((json_int_t)r->forks_detected));
    json_object_set_new(o, "alerts_sent", json_integer((json_int_t)r->alerts_sent));
    json_object_set_new(o, "alert_certificates_completed",
                        json_integer((json_int_t)r->alert_certificates_completed));
    json_object_set_new(o, "alerts_invalid", json_integer((json_int_t)r->alerts_invalid));
    json_object_set_new(o, "forker_units_admitted",
                        json_integer((json_int_t)r->forker_units_admitted));
    json_object_set_new(o, "forker_units_refused",
                        json_integer((json_int_t)r->forker_units_refused));
    json_object_set_new(o, "dag_units_max", json_integer((json_int_t)r->dag_units_max));
    json_object_set_new(o, "fork_variants_sent", json_integer((json_int_t)r->fork_variants_sent));
    json_object_set_new(o, "units_created", json_integer((json_int_t)r->units_created));
    if (cfg->epoch_rounds) {
        json_t *e = json_object();
        json_object_set_new(e, "rounds", json_integer(cfg->epoch_rounds));
        json_object_set_new(e, "min", json_integer(r->epoch_min));
        json_object_set_new(e, "max", json_integer(r->epoch_max));
        json_object_set_new(e, "carry_txs", json_integer((json_int_t)r->carry_txs));
        json_object_set_new(e, "units_set_apart", json_integer((json_int_t)r->units_set_apart));
        json_object_set_new(e, "txs_required", json_integer((json_int_t)r->txs_required));
        json_object_set_new(e, "stale_dropped", json_integer((json_int_t)r->epoch_stale_dropped));
        json_object_set_new(e, "ahead_dropped", json_integer((json_int_t)r->epoch_ahead_dropped));
        json_object_set_new(e, "far_dropped", json_integer((json_int_t)r->epoch_far_dropped));
        json_object_set_new(e, "answers", json_integer((json_int_t)r->epoch_answers));
        json_object_set_new(o, "epochs", e);
    }
    json_object_set_new(o, "sig_checks", json_integer((json_int_t)r->sig_checks));
    json_object_set_new(o, "sig_cache_hits", json_integer((json_int_t)r->sig_cache_hits));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (text) {
        fputs(text, out);
        fputc('\n', out);
        free(text);
    }
    json_decref(o);
}

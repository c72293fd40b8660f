/* The simulator with the ordering oracle: a run dumps to a fresh temporary directory
 * (`--dump`, src/sim/dump.h) and tests/oracle/oracle.py recomputes every member's batches from
 * the rules (PROTOCOL.md section 4) and compares them with what the members output. The
 * simulator's own checker compares members with each other; the oracle catches a rule that is
 * wrong the same way at every member. */
#ifndef ALEPH_SIM_ORACLE_H
#define ALEPH_SIM_ORACLE_H

#include "sim/sim.h"

/* sim_run with the oracle: when cfg->dump_dir is NULL the dump goes to a temporary directory
 * that is removed afterwards. Returns sim_run's code; when the run passed but the oracle finds
 * a divergence (or cannot run), the test fails with the oracle's report. */
int sim_run_oracle(const sim_config *cfg, sim_result *res);

/* sim_run_oracle that fails the test when the run fails, with the simulator's reason and the
 * `aleph sim` command that reruns it. */
void sim_run_oracle_passes(const sim_config *cfg, sim_result *res);

/* Runs the oracle on a dump directory; returns its exit status (0: agrees), the report in
 * report (truncated to report_len). */
int oracle_check_dir(const char *dir, char *report, size_t report_len);

/* Removes a dump directory (its files and folders, then itself). */
void oracle_remove_dir(const char *dir);

#endif

/* The state of one `aleph local` run, shared by its phases: the processes (local_procs.c),
 * the control loop (local_control.c), the checks and the summary (local_report.c) and the
 * sequence of phases (local.c). */
#ifndef ALEPH_HARNESS_LOCAL_RUN_H
#define ALEPH_HARNESS_LOCAL_RUN_H

#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <jansson.h>
#include <uv.h>

#include "measure/analysis.h"
#include "loadgen.h"
#include "netns.h"
#include "base/util.h"
#include "local.h"
#include "measure/summary.h"

typedef struct member_proc {
    pid_t pid;
    int running;
    int killed_by_us;       /* SIGKILL as a faulty member */
    int exited_status;      /* from wait4 */
    int exit_reported;
    char host[64];          /* its address: 127.0.0.1, or its namespace's with --hosts */
    struct rusage ru;
    char data_dir[4200];
    char output_path[4300];
} member_proc;

enum phase { PH_LOAD, PH_DRAIN, PH_STOP, PH_DONE };

typedef struct local_run {
    local_options o;
    uv_loop_t loop;
    uv_timer_t control;
    uv_signal_t sigint, sigterm;
    char dir[4096];
    member_proc *p;
    loadgen lg;
    run_analysis an;
    enum phase phase;
    uint64_t start_mono_ns, phase_mono_ns;
    uint64_t start_real_ns;
    uint64_t load_end_real_ns;      /* set when interrupted during the load: its real end */
    int faulty_killed;
    uint64_t batches_at_kill; /* the first survivor's batches when the faulty were killed */
    int interrupted;
    int tty;
    double next_progress_s;
    int progress_printed;
    uint32_t first_survivor;
    int drained;
    double drain_s;
    int failed_to_stop;
    double busy_at_spawn_s, busy_at_end_s;
    char command[2048];            /* for run.json */
    uint32_t metrics_port_base;    /* --metrics: member i's metrics port is this + i */
} local_run;


/* Namespaces of --hosts: removed at exit whatever path the run takes. */
extern netns_set local_hosts;
void local_hosts_cleanup(void);

/* local_procs.c */
double local_machine_busy_s(void);
/* count consecutive free ports (2 per member, 3 with --metrics) from 61000 up. */
int local_choose_ports(uint32_t count, uint32_t *base);
/* Holds first..first+count-1 for this run (a lock other runs respect) when they are free
 * now; 0, or -1 when they are taken (by another run or any process). */
int local_reserve_ports(uint32_t first, uint32_t count);
pid_t local_spawn_node(local_run *r, uint32_t i);
void local_reap(local_run *r);
uint32_t local_running_count(const local_run *r);
int local_survivor(const local_run *r, uint32_t i);
void local_first_stderr_line(const member_proc *mp, char *out, size_t cap);
int local_unexpected_exit(local_run *r, uint32_t i);
int local_unexpected_exits(const local_run *r);
double local_rusage_cpu_s(const struct rusage *ru);

/* local_metrics.c: --metrics */
void local_metrics_address(const local_run *r, uint32_t i, char *out, size_t cap);
/* Prints every member's URLs and writes DIR/prometheus_targets.json (file_sd format). */
void local_metrics_announce(const local_run *r);

/* local_control.c */
void local_poll_outputs(local_run *r);
void local_begin_stop(local_run *r);
void local_on_control(uv_timer_t *t);
void local_on_local_signal(uv_signal_t *s, int signum);

/* local_report.c: what only this process saw: the client's answer for every transaction
 * (exactly-once), the drain, the kill, the machine's CPU. It goes into run.json's "harness"
 * object; every other figure is computed from the run's files by summary.c, the code
 * `aleph analyze` runs too. */
typedef struct harness_check {
    uint64_t missing, duplicates, refused_but_output;
    int exactly_once;
    char why[256];
} harness_check;

void local_check_exactly_once(local_run *r, harness_check *hc);
json_t *local_harness_json(local_run *r, const harness_check *hc);
void local_config(const local_run *r, run_config *c);
/* Reads the outputs and logs, checks, writes run.json's harness object, load.json and the
 * summary files, prints the summary. Returns 0 passed, 1 failed. */
int local_report(local_run *r, const run_config *cfg, const char *manifest);

#endif

/* `aleph local`'s processes: ports, fork/exec of the nodes, reaping, their exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local_run.h"

netns_set local_hosts;

void local_hosts_cleanup(void)
{
    netns_destroy(&local_hosts);
}

/* Ports come in blocks of LOCAL_PORT_BLOCK from 61000; a run holds an flock on a file per
 * block it uses (/tmp/aleph-local-ports-<first>.lock) for as long as it lives, so that two
 * runs started together never pick the same ports even before their nodes have bound them
 * (the lock goes with the process, also when it is killed). */
#define LOCAL_PORT_FIRST 61000u
#define LOCAL_PORT_BLOCK 64u
#define LOCAL_LOCKS_MAX 64

static int port_locks[LOCAL_LOCKS_MAX];
static int port_locks_len;

static void unlock_ports(void)
{
    while (port_locks_len) close(port_locks[--port_locks_len]);
}

static int lock_one(uint32_t name)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/aleph-local-ports-%u.lock", name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0 || port_locks_len == LOCAL_LOCKS_MAX || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    port_locks[port_locks_len++] = fd;
    return 0;
}

/* Locks every block that [first, first+count) touches (ports below the blocks: one lock named
 * by the first port); 0, or -1 (nothing held) when another run holds one of them. */
static int lock_ports(uint32_t first, uint32_t count)
{
    uint32_t last = first + count - 1;
    int ok = first >= LOCAL_PORT_FIRST || lock_one(first) == 0;
    if (ok && last >= LOCAL_PORT_FIRST) {
        uint32_t lo = first < LOCAL_PORT_FIRST ? LOCAL_PORT_FIRST : first;
        uint32_t b0 = (lo - LOCAL_PORT_FIRST) / LOCAL_PORT_BLOCK;
        uint32_t b1 = (last - LOCAL_PORT_FIRST) / LOCAL_PORT_BLOCK;
        for (uint32_t blk = b0; blk <= b1 && ok; blk++)
            ok = lock_one(LOCAL_PORT_FIRST + blk * LOCAL_PORT_BLOCK) == 0;
    }
    if (!ok) unlock_ports();
    return ok ? 0 : -1;
}

int local_reserve_ports(uint32_t first, uint32_t count)
{
    if (lock_ports(first, count) != 0) return -1;
    if (loopback_ports_free(first, count)) return 0;
    unlock_ports();
    return -1;
}

/* CPU seconds the whole machine spent busy so far (all cores), from /proc/stat. */
double local_machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    unsigned long long v[10] = {0};
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                     &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
    fclose(f);
    if (got < 8) return 0;
    /* user nice system idle iowait irq softirq steal: busy = all but idle and iowait */
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

int local_choose_ports(uint32_t count, uint32_t *base)
{
    uint32_t step = (count + LOCAL_PORT_BLOCK - 1) / LOCAL_PORT_BLOCK * LOCAL_PORT_BLOCK;
    for (uint32_t b = LOCAL_PORT_FIRST; b + count - 1 <= 65535; b += step) {
        if (local_reserve_ports(b, count) == 0) {
            *base = b;
            return 0;
        }
    }
    return -1;
}

pid_t local_spawn_node(local_run *r, uint32_t i)
{
    member_proc *mp = &r->p[i];
    char committee_path[4200], key[4200], errlog[4300];
    snprintf(committee_path, sizeof committee_path, "%s/committee.json", r->dir);
    snprintf(key, sizeof key, "%s/member-%u.key", r->dir, i);
    snprintf(errlog, sizeof errlog, "%s/stderr.log", mp->data_dir);
    char delay[32], jitter[32], loss[32], bw[32];
    const char *argv[32 + LOCAL_NODE_ARGS_MAX];
    int k = 0;
    argv[k++] = "aleph";
    argv[k++] = "node";
    argv[k++] = "--committee";
    argv[k++] = committee_path;
    argv[k++] = "--key";
    argv[k++] = key;
    argv[k++] = "--data-dir";
    argv[k++] = mp->data_dir;
    if (r->o.round_delay_ms >= 0) {
        snprintf(delay, sizeof delay, "%d", r->o.round_delay_ms);
        argv[k++] = "--round-delay-ms";
        argv[k++] = delay;
    }
    if (r->o.wan) {
        argv[k++] = "--link-delays";
        argv[k++] = r->o.wan;
        snprintf(jitter, sizeof jitter, "%g", r->o.jitter_ms);
        argv[k++] = "--link-jitter-ms";
        argv[k++] = jitter;
        snprintf(loss, sizeof loss, "%g", r->o.loss);
        argv[k++] = "--link-loss";
        argv[k++] = loss;
        if (!r->o.hosts) {
            snprintf(bw, sizeof bw, "%g", r->o.bandwidth_mbit);
            argv[k++] = "--link-bandwidth-mbit";
            argv[k++] = bw;
        }
    }
    if (r->o.hosts) {
        argv[k++] = "--client-host";
        argv[k++] = mp->host;
    }
    char metrics[128];
    if (r->o.metrics) {
        local_metrics_address(r, i, metrics, sizeof metrics);
        argv[k++] = "--metrics";
        argv[k++] = metrics;
    }
    /* Members other than the first record a hash chain per batch (node/output.h): enough
     * for the agreement check and the analysis, without N copies of every payload. One file
     * each (no rotation), as the drain compares the first member's by size. */
    argv[k++] = "--output-mode";
    argv[k++] = i == 0 || r->o.full_output ? "full" : "chain";
    argv[k++] = "--output-rotate-bytes";
    argv[k++] = "0";
    for (int j = 0; j < r->o.node_args_len; j++) argv[k++] = r->o.node_args[j];
    argv[k] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    /* child */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    setpgid(0, 0); /* Ctrl-C goes to `aleph local`, which stops the nodes itself */
    if (r->o.hosts && netns_enter(&local_hosts, i) != 0) {
        fprintf(stderr, "aleph local: cannot enter member %u's network namespace\n", i);
        _exit(1);
    }
    int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv("/proc/self/exe", (char *const *)argv);
    fprintf(stderr, "aleph local: cannot exec /proc/self/exe: %s\n", strerror(errno));
    _exit(127);
}

void local_reap(local_run *r)
{
    for (uint32_t i = 0; i < r->o.members; i++) {
        member_proc *mp = &r->p[i];
        if (!mp->running) continue;
        int status;
        pid_t got = wait4(mp->pid, &status, WNOHANG, &mp->ru);
        if (got == mp->pid) {
            mp->running = 0;
            mp->exited_status = status;
        }
    }
}

uint32_t local_running_count(const local_run *r)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->o.members; i++) k += r->p[i].running;
    return k;
}

int local_survivor(const local_run *r, uint32_t i)
{
    return i < r->o.members - r->o.faulty;
}

void local_first_stderr_line(const member_proc *mp, char *out, size_t cap)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/stderr.log", mp->data_dir);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(out, (int)cap, f)) {
        size_t n = strlen(out);
        if (n && out[n - 1] == '\n') out[n - 1] = '\0';
    }
    fclose(f);
}

int local_unexpected_exit(local_run *r, uint32_t i)
{
    member_proc *mp = &r->p[i];
    return !mp->running && !mp->killed_by_us && r->phase < PH_STOP;
}

double local_rusage_cpu_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

int local_unexpected_exits(const local_run *r)
{
    int k = 0;
    for (uint32_t i = 0; i < r->o.members; i++)
        if (!r->p[i].killed_by_us && r->p[i].exit_reported) k++;
    return k;
}

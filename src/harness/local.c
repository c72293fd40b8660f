/* `aleph local`'s phases: keygen into a run directory, start the nodes (fork/exec of this
 * binary), wait for their client ports, send load for --duration seconds (killing the last
 * --faulty members at half time), stop the load, wait until every surviving member has output
 * every transaction a surviving member accepted (the drain), stop the nodes with SIGTERM, then
 * check agreement and exactly-once delivery on the output files and compute the figures. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "local_run.h"
#include "base/default_creators.h"
#include "base/keys.h"
#include "measure/logscan.h"

void local_options_defaults(local_options *o)
{
    memset(o, 0, sizeof *o);
    o->members = 4;
    o->duration_s = 20;
    o->rate = 10000;
    o->tx_size = 512;
    o->coin = ALEPH_COIN_THRESHOLD;
    o->round_delay_ms = -1;
    o->unit_bytes_max = 1u << 20;
    o->drain_timeout_s = 30;
    o->epoch_rounds = 1000; /* backups deleted per epoch: a run's disk stays bounded */
}

static void choose_run_dir(local_run *r)
{
    if (r->o.out_dir) {
        snprintf(r->dir, sizeof r->dir, "%s", r->o.out_dir);
        return;
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(r->dir, sizeof r->dir, "aleph-run-%s", stamp);
    for (int k = 2; access(r->dir, F_OK) == 0 && k < 100; k++)
        snprintf(r->dir, sizeof r->dir, "aleph-run-%s-%d", stamp, k);
}

/* The run directory, the keys and committee, the namespaces of --hosts, the members'
 * directories. Returns -1 to go on, else the exit status. */
static int prepare(local_run *r, uint32_t *base)
{
    local_options *o = &r->o;
    choose_run_dir(r);
    char err[KEYS_ERR_MAX];
    uint32_t ports = local_ports_needed(o);
    if (o->base_port) {
        *base = o->base_port;
        if (local_reserve_ports(*base, ports) != 0) {
            fprintf(stderr,
                    "aleph local: ports %u-%u (--base-port) are in use, by another aleph local "
                    "or another program; leave --base-port out to have a free range chosen\n",
                    *base, *base + ports - 1);
            return 1;
        }
    } else if (local_choose_ports(ports, base) != 0) {
        fprintf(stderr, "aleph local: no %u free ports on 127.0.0.1 from 61000 up\n", ports);
        return 1;
    }
    r->metrics_port_base = *base + 2 * o->members;
    keygen_params kp = {.members = o->members, .out_dir = r->dir, .host = "127.0.0.1",
                        .base_port = *base, .coin_mode = o->coin,
                        .unit_bytes_max = o->unit_bytes_max, .epoch_rounds = o->epoch_rounds};
    uint32_t *sched = NULL;
    if (o->default_creators) {
        sched = malloc(ALEPH_DEFAULT_CREATORS_MAX * sizeof *sched);
        kp.default_creators = sched;
        kp.default_creators_len = sched ? default_creators_from_spec(o->default_creators,
                                                                     o->members, o->wan, sched,
                                                                     err, sizeof err)
                                        : 0;
        if (!kp.default_creators_len) {
            fprintf(stderr, "aleph local: --default-creators: %s\n", sched ? err : "out of memory");
            free(sched);
            return 1;
        }
    }
    int written = keygen_write(&kp, err, sizeof err);
    free(sched);
    if (written != 0) {
        print_error_lines("aleph local", err);
        return 1;
    }
    r->p = calloc(o->members, sizeof *r->p);
    analysis_init(&r->an, o->members, LOCAL_CLIENT_ID_BASE);
    if (o->hosts) {
        char why[512];
        if (!netns_available(why, sizeof why)) {
            fprintf(stderr, "aleph local: --hosts: network namespaces unavailable: %s\n", why);
            return 1;
        }
        atexit(local_hosts_cleanup);
        char cpath[4200];
        snprintf(cpath, sizeof cpath, "%s/committee.json", r->dir);
        if (netns_create(&local_hosts, o->members, o->bandwidth_mbit, err, sizeof err) != 0 ||
            netns_rewrite_committee(&local_hosts, cpath, err, sizeof err) != 0) {
            fprintf(stderr, "aleph local: --hosts: %s\n", err);
            return 1;
        }
    }
    for (uint32_t i = 0; i < o->members; i++) {
        member_proc *mp = &r->p[i];
        if (o->hosts) netns_address(&local_hosts, i, mp->host, sizeof mp->host);
        else snprintf(mp->host, sizeof mp->host, "127.0.0.1");
        snprintf(mp->data_dir, sizeof mp->data_dir, "%s/member-%u", r->dir, i);
        snprintf(mp->output_path, sizeof mp->output_path, "%s/output.bin", mp->data_dir);
        if (make_dirs(mp->data_dir, 0700, err, sizeof err) != 0) {
            print_error_lines("aleph local", err);
            return 1;
        }
    }
    return -1;
}

static int spawn_all(local_run *r, uint32_t base)
{
    local_options *o = &r->o;
    if (!o->quiet)
        fprintf(stderr, "aleph local: %u members on %s:%u-%u%s%s, run dir %s\n", o->members,
                o->hosts ? "10.77.x.y (one network namespace each)" : "127.0.0.1", base,
                base + o->members - 1, o->wan ? ", emulated WAN links " : "",
                o->wan ? o->wan : "", r->dir);
    r->busy_at_spawn_s = local_machine_busy_s();
    for (uint32_t i = 0; i < o->members; i++) {
        r->p[i].pid = local_spawn_node(r, i);
        if (r->p[i].pid < 0) {
            fprintf(stderr, "aleph local: fork: %s\n", strerror(errno));
            return 1;
        }
        r->p[i].running = 1;
    }
    return -1;
}

/* One pass over the client ports: 1 all open, 0 not yet, -1 a member exited (fail_line). */
static int client_ports_open(local_run *r, uint32_t base, char *fail_line, size_t cap)
{
    local_options *o = &r->o;
    for (uint32_t i = 0; i < o->members; i++) {
        if (!r->p[i].running) {
            char line[512];
            local_first_stderr_line(&r->p[i], line, sizeof line);
            snprintf(fail_line, cap, "member %u did not start: %s", i, line[0] ? line : "exited");
            return -1;
        }
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)(base + o->members + i)),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        inet_pton(AF_INET, r->p[i].host, &a.sin_addr);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0) close(fd);
        if (!ok) return 0;
    }
    return 1;
}

/* Waits for every client port (the node listens on it once it is up); on failure kills the
 * members. Returns -1 to go on, else the exit status. */
static int wait_ready(local_run *r, uint32_t base)
{
    local_options *o = &r->o;
    int ready = 0;
    char fail_line[600] = "";
    for (int attempt = 0; attempt < 200 && !ready; attempt++) {
        local_reap(r);
        ready = client_ports_open(r, base, fail_line, sizeof fail_line);
        if (ready < 0) break;
        if (!ready) usleep(50000);
    }
    if (ready == 1) return -1;
    fprintf(stderr, "aleph local: %s\n",
            fail_line[0] ? fail_line : "the members' client ports did not open within 10 s");
    for (uint32_t i = 0; i < o->members; i++)
        if (r->p[i].running) kill(r->p[i].pid, SIGKILL);
    for (uint32_t i = 0; i < o->members; i++)
        if (r->p[i].running) waitpid(r->p[i].pid, NULL, 0);
    return 1;
}

/* Connects the load generator, writes run.json, starts the load, the control timer and the
 * signal handlers. */
static void start_load(local_run *r, uint32_t base, run_config *cfg, const char *manifest)
{
    local_options *o = &r->o;
    loadgen_init(&r->lg, &r->loop, o->members, o->rate, o->tx_size, LOCAL_CLIENT_ID_BASE);
    for (uint32_t i = 0; i < o->members; i++)
        loadgen_target(&r->lg, i, r->p[i].host, (uint16_t)(base + o->members + i));
    loadgen_connect(&r->lg);
    while (loadgen_connected(&r->lg) + 0 < o->members && uv_run(&r->loop, UV_RUN_ONCE)) {
        uint32_t gone = 0;
        for (uint32_t i = 0; i < o->members; i++) gone += r->lg.targets[i].state == 2;
        if (gone) break;
    }
    r->first_survivor = 0;
    r->start_mono_ns = clock_mono_ns();
    r->start_real_ns = clock_real_ns();
    run_window(r->start_real_ns, r->start_real_ns + (uint64_t)(o->duration_s * 1e9),
               &r->an.window_start_ns, &r->an.window_end_ns);
    r->an.series_on = 1;
    r->an.series_origin_ns = r->start_real_ns;
    local_config(r, cfg);
    run_manifest_write(manifest, cfg, NULL);
    loadgen_start(&r->lg);

    uv_timer_init(&r->loop, &r->control);
    r->control.data = r;
    uv_timer_start(&r->control, local_on_control, 50, 50);
    uv_signal_init(&r->loop, &r->sigint);
    r->sigint.data = r;
    uv_signal_start(&r->sigint, local_on_local_signal, SIGINT);
    uv_signal_init(&r->loop, &r->sigterm);
    r->sigterm.data = r;
    uv_signal_start(&r->sigterm, local_on_local_signal, SIGTERM);
    r->next_progress_s = 1;
}

int local_run_main(const local_options *o, const char *command)
{
    local_run *r = calloc(1, sizeof *r);
    if (!r) return 1;
    r->o = *o;
    r->tty = isatty(STDERR_FILENO);
    signal(SIGPIPE, SIG_IGN);
    snprintf(r->command, sizeof r->command, "%s", command);
    uint32_t base;
    int rc = prepare(r, &base);
    if (rc < 0) rc = spawn_all(r, base);
    if (rc >= 0) {
        if (!r->p) free(r);
        return rc;
    }
    uv_loop_init(&r->loop);
    rc = wait_ready(r, base);
    if (rc < 0 && o->metrics) local_metrics_announce(r);
    if (rc >= 0) {
        uv_loop_close(&r->loop);
        analysis_free(&r->an);
        free(r->p);
        free(r);
        return rc;
    }
    run_config cfg;
    char manifest[4300];
    snprintf(manifest, sizeof manifest, "%s/run.json", r->dir);
    start_load(r, base, &cfg, manifest);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    r->busy_at_end_s = local_machine_busy_s();
    if (r->tty && r->progress_printed && !r->o.quiet) fputc('\n', stderr);
    uv_loop_close(&r->loop);

    int status = local_report(r, &cfg, manifest);
    if (r->interrupted && !status) status = 130;
    local_hosts_cleanup();
    loadgen_free(&r->lg);
    analysis_free(&r->an);
    free(r->p);
    free(r);
    return status;
}

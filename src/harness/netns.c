#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NETNS_DIR "/run/netns"

/* Runs a command (argv, NULL-terminated) and waits; its stderr goes into err. 0 on success. */
static int run(char *err, size_t cap, const char *arg0, ...)
{
    const char *argv[24];
    int n = 0;
    va_list ap;
    va_start(ap, arg0);
    argv[n++] = arg0;
    const char *a;
    while (n < 23 && (a = va_arg(ap, const char *)) != NULL) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        if (err) snprintf(err, cap, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        if (err) snprintf(err, cap, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    char buf[512];
    size_t got = 0;
    ssize_t r;
    while (got + 1 < sizeof buf && (r = read(pipefd[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    buf[got] = '\0';
    while (got && (buf[got - 1] == '\n' || buf[got - 1] == ' ')) buf[--got] = '\0';
    char drain[256];
    while (read(pipefd[0], drain, sizeof drain) > 0) {
    }
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (err) {
        size_t k = 0;
        for (int i = 0; argv[i] && k < cap; i++)
            k += (size_t)snprintf(err + k, cap - k, "%s%s", i ? " " : "", argv[i]);
        if (k < cap) snprintf(err + k, cap - k, ": %s", got ? buf : "failed");
    }
    return -1;
}

static void ns_name(const netns_set *s, uint32_t i, char *out, size_t cap)
{
    snprintf(out, cap, "aleph%d-%u", s->pid, i);
}

int netns_available(char *why, size_t cap)
{
    if (geteuid() != 0) {
        snprintf(why, cap, "not root (network namespaces need root)");
        return 0;
    }
    char name[64];
    snprintf(name, sizeof name, "aleph%d-probe", (int)getpid());
    if (run(why, cap, "ip", "netns", "add", name, NULL) != 0) return 0;
    run(NULL, 0, "ip", "netns", "del", name, NULL);
    return 1;
}

/* Removes namespaces and bridges left by runs whose process is gone. */
static void remove_stale(void)
{
    DIR *d = opendir(NETNS_DIR);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int pid;
            char rest[64];
            if (sscanf(e->d_name, "aleph%d-%63s", &pid, rest) != 2 || pid <= 0) continue;
            if (kill(pid, 0) == 0 || errno == EPERM) continue;
            run(NULL, 0, "ip", "netns", "del", e->d_name, NULL);
        }
        closedir(d);
    }
    d = opendir("/sys/class/net");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int pid;
            char tail;
            if (sscanf(e->d_name, "alb%d%c", &pid, &tail) != 1 || pid <= 0) continue;
            if (kill(pid, 0) == 0 || errno == EPERM) continue;
            run(NULL, 0, "ip", "link", "del", e->d_name, NULL);
        }
        closedir(d);
    }
}

/* The first 10.77.S.0/24 that no interface on this host has an address in. */
static int free_subnet(void)
{
    FILE *p = popen("ip -o -4 addr show 2>/dev/null", "r");
    int used[256] = {0};
    if (p) {
        char line[512];
        while (fgets(line, sizeof line, p)) {
            const char *q = strstr(line, " 10.77.");
            int sn;
            if (q && sscanf(q, " 10.77.%d.", &sn) == 1 && sn >= 0 && sn < 256) used[sn] = 1;
        }
        pclose(p);
    }
    for (int sn = 0; sn < 256; sn++)
        if (!used[sn]) return sn;
    return -1;
}

void netns_address(const netns_set *s, uint32_t i, char *out, size_t cap)
{
    snprintf(out, cap, "10.77.%d.%u", s->subnet, i + 1);
}

int netns_create(netns_set *s, uint32_t members, double bandwidth_mbit, char *err, size_t cap)
{
    memset(s, 0, sizeof *s);
    s->members = members;
    s->pid = (int)getpid();
    s->bandwidth_mbit = bandwidth_mbit;
    if (members > NETNS_MEMBERS_MAX) {
        snprintf(err, cap, "--hosts: at most %u members (one /24 subnet)", NETNS_MEMBERS_MAX);
        return -1;
    }
    remove_stale();
    s->subnet = free_subnet();
    if (s->subnet < 0) {
        snprintf(err, cap, "--hosts: every 10.77.S.0/24 subnet is in use on this host");
        return -1;
    }
    snprintf(s->bridge, sizeof s->bridge, "alb%d", s->pid);
    char cidr[32];
    snprintf(cidr, sizeof cidr, "10.77.%d.254/24", s->subnet);
    if (run(err, cap, "ip", "link", "add", s->bridge, "type", "bridge", NULL) != 0) return -1;
    s->bridge_up = 1;
    if (run(err, cap, "ip", "addr", "add", cidr, "dev", s->bridge, NULL) != 0 ||
        run(err, cap, "ip", "link", "set", s->bridge, "up", NULL) != 0)
        goto fail;
    for (uint32_t i = 0; i < members; i++) {
        char ns[32], host_if[16], ns_if[16], addr[40], rate[32];
        ns_name(s, i, ns, sizeof ns);
        snprintf(host_if, sizeof host_if, "av%dx%u", s->pid, i);
        snprintf(ns_if, sizeof ns_if, "av%dy%u", s->pid, i);
        netns_address(s, i, addr, sizeof addr);
        strncat(addr, "/24", sizeof addr - strlen(addr) - 1);
        if (run(err, cap, "ip", "netns", "add", ns, NULL) != 0) goto fail;
        s->created = i + 1;
        if (run(err, cap, "ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if, NULL) != 0 ||
            run(err, cap, "ip", "link", "set", ns_if, "netns", ns, NULL) != 0 ||
            run(err, cap, "ip", "-n", ns, "link", "set", ns_if, "name", "eth0", NULL) != 0 ||
            run(err, cap, "ip", "-n", ns, "addr", "add", addr, "dev", "eth0", NULL) != 0 ||
            run(err, cap, "ip", "-n", ns, "link", "set", "eth0", "up", NULL) != 0 ||
            run(err, cap, "ip", "-n", ns, "link", "set", "lo", "up", NULL) != 0 ||
            run(err, cap, "ip", "link", "set", host_if, "master", s->bridge, NULL) != 0 ||
            run(err, cap, "ip", "link", "set", host_if, "up", NULL) != 0) {
            run(NULL, 0, "ip", "link", "del", host_if, NULL);
            goto fail;
        }
        if (bandwidth_mbit > 0) {
            snprintf(rate, sizeof rate, "%.3fmbit", bandwidth_mbit);
            if (run(err, cap, "tc", "-n", ns, "qdisc", "add", "dev", "eth0", "root", "tbf", "rate",
                    rate, "burst", "64kb", "latency", "400ms", NULL) != 0)
                goto fail;
        }
    }
    return 0;
fail:
    netns_destroy(s);
    return -1;
}

int netns_enter(const netns_set *s, uint32_t i)
{
    char path[128], ns[32];
    ns_name(s, i, ns, sizeof ns);
    snprintf(path, sizeof path, NETNS_DIR "/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = setns(fd, CLONE_NEWNET);
    close(fd);
    return rc;
}

int netns_rewrite_committee(const netns_set *s, const char *path, char *err, size_t cap)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    json_t *members = j ? json_object_get(j, "members") : NULL;
    if (!json_is_array(members)) {
        snprintf(err, cap, "%s: %s", path, j ? "no members" : je.text);
        json_decref(j);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(members); i++) {
        json_t *m = json_array_get(members, i);
        const char *old = json_string_value(json_object_get(m, "address"));
        const char *colon = old ? strrchr(old, ':') : NULL;
        if (!colon) continue;
        char addr[64], full[96];
        netns_address(s, (uint32_t)i, addr, sizeof addr);
        snprintf(full, sizeof full, "%s%s", addr, colon);
        json_object_set_new(m, "address", json_string(full));
    }
    int rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (rc != 0) snprintf(err, cap, "cannot write %s", path);
    return rc;
}

void netns_destroy(netns_set *s)
{
    for (uint32_t i = 0; i < s->created; i++) {
        char ns[32], host_if[16];
        ns_name(s, i, ns, sizeof ns);
        snprintf(host_if, sizeof host_if, "av%dx%u", s->pid, i);
        /* The pair now (a namespace's own devices go asynchronously after its deletion). */
        run(NULL, 0, "ip", "link", "del", host_if, NULL);
        run(NULL, 0, "ip", "netns", "del", ns, NULL);
    }
    s->created = 0;
    if (s->bridge_up) run(NULL, 0, "ip", "link", "del", s->bridge, NULL);
    s->bridge_up = 0;
}

/* `aleph submit`: send transactions to one member's client port and print each status. */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "node/client.h"
#include "base/addresses.h"
#include "base/keys.h"
#include "base/options.h"
#include "net/peer.h"
#include "base/util.h"

static void submit_usage(FILE *to)
{
    fprintf(to,
            "usage: aleph submit (--committee FILE --member I | --to HOST:PORT) [TX...]\n\n"
            "Sends each TX argument (or, with none, each line of standard input) as one\n"
            "transaction to a member's client port and prints the member's answer per line:\n"
            "ok (in the member's pool: a crash of the member may lose it), pool full (try\n"
            "again later), too large, halted (the member creates no more units: submit to\n"
            "another), refused (the member is at a client connection limit and closed the\n"
            "connection: try later or another member) or, with --ack durable, durable (in an own unit of the member that is\n"
            "durable in its backup: restored and ordered after a crash). Exit status 0 when\n"
            "every transaction was accepted, 1 otherwise.\n\n"
            "  --ack pool|durable answer once in the pool (default) or once durable\n"
            "  --committee FILE   committee file: the member's client port is taken from it\n"
            "  --member I         which member (with --committee)\n"
            "  --to HOST:PORT     a client port given directly\n"
            "  --quiet            print nothing, only the exit status tells\n");
}

int connect_tcp(const char *host, uint16_t port, char *err, size_t cap);
int connect_tcp(const char *host, uint16_t port, char *err, size_t cap)
{
    struct sockaddr_storage addr;
    if (resolve_address(host, port, &addr, err, cap) != 0) return -1;
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, cap, "socket: %s", strerror(errno));
        return -1;
    }
    socklen_t len = addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in);
    if (connect(fd, (struct sockaddr *)&addr, len) != 0) {
        snprintf(err, cap, "cannot connect to %s:%u: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int submit_one(int fd, const char *tx, size_t len, int quiet)
{
    uint8_t hdr[4];
    le32_put(hdr, (uint32_t)len);
    if (write_all(fd, hdr, 4) != 0 || write_all(fd, tx, len) != 0) {
        fprintf(stderr, "aleph submit: connection lost: %s\n", strerror(errno));
        return -1;
    }
    uint8_t status;
    ssize_t r;
    do {
        r = read(fd, &status, 1);
    } while (r < 0 && errno == EINTR);
    if (r != 1) {
        fprintf(stderr, "aleph submit: the member closed the connection\n");
        return -1;
    }
    static const char *names[] = {"ok", "pool full", "too large", "halted", "durable",
                                  "refused: the member is at a client connection limit"};
    if (!quiet) printf("%s\n", status < 6 ? names[status] : "unknown status");
    if (status == CLIENT_STATUS_REFUSED) return -1; /* the member closes the connection after it */
    return status == 0 || status == 4 ? 0 : 1;
}

typedef struct submit_cli {
    const char *committee, *to;
    int member; /* -1 until given */
    int quiet, durable;
} submit_cli;

#define F(field) offsetof(submit_cli, field)
static const char *const ack_names[] = {"pool", "durable", NULL};
static const int ack_values[] = {0, 1};
static const opt_spec submit_table[] = {
    {"committee", OPT_STRING, F(committee), 0, 0, NULL, NULL},
    {"member", OPT_INT, F(member), 0, ALEPH_MEMBERS_MAX - 1, NULL, NULL},
    {"to", OPT_STRING, F(to), 0, 0, NULL, NULL},
    {"quiet", OPT_FLAG, F(quiet), 0, 0, NULL, NULL},
    {"ack", OPT_CHOICE, F(durable), 0, 0, ack_names, ack_values},
    OPT_END,
};
#undef F

int command_submit(int argc, char **argv)
{
    submit_cli o = {.member = -1};
    opts_extra x = {.no_config = 1, .positional_ok = 1};
    if (opts_parse(submit_table, &o, "submit", argc, argv, 1, &x) != 0) return 2;
    if (x.help) {
        submit_usage(stdout);
        return 0;
    }
    const char *committee_path = o.committee, *to = o.to;
    int64_t member = o.member;
    int quiet = o.quiet, durable = o.durable;
    char **txs = x.positional;
    int ntx = x.positional_len;
    char host[HOST_MAX];
    uint16_t port = 0;
    char err[KEYS_ERR_MAX];
    if (to) {
        if (address_parse(to, host, sizeof host, &port) != 0) {
            fprintf(stderr, "aleph submit: --to must be HOST:PORT, got '%s'\n", to);
            return 2;
        }
    } else if (committee_path && member >= 0) {
        committee c;
        if (committee_load(committee_path, &c, err, sizeof err) != 0) {
            print_error_lines("aleph submit", err);
            return 1;
        }
        if ((uint32_t)member >= c.size || !c.members[member].client_port) {
            fprintf(stderr, "aleph submit: %s has no client port for member %" PRId64 "\n",
                    committee_path, member);
            committee_free(&c);
            return 1;
        }
        snprintf(host, sizeof host, "%s", "127.0.0.1");
        if (strcmp(c.members[member].host, "0.0.0.0") != 0 &&
            strcmp(c.members[member].host, "::") != 0)
            snprintf(host, sizeof host, "%s", c.members[member].host);
        port = c.members[member].client_port;
        committee_free(&c);
    } else {
        fprintf(stderr, "aleph submit: give --committee FILE --member I, or --to HOST:PORT\n");
        return 2;
    }
    int fd = connect_tcp(host, port, err, sizeof err);
    if (fd < 0) {
        print_error_lines("aleph submit", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed connection is an error to report, not a death */
    int failed = 0;
    if (durable) {
        uint8_t mode[4];
        le32_put(mode, 0xFFFFFFFEu); /* the client port's "ack durable" */
        if (write_all(fd, mode, 4) != 0) failed = 1;
    }
    if (ntx && !failed) {
        for (int i = 0; i < ntx; i++) {
            int r = submit_one(fd, txs[i], strlen(txs[i]), quiet);
            if (r < 0) {
                failed = 1;
                break;
            }
            failed |= r;
        }
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
            int r = submit_one(fd, line, (size_t)n, quiet);
            if (r < 0) {
                failed = 1;
                break;
            }
            failed |= r;
        }
        free(line);
    }
    close(fd);
    return failed ? 1 : 0;
}

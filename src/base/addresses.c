#include "addresses.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int address_host_valid(const char *host)
{
    size_t len = strlen(host);
    if (len == 0 || len >= HOST_MAX) return 0;
    unsigned char buf[16];
    if (strchr(host, ':')) return inet_pton(AF_INET6, host, buf) == 1;
    if (inet_pton(AF_INET, host, buf) == 1) return 1;
    if (host[0] == '-' || host[0] == '.') return 0;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        if (!ok) return 0;
    }
    return 1;
}

int address_parse(const char *text, char *host, size_t host_cap, uint16_t *port)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text) return -1;
    const char *h = text;
    size_t hlen = (size_t)(colon - text);
    if (h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']') return -1;
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= host_cap) return -1;
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p == 0 || p > 65535) return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

void address_format(char *out, size_t cap, const char *host, uint16_t port)
{
    if (strchr(host, ':')) snprintf(out, cap, "[%s]:%u", host, port);
    else snprintf(out, cap, "%s:%u", host, port);
}

typedef struct report {
    char *err;
    size_t cap, len;
    int count;
} report;

static void say(report *r, const char *path, unsigned line, const char *fmt, const char *arg)
{
    r->count++;
    if (r->count > 12 || r->len + 1 >= r->cap) return;
    int w = snprintf(r->err + r->len, r->cap - r->len, "%s%s:%u: ", r->len ? "\n" : "", path,
                     line);
    if (w > 0) r->len += (size_t)w;
    if (r->len >= r->cap) r->len = r->cap - 1;
    w = snprintf(r->err + r->len, r->cap - r->len, fmt, arg);
    if (w > 0) r->len += (size_t)w;
    if (r->len >= r->cap) r->len = r->cap - 1;
}

/* Parses one non-blank line "HOST:PORT [CLIENT_PORT]" into m; 0 or -1 (reported). */
static int parse_line(report *r, const char *path, unsigned line, char *text,
                      committee_member *m)
{
    char *save = NULL;
    char *addr = strtok_r(text, " \t", &save);
    char *cport = strtok_r(NULL, " \t", &save);
    char *extra = strtok_r(NULL, " \t", &save);
    if (extra) {
        say(r, path, line, "unexpected '%s' (a line is HOST:PORT [CLIENT_PORT])", extra);
        return -1;
    }
    if (address_parse(addr, m->host, sizeof m->host, &m->port) != 0) {
        say(r, path, line, "'%s' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)", addr);
        return -1;
    }
    if (!address_host_valid(m->host) || (strchr(m->host, ':') && addr[0] != '[')) {
        say(r, path, line, "'%s' is not a host name or IP address", m->host);
        return -1;
    }
    if (!cport) {
        if (m->port == 65535) {
            say(r, path, line, "'%s': no room for the client port PORT+1: give one", addr);
            return -1;
        }
        m->client_port = (uint16_t)(m->port + 1);
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(cport, &end, 10);
    if (errno || end == cport || *end || v < 1 || v > 65535 || cport[0] == '-') {
        say(r, path, line, "client port '%s' must be a number from 1 to 65535", cport);
        return -1;
    }
    m->client_port = (uint16_t)v;
    return 0;
}

/* Two members on one host never share a port; reports each collision once. */
static void check_collisions(report *r, const char *path, const committee_member *m,
                             const unsigned *lines, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (m[i].port == m[i].client_port) {
            char what[64];
            snprintf(what, sizeof what, "%u", m[i].port);
            say(r, path, lines[i], "member and client port are both %s", what);
        }
        for (uint32_t j = i + 1; j < n; j++) {
            if (strcmp(m[i].host, m[j].host) != 0) continue;
            uint16_t a[2] = {m[i].port, m[i].client_port}, b[2] = {m[j].port, m[j].client_port};
            for (int x = 0; x < 2; x++)
                for (int y = 0; y < 2; y++)
                    if (a[x] == b[y]) {
                        char what[HOST_MAX + 64];
                        snprintf(what, sizeof what, "port %u on %s is also used on line %u",
                                 a[x], m[i].host, lines[i]);
                        say(r, path, lines[j], "%s", what);
                    }
        }
    }
}

int addresses_load(const char *path, committee_member **out, uint32_t *count, char *err,
                   size_t cap)
{
    *out = NULL;
    *count = 0;
    err[0] = '\0';
    report r = {.err = err, .cap = cap};
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    committee_member *m = calloc(ALEPH_MEMBERS_MAX, sizeof *m);
    unsigned *lines = calloc(ALEPH_MEMBERS_MAX, sizeof *lines);
    char buf[ADDRESSES_LINE_BYTES_MAX + 2];
    unsigned line = 0;
    uint32_t n = 0;
    if (!m || !lines) say(&r, path, 0, "%s", "out of memory");
    while (!r.count && fgets(buf, sizeof buf, f)) {
        line++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n') {
            say(&r, path, line, "line longer than %s bytes", "1024");
            break;
        }
        char *hash = strchr(buf, '#');
        if (hash) *hash = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        if (strspn(buf, " \t") == strlen(buf)) continue;
        if (n == ALEPH_MEMBERS_MAX) {
            say(&r, path, line, "more members than the largest committee (%s)", "1024");
            break;
        }
        if (parse_line(&r, path, line, buf, &m[n]) == 0) lines[n] = line;
        n++;
    }
    if (ferror(f)) say(&r, path, line, "read error: %s", strerror(errno));
    fclose(f);
    if (!r.count && n == 0) say(&r, path, line, "%s", "no member listed");
    if (!r.count) check_collisions(&r, path, m, lines, n);
    free(lines);
    if (r.count) {
        free(m);
        return -1;
    }
    *out = m;
    *count = n;
    return 0;
}

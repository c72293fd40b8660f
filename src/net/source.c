#include "source.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int net_source_from(const struct sockaddr *sa, net_source *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        memcpy(out->addr, v4_mapped_prefix, 12);
        memcpy(out->addr + 12, &a->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        memcpy(out->addr, &a->sin6_addr, 16);
        return 0;
    }
    return -1;
}

int net_source_of_peer(const void *uv_tcp, net_source *out)
{
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;
    memset(out, 0, sizeof *out);
    if (uv_tcp_getpeername((const uv_tcp_t *)uv_tcp, (struct sockaddr *)&ss, &len) != 0) return -1;
    return net_source_from((const struct sockaddr *)&ss, out);
}

static int is_v4(const net_source *s)
{
    return memcmp(s->addr, v4_mapped_prefix, 12) == 0;
}

net_source net_source_budget_key(const net_source *s)
{
    net_source k = *s;
    if (!is_v4(s)) memset(k.addr + 8, 0, 8);
    return k;
}

int net_source_equal(const net_source *a, const net_source *b)
{
    return memcmp(a->addr, b->addr, 16) == 0;
}

void net_source_format(const net_source *key, char *out, size_t cap)
{
    char text[INET6_ADDRSTRLEN] = "?";
    if (is_v4(key)) {
        inet_ntop(AF_INET, key->addr + 12, text, sizeof text);
        snprintf(out, cap, "%s", text);
    } else {
        inet_ntop(AF_INET6, key->addr, text, sizeof text);
        snprintf(out, cap, "%s/64", text);
    }
}

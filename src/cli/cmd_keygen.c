/* `aleph keygen`: a trusted dealer writes a committee file and one key file per member. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "base/addresses.h"
#include "base/keys.h"
#include "base/default_creators.h"
#include "base/options.h"
#include "base/util.h"

static void keygen_usage(FILE *to)
{
    fprintf(to,
            "usage: aleph keygen --members N --out DIR [--host H] [--base-port P]\n"
            "                    [--client-base-port P] [--coin threshold|off]\n"
            "                    [--max-unit-bytes B] [--default-creators L] [--epoch-rounds E]\n"
            "       aleph keygen --addresses FILE --out DIR [--coin ...] [--max-unit-bytes B]\n\n"
            "Deals fresh random keys for a committee of N members (a trusted dealer) and writes\n"
            "  DIR/committee.json   public: addresses, public keys, coin mode, session id\n"
            "  DIR/member-<i>.key   secret: member i's signing key and coin share (mode 0600)\n"
            "Existing files are never overwritten.\n\n"
            "options:\n"
            "  --members N          committee size, 1..1024 (f = (N-1)/3 faults tolerated)\n"
            "  --out DIR            output directory (created if missing)\n"
            "  --addresses FILE     members on several hosts: one line per member, in index\n"
            "                       order, 'HOST:PORT [CLIENT_PORT]' (HOST a DNS name, an IPv4\n"
            "                       address or [IPv6]; client port default PORT+1; # comments).\n"
            "                       Names are resolved by each node (getaddrinfo) when it\n"
            "                       starts. Gives --members; replaces --host and the base ports\n"
            "  --host H             address the members listen on (default 127.0.0.1)\n"
            "  --base-port P        member i listens on P+i (default 61000)\n"
            "  --client-base-port P member i's client port is P+i (default base-port + N)\n"
            "  --coin MODE          threshold (default): the threshold coin; off: the\n"
            "                       deterministic schedule (no randomness; for comparison)\n"
            "  --max-unit-bytes B   payload bytes per unit (default 1048576); part of the\n"
            "                       session id, as everything that enters ordering\n"
            "  --default-creators L the default creator of round r is L[r mod |L|] instead of\n"
            "                       r mod N (docs/PROTOCOL.md, \"Default-creator schedule\"): L a\n"
            "                       comma-separated list of members, or matrix:FILE, derived\n"
            "                       from a round-trip-time matrix (member i in region i mod K);\n"
            "                       in the committee file and the session id\n"
            "  --epoch-rounds E     epochs of E rounds (docs/PROTOCOL.md, \"Epochs\"): the DAG,\n"
            "                       the backup file and (with aleph node --output-rotate-epoch)\n"
            "                       the output file start anew every E rounds; at least 2;\n"
            "                       default 0: one endless epoch. In the committee file and\n"
            "                       the session id\n");
}

typedef struct keygen_cli {
    uint32_t members, base_port, client_base_port, unit_bytes_max, epoch_rounds;
    const char *out, *host, *addresses, *default_creators;
    int coin;
} keygen_cli;

static const char *const coin_names[] = {"threshold", "off", NULL};
static const int coin_values[] = {ALEPH_COIN_THRESHOLD, ALEPH_COIN_OFF};

#define F(field) offsetof(keygen_cli, field)
static const opt_spec keygen_table[] = {
    {"members", OPT_U32, F(members), 1, ALEPH_MEMBERS_MAX, NULL, NULL},
    {"out", OPT_STRING, F(out), 0, 0, NULL, NULL},
    {"addresses", OPT_STRING, F(addresses), 0, 0, NULL, NULL},
    {"host", OPT_STRING, F(host), 0, 0, NULL, NULL},
    {"base-port", OPT_U32, F(base_port), 1, 65535, NULL, NULL},
    {"client-base-port", OPT_U32, F(client_base_port), 1, 65535, NULL, NULL},
    {"max-unit-bytes", OPT_U32, F(unit_bytes_max), 1024, ALEPH_PAYLOAD_BYTES_MAX, NULL, NULL},
    {"epoch-rounds", OPT_U32, F(epoch_rounds), 0, ALEPH_ROUND_MAX, NULL, NULL},
    {"coin", OPT_CHOICE, F(coin), 0, 0, coin_names, coin_values},
    {"default-creators", OPT_STRING, F(default_creators), 0, 0, NULL, NULL},
    OPT_END,
};

int command_keygen(int argc, char **argv)
{
    keygen_cli k = {.unit_bytes_max = 1u << 20, .coin = ALEPH_COIN_THRESHOLD};
    opts_extra x = {.no_config = 1};
    if (opts_parse(keygen_table, &k, "keygen", argc, argv, 1, &x) != 0) return 2;
    if (x.help) {
        keygen_usage(stdout);
        return 0;
    }
    keygen_params p = {.members = k.members,
                       .out_dir = k.out,
                       .host = k.host ? k.host : "127.0.0.1",
                       .base_port = k.base_port ? k.base_port : 61000,
                       .client_base_port = k.client_base_port,
                       .coin_mode = (aleph_coin_mode)k.coin,
                       .unit_bytes_max = k.unit_bytes_max,
                       .epoch_rounds = k.epoch_rounds};
    int have_members = k.members != 0;
    int have_host = k.host || k.base_port || k.client_base_port;
    const char *addresses_path = k.addresses;
    if (addresses_path && have_host) {
        fprintf(stderr, "aleph keygen: --addresses replaces --host, --base-port and "
                        "--client-base-port: give one or the other\n");
        return 2;
    }
    if (!p.out_dir || (!have_members && !addresses_path)) {
        fprintf(stderr, "aleph keygen: --out and --members (or --addresses) are required (see "
                        "aleph keygen --help)\n");
        return 2;
    }
    if (!addresses_path && !address_host_valid(p.host)) {
        fprintf(stderr, "aleph keygen: --host '%s' is not a host name or IP address\n", p.host);
        return 2;
    }
    committee_member *addresses = NULL;
    char err[KEYS_ERR_MAX];
    if (addresses_path) {
        uint32_t listed = 0;
        if (addresses_load(addresses_path, &addresses, &listed, err, sizeof err) != 0) {
            print_error_lines("aleph keygen", err);
            return 2;
        }
        if (have_members && p.members != listed) {
            fprintf(stderr, "aleph keygen: --members %u but %s lists %u members\n", p.members,
                    addresses_path, listed);
            free(addresses);
            return 2;
        }
        p.members = listed;
        p.addresses = addresses;
    }
    if (p.members < 1) {
        fprintf(stderr, "aleph keygen: committee too small: --members must be at least 1\n");
        return 2;
    }
    uint32_t *sched = NULL;
    if (k.default_creators) {
        sched = malloc(ALEPH_DEFAULT_CREATORS_MAX * sizeof *sched);
        p.default_creators = sched;
        p.default_creators_len = sched ? default_creators_from_spec(k.default_creators, p.members,
                                                                     NULL, sched, err, sizeof err)
                                       : 0;
        if (!p.default_creators_len) {
            fprintf(stderr, "aleph keygen: --default-creators: %s\n", sched ? err : "out of memory");
            free(sched);
            free(addresses);
            return 2;
        }
    }
    int rc = keygen_write(&p, err, sizeof err);
    free(sched);
    free(addresses);
    if (rc != 0) {
        print_error_lines("aleph keygen", err);
        return 1;
    }
    printf("wrote %s/committee.json and %u member key files (coin %s)\n", p.out_dir, p.members,
           coin_mode_name(p.coin_mode));
    return 0;
}

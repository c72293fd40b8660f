/* `aleph node`: option parsing; the node itself is node.c. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "aleph/aleph.h"
#include "base/log.h"
#include "node/node.h"
#include "base/util.h"

static void node_usage(FILE *to)
{
    fprintf(to,
            "usage: aleph node --committee FILE --key FILE [options]\n\n"
            "Runs one member of a committee: connects to the other members (TCP, authenticated\n"
            "with the member keys), orders transactions with them, and writes the order.\n\n"
            "  --committee FILE        committee file (aleph keygen)\n"
            "  --key FILE              this member's key file (its index is in it)\n"
            "  --data-dir DIR          where backup.bin, output.bin and node.log go\n"
            "                          (default ./aleph-member-<index>); must not hold an\n"
            "                          earlier run's files (restart is not supported yet)\n"
            "  --listen ADDR           bind the member port here instead of the committee\n"
            "                          file's address (NAT, containers): HOST, HOST:PORT or\n"
            "                          [IPv6]:PORT, e.g. 0.0.0.0 or [::]:61000. Peers still\n"
            "                          dial the advertised address\n"
            "  --client-port P         client port (default: the committee file's client_port)\n"
            "  --client-host H         address of the client port (default 127.0.0.1)\n"
            "  --log FILE              JSON-lines log (default DATA_DIR/node.log; - for stderr)\n"
            "  --log-level L           debug, info (default), warn or error\n"
            "  --log-units on|off      a line per unit received and ordered (default on)\n"
            "  --round-delay-ms N      minimum time between two own units (default 10)\n"
            "  --idle-round-delay-ms N pace when no transaction is pending (default 500)\n"
            "  --parent-wait-ms N      extra wait for more than a quorum of parents (default 5)\n"
            "  --anti-entropy-ms N     period of the anti-entropy exchange (default 200)\n"
            "  --max-tx-bytes N        largest transaction accepted (default 65536)\n"
            "  --pool-bytes N          transaction pool bound; beyond it submits are refused\n"
            "                          with status 1 (default 67108864)\n"
            "  --queue-bytes N         per-peer send queue bound (default 33554432)\n"
            "  --rounds-max N          stop creating units after round N (default: no limit)\n"
            "  --link-delays SPEC      emulate wide-area links in user space: SPEC is a round-\n"
            "                          trip-time matrix file (shared/data/aws-8-regions-rtt-\n"
            "                          ms.tsv format; member i in region i mod K; one-way\n"
            "                          delay RTT/2, at least 1 ms) or a number of ms one way\n"
            "                          for every link. Outgoing messages wait in a per-peer FIFO\n"
            "                          until due (a link never reorders, as over TCP)\n"
            "  --link-jitter-ms J      with --link-delays: each message +-J ms (uniform; FIFO\n"
            "                          order kept)\n"
            "  --link-loss P           with --link-delays: drop whole member messages with\n"
            "                          probability P. TCP itself loses nothing, so loss in user\n"
            "                          space means lost messages; the protocol heals them by\n"
            "                          requests and anti-entropy\n"
            "  --link-bandwidth-mbit M with --link-delays: this member's uplink in Mbit/s; every\n"
            "                          copy of a message is serialised on it (0: unlimited)\n\n"
            "Client port protocol: u32 little-endian length + transaction, answered by one byte\n"
            "(0 accepted, 1 pool full, 2 too large or empty); the u32 0xFFFFFFFF subscribes to the\n"
            "ordered transactions, streamed as u32 length + bytes.\n"
            "Output file: binary, per batch a header (round, head creator, head hash, depth,\n"
            "output time, unit count) and per unit (round, creator, hash, payload); see\n"
            "src/node/output.h. SIGINT or SIGTERM stops the node cleanly (exit status 0).\n");
}

int command_node(int argc, char **argv)
{
    node_options o;
    node_options_defaults(&o);
    args a;
    args_init(&a, "node", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            node_usage(stdout);
            return 0;
        } else if (args_opt(&a, "--committee")) {
            o.committee_path = a.value;
        } else if (args_opt(&a, "--key")) {
            o.key_path = a.value;
        } else if (args_opt(&a, "--data-dir")) {
            o.data_dir = a.value;
        } else if (args_opt(&a, "--client-port")) {
            o.client_port = args_u32(&a, 1, 65535);
        } else if (args_opt(&a, "--listen")) {
            o.listen = a.value;
        } else if (args_opt(&a, "--client-host")) {
            o.client_host = a.value;
        } else if (args_opt(&a, "--log")) {
            o.log_path = a.value;
        } else if (args_opt(&a, "--log-level")) {
            if (strcmp(a.value, "debug") == 0) o.log_level = LOG_DEBUG;
            else if (strcmp(a.value, "info") == 0) o.log_level = LOG_INFO;
            else if (strcmp(a.value, "warn") == 0) o.log_level = LOG_WARN;
            else if (strcmp(a.value, "error") == 0) o.log_level = LOG_ERROR;
            else {
                fprintf(stderr, "aleph node: --log-level must be debug, info, warn or error\n");
                return 2;
            }
        } else if (args_opt(&a, "--log-units")) {
            if (strcmp(a.value, "on") == 0) o.log_units = 1;
            else if (strcmp(a.value, "off") == 0) o.log_units = 0;
            else {
                fprintf(stderr, "aleph node: --log-units must be on or off\n");
                return 2;
            }
        } else if (args_opt(&a, "--round-delay-ms")) {
            o.round_delay_ms = (int)args_u32(&a, 0, 600000);
        } else if (args_opt(&a, "--idle-round-delay-ms")) {
            o.idle_round_delay_ms = (int)args_u32(&a, 0, 600000);
        } else if (args_opt(&a, "--parent-wait-ms")) {
            o.parent_wait_ms = (int)args_u32(&a, 0, 600000);
        } else if (args_opt(&a, "--anti-entropy-ms")) {
            o.anti_entropy_ms = (int)args_u32(&a, 1, 600000);
        } else if (args_opt(&a, "--max-tx-bytes")) {
            o.max_tx_bytes = args_u32(&a, 1, 4u << 20);
        } else if (args_opt(&a, "--pool-bytes")) {
            o.pool_bytes = args_u32(&a, 1024, 1u << 31);
        } else if (args_opt(&a, "--queue-bytes")) {
            o.queue_bytes = args_u64(&a, 1u << 20, 1ull << 34);
        } else if (args_opt(&a, "--rounds-max")) {
            o.rounds_max = args_u32(&a, 0, ALEPH_ROUND_MAX);
        } else if (args_opt(&a, "--link-delays")) {
            o.link_spec = a.value;
        } else if (args_opt(&a, "--link-jitter-ms")) {
            o.link_jitter_ms = args_double(&a, 0, 60000);
        } else if (args_opt(&a, "--link-loss")) {
            o.link_loss = args_double(&a, 0, 1);
        } else if (args_opt(&a, "--link-bandwidth-mbit")) {
            o.link_bandwidth_mbit = args_double(&a, 0, 1e6);
        } else {
            args_unknown(&a);
        }
    }
    if (a.error) return 2;
    if (!o.link_spec && (o.link_jitter_ms > 0 || o.link_loss > 0 || o.link_bandwidth_mbit > 0)) {
        fprintf(stderr, "aleph node: --link-jitter-ms, --link-loss and --link-bandwidth-mbit need "
                        "--link-delays (use --link-delays 0 for none)\n");
        return 2;
    }
    if (!o.committee_path || !o.key_path) {
        fprintf(stderr, "aleph node: --committee and --key are required (see aleph node --help)\n");
        return 2;
    }
    return node_run(&o);
}

/* `aleph node`: option parsing; the node itself is node.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
#include "aleph/aleph.h"
#include "base/keys.h"
#include "base/log.h"
#include "base/options.h"
#include "net/http_server.h"
#include "node/node.h"
#include "base/util.h"

static void node_usage(FILE *to)
{
    fprintf(to,
            "usage: aleph node --committee FILE --key FILE [options]\n"
            "       aleph node --config FILE [options]\n\n"
            "Runs one member of a committee: connects to the other members (TCP, authenticated\n"
            "with the member keys), orders transactions with them, and writes the order.\n\n"
            "  --config FILE           a JSON object holding any of the options below, keys\n"
            "                          spelt with '_' (\"data_dir\": \"/var/lib/aleph\"); the\n"
            "                          flags given too override it; relative paths are from\n"
            "                          the working directory\n"
            "  --print-config          print the effective configuration (defaults, the file,\n"
            "                          the flags) as such a JSON file, and exit\n"
            "  --committee FILE        committee file (aleph keygen)\n"
            "  --key FILE              this member's key file (its index is in it)\n"
            "  --data-dir DIR          where backup-E.bin, output.bin (and its rotated files\n"
            "                          output-SEQ.bin) and node.log go\n"
            "                          (default ./aleph-member-<index>). A data dir that holds\n"
            "                          a backup is a restart: the member restores its DAG from\n"
            "                          it, continues its own rounds above its newest own unit\n"
            "                          and its output file without writing a batch twice; a\n"
            "                          data dir of another member or committee is refused\n"
            "  --recover               after a lost or stale backup: when a peer holds a unit\n"
            "                          of this key newer than the data dir holds, fetch it and\n"
            "                          continue above it (without it, the node refuses to start\n"
            "                          and says so). Before its first unit after any start the\n"
            "                          member asks every peer for its newest own unit and waits\n"
            "                          for a quorum of answers (docs/PROTOCOL.md, \"Restart\")\n"
            "  --listen ADDR           bind the member port here instead of the committee\n"
            "                          file's address (NAT, containers): HOST, HOST:PORT or\n"
            "                          [IPv6]:PORT, e.g. 0.0.0.0 or [::]:61000. Peers still\n"
            "                          dial the advertised address\n"
            "  --client-port P         client port (default 0: the committee file's client_port)\n"
            "  --client-host H         address of the client port (default 127.0.0.1)\n"
            "  --log FILE              JSON-lines log (default DATA_DIR/node.log; - for stderr)\n"
            "  --log-level L           debug, info (default), warn or error\n"
            "  --log-units on|off      a line per unit received and ordered (default on)\n"
            "  --precheck on|off       check range answers' signatures on worker threads before\n"
            "                          the member takes them (default on)\n"
            "  --round-delay-ms N      minimum time between two own units while anything waits\n"
            "                          to be ordered (default 2; none while a full unit waits)\n"
            "  --idle-round-delay-ms N pace when no transaction is pending (default 500)\n"
            "  --parent-wait-ms N      extra wait for more than a quorum of parents (default 0)\n"
            "  --candidate-wait-ms N   extra wait, after a quorum, for the last round's first\n"
            "                          candidate when it usually comes that soon (default 30)\n"
            "  --head-parent-wait-ms N the next round's default creator's extra wait, after a\n"
            "                          quorum, for the last round's units that usually come\n"
            "                          that soon (default 0)\n"
            "  --anti-entropy-ms N     period of the anti-entropy exchange (default 200)\n"
            "  --max-tx-bytes N        largest transaction accepted (default 65536)\n"
            "  --pool-bytes N          transaction pool bound; beyond it submits are refused\n"
            "                          with status 1 (default 67108864)\n"
            "  --queue-bytes N         per-peer send queue bound (default 33554432)\n"
            "  --rounds-max N          stop creating units after round N (default: no limit)\n"
            "  --epochs-kept K         finished epochs kept to answer members still in them: a\n"
            "                          member up to K epochs behind catches up (1..16,\n"
            "                          default 3; local, not committee-wide)\n"
            "  --epochs-archived A     finished epochs' backup files kept on disk beyond those\n"
            "                          K and served from, one loaded at a time, when a peer asks\n"
            "                          about one: a member up to K + A epochs behind catches\n"
            "                          up (0..1024, default 8; 0: off). Costs A more backup\n"
            "                          files: each holds its epoch's units whole\n"
            "  --link-delays SPEC      emulate wide-area links in user space: SPEC is a round-\n"
            "                          trip-time matrix file (tests/data/aws-8-regions-rtt-\n"
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
            "                          copy of a message is serialised on it (0: unlimited)\n"
            "  --output-mode M         full (default): every ordered batch with its units and\n"
            "                          transactions; chain: per batch its header and a hash\n"
            "                          chain value only (~120 bytes, enough to check agreement\n"
            "                          with a full output; no resume for subscribers)\n"
            "  --output-rotate-bytes N start a new output file once output.bin holds N bytes:\n"
            "                          output.bin becomes output-SEQ.bin (SEQ: its first batch)\n"
            "                          (default 1073741824; 0: never)\n"
            "  --output-rotate-epoch   also start a new output file at every epoch's first\n"
            "                          batch (committees with epoch_rounds)\n"
            "  --output-keep-files K   keep the newest K rotated output files, delete older\n"
            "                          ones (default 0: keep all)\n"
            "  --output-keep-bytes N   keep the newest rotated output files up to N bytes in\n"
            "                          all (default 0: keep all); output.bin is always kept\n"
            "  --metrics HOST:PORT     serve Prometheus metrics at http://HOST:PORT/metrics and\n"
            "                          /health (200 when linked to a quorum and ordering, 503\n"
            "                          otherwise); [ADDR]:PORT for IPv6 (docs/METRICS.md)\n"
            "Member port limits (a source is an IPv4 address or an IPv6 /64):\n"
            "  --handshake-timeout-ms N  a handshake, dialed or accepted, not done in N ms\n"
            "                          is dropped (default 2000)\n"
            "  --handshake-per-source N  accepted handshakes at once from one source; more are\n"
            "                          closed at once (default 8). The address of a member\n"
            "                          that dials this one gets 2 more per such member, and\n"
            "                          over that one of its handshakes makes room (a silent\n"
            "                          one first, then one waiting to authenticate, oldest\n"
            "                          first: docs/PROTOCOL.md, \"Connection limits\")\n"
            "  --handshake-max N       accepted handshakes at once from all sources that are\n"
            "                          not members' addresses (default 64); members' addresses\n"
            "                          are not counted in it, so strangers never crowd them out\n"
            "Client port limits (over a limit the client is sent status 5 and closed):\n"
            "  --client-connections-max N  connections at once (default 1024, lowered to fit\n"
            "                          the open-files limit, which the node raises to its hard\n"
            "                          limit; logged as client_connections_lowered)\n"
            "  --client-per-source N   connections at once from one source (default 512)\n"
            "                          Over either bound, the connection idle longest (1 s at\n"
            "                          least) is closed to make room, with status 5\n"
            "  --client-subscribers-max N  subscribers at once (default 32)\n"
            "  --client-idle-timeout-ms N  close a connection idle this long: nothing half\n"
            "                          sent, no answer owed, not a subscriber (default 60000;\n"
            "                          0: never)\n"
            "  --client-read-timeout-ms N  a transaction or command begun must arrive whole\n"
            "                          within N ms (default 10000; 0: no limit)\n"
            "Each limit is counted in the stats lines (\"net\", \"clients\") and the metrics,\n"
            "and a \"limits\" line per stats interval says which acted, how often.\n\n"
            "Client port protocol: u32 little-endian length + transaction, answered by one byte\n"
            "(0 accepted: in the pool, not yet durable; 1 pool full; 2 too large or empty; 3 the\n"
            "member is halted or stopping and creates no more units: submit elsewhere; 5\n"
            "refused: over a client port limit, sent unasked before the node closes); the u32\n"
            "0xFFFFFFFE asks for durable answers (4 once the transaction is in a durable own\n"
            "unit); the u32 0xFFFFFFFF subscribes to the ordered transactions from the next\n"
            "batch on, streamed as u32 length + bytes. Resume: the u32 0xFFFFFFFD + u64 FROM\n"
            "streams every batch from the global batch number FROM on (0, 1, 2, ... across\n"
            "epochs and output files), the old ones read back from the output files kept, then\n"
            "the new ones; answered by u8 status + u64: 0 + FROM, then per batch u32 0xFFFFFFFD,\n"
            "u64 batch number, u32 epoch, u32 transactions, u32 bytes and the transactions\n"
            "(u32 length + bytes each); 6 + the oldest batch kept when FROM is older than the\n"
            "retention keeps; 7 + 0 with --output-mode chain (refusals close the connection).\n"
            "A client that reconnects with the number after the last batch it processed gets\n"
            "every batch exactly once (src/node/client.h).\n"
            "Output file: binary; per batch a header (batch number, epoch, index in the epoch,\n"
            "round, head creator, head hash, depth, output time, unit and transaction counts,\n"
            "chain value) and in full mode per unit (round, creator, hash, payload); see\n"
            "src/node/output.h. A restart writes no batch twice and none missing, across\n"
            "rotated files. SIGINT or SIGTERM stops the node cleanly (exit status 0).\n");
}

int command_node(int argc, char **argv)
{
    node_options o;
    node_options_defaults(&o);
    opts_extra x = {0};
    /* First pass: --help and --config only; the file is applied, then the flags over it. */
    if (opts_parse(node_option_table, &o, "node", argc, argv, 0, &x) != 0) return 2;
    if (x.help) {
        node_usage(stdout);
        return 0;
    }
    json_t *config = NULL;
    if (x.config) {
        char err[KEYS_ERR_MAX];
        if (opts_load_json(node_option_table, &o, x.config, &config, err, sizeof err) != 0) {
            print_error_lines("aleph node", err);
            return 2;
        }
    }
    int rc = opts_parse(node_option_table, &o, "node", argc, argv, 1, &x);
    if (rc == 0 && !o.link_spec &&
        (o.link_jitter_ms > 0 || o.link_loss > 0 || o.link_bandwidth_mbit > 0)) {
        fprintf(stderr, "aleph node: --link-jitter-ms, --link-loss and --link-bandwidth-mbit need "
                        "--link-delays (use --link-delays 0 for none)\n");
        rc = 2;
    }
    char host[256], why[512];
    uint16_t port;
    if (rc == 0 && o.metrics_listen &&
        http_listen_parse(o.metrics_listen, host, sizeof host, &port, why, sizeof why) != 0) {
        fprintf(stderr, "aleph node: --metrics %s\n", why);
        rc = 2;
    }
    if (rc == 0 && x.print_config) {
        json_t *effective = opts_to_json(node_option_table, &o);
        char *text = effective ? json_dumps(effective, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (text) printf("%s\n", text);
        else rc = 1;
        free(text);
        json_decref(effective);
    } else if (rc == 0 && (!o.committee_path || !o.key_path)) {
        fprintf(stderr, "aleph node: --committee and --key are required, as flags or in the "
                        "--config file (see aleph node --help)\n");
        rc = 2;
    } else if (rc == 0) {
        rc = node_run(&o);
    }
    json_decref(config);
    return rc;
}

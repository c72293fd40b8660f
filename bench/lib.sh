# Shared by the benchmark scripts in bench/ (sourced, not run): machine description, one
# `aleph local` run recorded as a JSON line, and a markdown table of the results.
#
# Every script writes bench/results/<name>-<stamp>.jsonl (one summary per run, with the
# machine and the exact command) and bench/results/<name>-<stamp>.md (the table, the
# machine, the commands), and prints the table.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd "$BENCH_DIR/.." && pwd)
RESULTS_DIR=${RESULTS_DIR:-$BENCH_DIR/results}

bench_init() { # name
    BENCH_NAME=$1
    mkdir -p "$RESULTS_DIR"
    local stamp
    stamp=$(date -u +%Y%m%d-%H%M%S)
    BENCH_JSONL="$RESULTS_DIR/$BENCH_NAME-$stamp.jsonl"
    BENCH_MD="$RESULTS_DIR/$BENCH_NAME-$stamp.md"
    BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/aleph-bench.XXXXXX")
    trap 'rm -rf "$BENCH_WORK"' EXIT
    : > "$BENCH_JSONL"
    BENCH_ROWS=()
    BENCH_COMMANDS=()
}

# One line: nproc, CPU model, memory, kernel, and the load when the script started.
machine_json() {
    local model mem
    model=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //; s/"/\\"/g')
    mem=$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
    printf '{"nproc": %s, "cpu_model": "%s", "memory_gib": %s, "kernel": "%s", "loadavg": "%s"}' \
        "$(nproc)" "$model" "$mem" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

machine_text() {
    printf '%s cores (%s), %s GiB memory, Linux %s; load average %s when the script started' \
        "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" \
        "$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)" "$(uname -r)" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# Field readers for the one-line JSON summary.
jnum() { echo "$1" | grep -o "\"$2\": [-0-9.a-z]*" | head -1 | sed 's/.*: //'; }
jsub() { echo "$1" | grep -o "\"$2\": {[^}]*}" | grep -o "\"$3\": [-0-9.]*" | head -1 | sed 's/.*: //'; }

# bench_run LABEL ALEPH ARGS... : runs `aleph local ARGS --json --quiet`, appends the summary
# (with "bench", "label", "machine", "command") to the JSONL file, and leaves it in $RUN_JSON
# (empty when the run produced none). Returns aleph local's status.
bench_run() {
    local label=$1 aleph=$2
    shift 2
    rm -rf "$BENCH_WORK/run"
    local cmd="aleph local $* --json --quiet"
    cmd=${cmd//$BENCH_REPO\//}
    BENCH_COMMANDS+=("$cmd")
    RUN_JSON=$("$aleph" local "$@" --out "$BENCH_WORK/run" --json --quiet 2>"$BENCH_WORK/err")
    local rc=$?
    if [ -z "$RUN_JSON" ]; then
        echo "bench: $label: aleph local failed (status $rc): $(head -3 "$BENCH_WORK/err")" >&2
        printf '{"bench": "%s", "label": "%s", "failed": true, "status": %d, "machine": %s, "command": "%s"}\n' \
            "$BENCH_NAME" "$label" "$rc" "$(machine_json)" "$cmd" >> "$BENCH_JSONL"
        return $rc
    fi
    # drop the per-member array and the temporary paths; add the context
    local core
    core=$(echo "$RUN_JSON" | sed 's/, "per_member": \[.*\]//; s/, "source": "[^"]*"//; s/, "run_dir": "[^"]*"//; s/}$//')
    printf '%s, "bench": "%s", "label": "%s", "status": %d, "machine": %s, "command": "%s"}\n' \
        "$core" "$BENCH_NAME" "$label" "$rc" "$(machine_json)" "$cmd" >> "$BENCH_JSONL"
    if [ -n "${KEEP_PLOTS:-}" ]; then
        "$aleph" analyze "$BENCH_WORK/run" --out "$KEEP_PLOTS/$label" >/dev/null 2>&1
    fi
    return $rc
}

# A row of the standard columns from $RUN_JSON, after the given leading cells.
bench_row() {
    local j=$RUN_JSON kept lead="" c
    for c in "$@"; do lead+="$c | "; done
    kept=$(jnum "$j" client_kept_rate)
    local row="| $lead$(jnum "$j" offered_tx_s) | $(jnum "$j" throughput_tx_s) | $(jsub "$j" latency_ms p50) | $(jsub "$j" latency_ms p95) | $(jsub "$j" latency_ms p99) | $(jsub "$j" consensus_latency_ms p50) | $(jnum "$j" rounds_per_s) | $(jnum "$j" cpu_s_per_member) | $(jnum "$j" peak_rss_mb) | $(jnum "$j" other_cpu_s) | $kept | $(jnum "$j" agreement) |"
    BENCH_ROWS+=("$row")
}

BENCH_HEADER_STD="offered tx/s | throughput tx/s | p50 ms | p95 ms | p99 ms | consensus p50 ms | rounds/s | CPU s/member | peak RSS MB | other processes' CPU s | client kept rate | agreement"

# bench_finish TITLE LEADING_HEADER NOTES: writes the markdown file and prints the table.
bench_finish() {
    local title=$1 lead=$2 notes=${3:-}
    local sep
    sep=$(echo "| $lead | $BENCH_HEADER_STD |" | sed 's/[^|]/-/g; s/--*/---/g')
    {
        echo "### $title"
        echo
        echo "Machine: $(machine_text)."
        echo
        [ -n "$notes" ] && { echo "$notes"; echo; }
        echo "| $lead | $BENCH_HEADER_STD |"
        echo "$sep"
        printf '%s\n' "${BENCH_ROWS[@]}"
        echo
        echo "Commands (each with \`--out DIR\`):"
        echo
        printf '    %s\n' "${BENCH_COMMANDS[@]}"
        echo
        echo "Raw results: \`bench/results/$(basename "$BENCH_JSONL")\`."
    } > "$BENCH_MD"
    cat "$BENCH_MD"
}

# ge A B: A >= B (decimals)
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

# bench_sweep_args SCRIPT ARGS...: the options of the size sweeps (committee_size.sh,
# faults.sh) over the defaults the caller set in sizes, rate, duration and wan: --sizes,
# --rate, --duration, --wan FILE, then -- and more `aleph local` arguments (into extra).
# Sets net_args (--wan FILE, or nothing) and network (loopback or the WAN, for the tables).
bench_sweep_args() {
    local script=$1
    shift
    extra=()
    while [ $# -gt 0 ]; do
        case $1 in
            --sizes) sizes=$2; shift 2 ;;
            --rate) rate=$2; shift 2 ;;
            --duration) duration=$2; shift 2 ;;
            --wan) wan=$2; shift 2 ;;
            --) shift; extra=("$@"); break ;;
            *) echo "$script: unknown option $1" >&2; exit 2 ;;
        esac
    done
    net_args=() network=loopback
    [ -n "$wan" ] && net_args=(--wan "$wan") network="emulated WAN ($(basename "$wan"))"
}

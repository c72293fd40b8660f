# For the metrics tests (sourced, not run): a committee of `aleph local --metrics`.

# local_metrics_start ALEPH DIR SECONDS: N=4 under light load (300 tx/s x 256 B) for SECONDS
# in the background, run files in DIR/run, stdout DIR/out.json, stderr DIR/err.txt; sets
# local_pid and targets (DIR/run/prometheus_targets.json) once that file is written, or calls
# the caller's fail.
local_metrics_start() {
    local aleph=$1 dir=$2 seconds=$3
    "$aleph" local --members 4 --duration "$seconds" --rate 300 --tx-size 256 --metrics \
        --out "$dir/run" --json --quiet >"$dir/out.json" 2>"$dir/err.txt" &
    local_pid=$!
    targets="$dir/run/prometheus_targets.json"
    for _ in $(seq 1 300); do [ -s "$targets" ] && break; sleep 0.1; done
    [ -s "$targets" ] || fail "no $targets"
}

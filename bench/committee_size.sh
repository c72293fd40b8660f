#!/usr/bin/env bash
# Committee size sweep: one `aleph local` run per committee size at a fixed offered load,
# loopback or an emulated WAN. Every member is a process on this machine, so large
# committees measure this machine's CPU (N*(N-1) signature checks per round) as much as the
# protocol; the table records CPU per member and the machine.
#
#   bench/committee_size.sh PATH_TO_aleph [--sizes "4 7 10 16 25 32"] [--rate R]
#                           [--duration S] [--wan FILE] [-- MORE aleph local ARGS]
set -u
aleph=${1:?usage: committee_size.sh PATH_TO_aleph [options]}
shift
. "$(dirname "$0")/lib.sh"
sizes="4 7 10 16 25 32" rate=2000 duration=15 wan=""
bench_sweep_args committee_size.sh "$@"
bench_init committee_size
for n in $sizes; do
    if ! bench_run "n$n" "$aleph" --members "$n" --rate "$rate" --duration "$duration" "${net_args[@]}" "${extra[@]}"; then
        [ -n "$RUN_JSON" ] || { BENCH_ROWS+=("| $n | $network | failed to run |"); continue; }
    fi
    bench_row "$n" "$network"
    echo "committee_size: N=$n: $(jnum "$RUN_JSON" throughput_tx_s) tx/s, p50 $(jsub "$RUN_JSON" latency_ms p50) ms" >&2
done
bench_finish "Committee size: $rate tx/s offered, $network, $duration s per run" "members | network" \
    "512-byte transactions; every member a process on this one machine."

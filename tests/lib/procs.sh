# For scripts that start `aleph node` (or other servers) themselves on loopback (sourced, not
# run): a free range of ports, and killing everything the script started.

# free_port_base COUNT: prints a base port (20000..54999, drawn with $RANDOM, so a seeded
# script draws the same) with COUNT ports above it that no TCP socket uses now (ss); after
# 50 draws the last one.
free_port_base() {
    local count=$1 base used
    for _ in $(seq 50); do
        base=$(( 20000 + RANDOM % 35000 ))
        used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' |
               awk -v b="$base" -v n="$count" '$1 >= b && $1 < b + n' | head -1)
        [ -z "$used" ] && { echo "$base"; return; }
    done
    echo "$base"
}

# procs_kill: kill -9 every member in the caller's pids[] and every background job (each
# continued first, in case it was stopped), and reaps them.
procs_kill() {
    for p in "${pids[@]}" $(jobs -p); do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
}

# raise_fds NEED WHO: raises this shell's open-files limit to at least NEED (up to the hard
# limit); when it cannot, prints "WHO: SKIP: ..." and returns 1 (callers exit 77).
raise_fds() {
    local need=$1 who=$2 fds
    fds=$(ulimit -n)
    [ "$fds" = unlimited ] || [ "$fds" -ge "$need" ] && return 0
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    fds=$(ulimit -n)
    [ "$fds" = unlimited ] || [ "$fds" -ge "$need" ] && return 0
    echo "$who: SKIP: ulimit -n is $fds (hard $(ulimit -Hn)), $need needed"
    return 1
}

# procs_run_dir NAME WHO KEEP_VAR: a fresh run directory in $dir ($TMPDIR/aleph-NAME.XXXXXX),
# an empty pids[], and an EXIT trap that kills everything the script started (procs_kill) and
# removes $dir, or keeps it and prints "WHO: kept DIR" when the variable named KEEP_VAR is set
# (in the environment, or by the script's fail).
procs_run_dir() {
    dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-$1.XXXXXX")
    pids=()
    procs_who=$2 procs_keep_var=$3
    trap procs_cleanup EXIT
}

procs_cleanup() {
    procs_kill
    if [ -n "${!procs_keep_var:-}" ]; then echo "$procs_who: kept $dir"; else rm -rf "$dir"; fi
}

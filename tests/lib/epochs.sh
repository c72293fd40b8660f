# For the epoch scripts that run members in $epochs_dir/m0, m1, ... (sourced, not run).
# The caller sets epochs_dir and defines fail; it may define wait_epoch_detail, whose output
# is added to wait_epoch's failure.

# newest_backup MEMBER: the newest epoch E of MEMBER's backup-E.bin files (-1: none yet).
newest_backup() {
    local e
    e=$(ls "${epochs_dir:?}/m$1" 2>/dev/null | sed -n 's/^backup-\([0-9]*\)\.bin$/\1/p' | sort -n | tail -1)
    echo "${e:--1}"
}

# wait_epoch MEMBER EPOCH: until MEMBER's newest backup is at least EPOCH; fails after 120 s.
wait_epoch() {
    local t=0 detail=""
    while [ "$(newest_backup "$1")" -lt "$2" ]; do
        if [ "$t" -ge 6000 ]; then
            declare -F wait_epoch_detail >/dev/null && detail=" ($(wait_epoch_detail))"
            fail "member $1 did not reach epoch $2 within 120 s$detail"
        fi
        sleep 0.02
        t=$((t + 1))
    done
}

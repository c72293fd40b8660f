#!/usr/bin/env bash
# Mutation testing of the protocol rules: plants each mutant of tests/mutants/list (a sed
# expression on one source file) alone, builds (build-mutate, Release), runs the ctest tests
# named for it, and prints killed (some test failed) or survived; restores the file after each.
# Not part of `make check` (a build and the simulator tests per mutant: minutes each).
#   scripts/mutate.sh [name-regex]
set -u
cd "$(dirname "$0")/.."
ONLY=${1:-.}
BUILD=build-mutate
cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 2
killed=0 survived=0 broken=0
current=""
restore() { [ -n "$current" ] && git checkout -q -- "$current"; current=""; }
trap restore EXIT INT TERM
while IFS='|' read -r name file expr tests; do
    name=$(echo "$name" | xargs); file=$(echo "$file" | xargs)
    case "$name" in ''|\#*) continue ;; esac
    echo "$name" | grep -Eq "$ONLY" || continue
    expr=$(echo "$expr" | sed 's/^ *//; s/ *$//'); tests=$(echo "$tests" | xargs)
    if ! git diff --quiet -- "$file"; then echo "mutate: $file has local changes; stop"; exit 2; fi
    current=$file
    sed -i "$expr" "$file"
    if git diff --quiet -- "$file"; then
        echo "BROKEN   $name: the expression does not change $file"; broken=$((broken + 1)); restore; continue
    fi
    start=$(date +%s)
    if ! cmake --build $BUILD -j2 >/dev/null 2>&1; then
        echo "BROKEN   $name: does not build"; broken=$((broken + 1)); restore; continue
    fi
    if (cd $BUILD && ctest -j2 -R "$tests" >/dev/null 2>&1); then
        echo "SURVIVED $name ($tests) $(( $(date +%s) - start )) s"; survived=$((survived + 1))
    else
        echo "killed   $name ($tests) $(( $(date +%s) - start )) s"; killed=$((killed + 1))
    fi
    restore
done < tests/mutants/list
cmake --build $BUILD -j2 >/dev/null 2>&1
total=$((killed + survived))
echo "mutate: $killed of $total killed, $survived survived, $broken broken"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]

#!/usr/bin/env bash
# Mutation testing of the protocol rules: plants each mutant of tests/mutants/list (a sed
# expression on one source file) alone, builds (build-mutate, Release) only what the ctest tests
# named for it need (their programs and the aleph binary), runs them, and prints killed (some
# test failed) or survived; restores the file after each. Not part of `make check` (see
# docs/TESTING.md for the list's result and time).
#   scripts/mutate.sh [name-regex]
set -u
cd "$(dirname "$0")/.."
ONLY=${1:-.}
BUILD=build-mutate
cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 2
# The build targets of the tests matching a ctest regex: each cmocka test is a program of its
# name; the scripted tests run the aleph binary, built always.
targets_for() {
    (cd $BUILD && ctest -N -R "$1" 2>/dev/null) | sed -n 's/^ *Test *#[0-9]*: \(test_[A-Za-z0-9_]*\)$/\1/p' |
        while read -r t; do [ -f "tests/$t.c" ] && echo "$t"; done | tr '\n' ' '
}
all_start=$(date +%s)
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
    if ! cmake --build $BUILD -j2 --target aleph $(targets_for "$tests") >/dev/null 2>&1; then
        echo "BROKEN   $name: does not build"; broken=$((broken + 1)); restore; continue
    fi
    if (cd $BUILD && ctest -j2 -R "$tests" >/dev/null 2>&1); then
        echo "SURVIVED $name ($tests) $(( $(date +%s) - start )) s"; survived=$((survived + 1))
    else
        echo "killed   $name ($tests) $(( $(date +%s) - start )) s"; killed=$((killed + 1))
    fi
    restore
done < tests/mutants/list
total=$((killed + survived))
echo "mutate: $killed of $total killed, $survived survived, $broken broken ($(( $(date +%s) - all_start )) s)"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]

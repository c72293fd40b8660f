#!/usr/bin/env bash
# Fails when the files of one floor call each other in a circle (a.c calls b.c, which calls
# a.c back, directly or through others): inside a floor, calls go one way (docs/ARCHITECTURE.md).
# Reads the compiled objects of a build (nm): usage check-calls.sh BUILD_DIR.
# A file's callees are the global functions and data it uses that another file of the same
# floor defines; tsort finds the circles. A function pointer set by a third file (the DAG's
# fork hooks, wired by member.c) is not a call of the file that calls through it.
set -euo pipefail
build=${1:?usage: check-calls.sh BUILD_DIR}
bad=0
floors=0
for dir in $(find "$build/CMakeFiles" -type d -path '*/src/*' | sort); do
    floor=${dir##*/}
    objs=$(find "$dir" -maxdepth 1 -name '*.o' | sort)
    [ -n "$objs" ] || continue
    floors=$((floors + 1))
    edges=$(for o in $objs; do
        f=$(basename "$o" .c.o)
        nm "$o" | awk -v f="$f" '$2 ~ /^[TDBR]$/ {print "D", f, $3} $1 == "U" {print "U", f, $2}'
    done | awk '
        $1 == "D" { def[$3] = $2; next }
        { use[NR] = $2 " " $3 }
        END {
            for (i in use) {
                split(use[i], p, " ")
                d = def[p[2]]
                if (d == "" || d == p[1]) continue
                print p[1], d
            }
        }' | sort -u)
    [ -n "$edges" ] || continue
    if ! out=$(echo "$edges" | tsort 2>&1 >/dev/null); then :; fi
    if [ -n "$out" ]; then
        echo "check-calls: src/$floor: files call each other in a circle:"
        echo "$out" | sed -n 's/^tsort: /  /p'
        bad=1
    fi
done
[ "$floors" -gt 0 ] || { echo "check-calls: no objects under $build"; exit 1; }
if [ "$bad" -ne 0 ]; then exit 1; fi
echo "check-calls: calls inside each of $floors floors go one way; 1 passed, 0 failed"

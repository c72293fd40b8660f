#!/usr/bin/env bash
# Fails when a source file includes from a higher floor, or a shell includes a core-private
# header. The floors, lowest first (docs/ARCHITECTURE.md):
#   core  base  sim|net  node  measure  harness  cli
# A file may include the public header, headers of its own folder (unqualified) and headers of
# floors below its own ("floor/name.h"). sim and net sit side by side: neither includes the other.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A level=([core]=0 [base]=1 [sim]=2 [net]=2 [node]=3 [measure]=4 [harness]=5 [cli]=6)
bad=0
for file in $(git ls-files 'src/*.c' 'src/*.h'); do
    own=$(echo "$file" | cut -d/ -f2)
    [ -n "${level[$own]+x}" ] || { echo "check-floors: $file: folder '$own' is not a floor"; bad=1; continue; }
    while IFS= read -r inc; do
        case "$inc" in aleph/*) continue ;; esac
        if [[ "$inc" != */* ]]; then
            [ -f "src/$own/$inc" ] || { echo "check-floors: $file: \"$inc\" is not in src/$own"; bad=1; }
            continue
        fi
        floor=${inc%%/*}
        if [ -z "${level[$floor]+x}" ]; then
            echo "check-floors: $file: \"$inc\" names no floor"; bad=1; continue
        fi
        if [ "$floor" = core ] && [ "$own" != core ]; then
            echo "check-floors: $file includes core-private \"$inc\" (use include/aleph/aleph.h)"
            bad=1; continue
        fi
        if [ "${level[$floor]}" -ge "${level[$own]}" ] && [ "$floor" != "$own" ]; then
            echo "check-floors: $file ($own) includes \"$inc\" from floor $floor, not below it"
            bad=1
        fi
        if [ "$floor" = "$own" ]; then
            echo "check-floors: $file: include \"$inc\" unqualified (same folder)"; bad=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done
if [ "$bad" -ne 0 ]; then exit 1; fi
echo "check-floors: every include goes down a floor; 1 passed, 0 failed"

#!/usr/bin/env bash
# Writes the fuzzers' seed corpus (fuzz/corpus/<target>) from a simulator run: real units,
# requests, anti-entropy and fork alerts as honest members sent them (aleph sim --dump).
#   scripts/fuzz-corpus.sh [path/to/aleph]
# fuzz_unit and fuzz_alert take the session from their input, so real units decode there;
# fuzz_member gets every message framed as its input expects (mode byte, then sender, u16
# length, bytes); its member has other keys, so those go as far as the signature check.
set -euo pipefail
cd "$(dirname "$0")/.."
aleph=${1:-build/aleph}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$aleph" sim --members 4 --byzantine 1 --byzantine-kind forker --rounds 12 --seed 7 \
    --dump "$tmp/run" >/dev/null
rm -rf fuzz/corpus
mkdir -p fuzz/corpus/fuzz_unit fuzz/corpus/fuzz_alert fuzz/corpus/fuzz_member
for f in "$tmp"/run/messages/*.bin; do
    name=$(basename "$f" .bin)
    type=${name%%-*}
    case "$type" in
    1) tail -c +2 "$f" >"fuzz/corpus/fuzz_unit/unit-$name" ;;
    9 | 11) tail -c +2 "$f" >"fuzz/corpus/fuzz_alert/alert-$name" ;;
    esac
    len=$(stat -c %s "$f")
    [ "$len" -le 65535 ] || continue
    { printf '\x00\x01'; printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
      cat "$f"; } >"fuzz/corpus/fuzz_member/msg-$name"
done
echo "fuzz corpus: $(ls fuzz/corpus/fuzz_unit | wc -l) units, $(ls fuzz/corpus/fuzz_alert | wc -l) alerts and certificates, $(ls fuzz/corpus/fuzz_member | wc -l) member inputs"

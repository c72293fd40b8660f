#!/usr/bin/env bash
# Installs a build into a temporary prefix, then builds examples/committee.c against the
# installed library the way an embedder would (pkg-config --cflags --libs aleph), shared and
# static, and runs it (four members in one process; exit 0 when they agree).
#   scripts/check-install.sh BUILD_DIR      install an existing build (ctest test_install)
#   scripts/check-install.sh --fresh        configure and build from scratch without the tests
#                                           (cmocka not needed), then the same (.ci/run)
# ALEPH_EXAMPLE_CFLAGS: extra flags for the example (the sanitizer build's -fsanitize=...).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/aleph-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "check-install: FAIL: $*"; exit 1; }

if [ "${1:-}" = "--fresh" ]; then
    build="$work/build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DALEPH_TESTS=OFF >/dev/null
    cmake --build "$build" -j "${JOBS:-2}" >/dev/null
else
    build=${1:?usage: check-install.sh BUILD_DIR | --fresh}
fi
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

pc=$(find "$prefix" -name aleph.pc -path '*pkgconfig*')
libdir=$(dirname "${pc%%$'\n'*}")/..
[ -d "$libdir" ] || fail "no aleph.pc installed"
libdir=$(cd "$libdir" && pwd)
for f in "$prefix/bin/aleph" "$prefix/include/aleph/aleph.h" "$libdir/libaleph.a" \
         "$libdir/libaleph.so"; do
    [ -e "$f" ] || fail "$f not installed"
done
soname=$(readelf -d "$libdir/libaleph.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ -n "$soname" ] && [ -e "$libdir/$soname" ] || fail "libaleph.so has no soname, or $soname is missing"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
flags="-std=c17 -Wall -Wextra -Werror ${ALEPH_EXAMPLE_CFLAGS:-}"
# shellcheck disable=SC2046,SC2086
cc $flags "$root/examples/committee.c" $(pkg-config --cflags --libs aleph) -o "$work/committee" ||
    fail "the example does not build against the installed library"
# shellcheck disable=SC2046,SC2086
cc $flags "$root/examples/committee.c" $(pkg-config --cflags aleph) "$libdir/libaleph.a" \
    $(pkg-config --libs libsodium) -o "$work/committee-static" ||
    fail "the example does not build against the static library"
# (whole outputs captured first: under pipefail, grep -q closing the pipe early would fail it)
linked=$(ldd "$work/committee")
grep -q "$soname" <<<"$linked" || fail "the example is not linked to $soname"
LD_LIBRARY_PATH="$libdir" "$work/committee" || fail "the example (shared library) failed"
"$work/committee-static" || fail "the example (static library) failed"
# One version everywhere: the installed header's macros, the library's aleph_version(), aleph.pc.
cat >"$work/version.c" <<'C'
#include <aleph/aleph.h>
#include <stdio.h>
int main(void)
{
    printf("%d.%d.%d %s\n", ALEPH_VERSION_MAJOR, ALEPH_VERSION_MINOR, ALEPH_VERSION_PATCH,
           aleph_version());
    return 0;
}
C
# shellcheck disable=SC2046,SC2086
cc $flags "$work/version.c" $(pkg-config --cflags --libs aleph) -o "$work/version" ||
    fail "a version check does not build"
versions=$(LD_LIBRARY_PATH="$libdir" "$work/version")
modversion=$(pkg-config --modversion aleph)
[ "$versions" = "$modversion $modversion" ] ||
    fail "versions differ: header and library '$versions', aleph.pc '$modversion'"
[ "$soname" = "libaleph.so.${modversion%%.*}" ] || fail "soname $soname for version $modversion"
echo "check-install: ok ($(pkg-config --modversion aleph), $soname, installed to a temporary prefix)"

#!/usr/bin/env bash
# deploy/systemd/aleph@.service passes `systemd-analyze verify` with no complaint at all
# (unknown keys and bad values are only warnings there, so any output fails the test), for an
# instance, with ExecStart pointing at the aleph just built. Skips where systemd-analyze is
# absent. Checked to fail: a misspelt key (ProtectSytem=strict) makes verify warn.
set -u
aleph=${1:?usage: deploy_systemd.sh PATH_TO_aleph}
unit=$(dirname "$0")/../deploy/systemd/aleph@.service
if ! command -v systemd-analyze > /dev/null; then
    echo "deploy_systemd: SKIP: systemd-analyze not installed (Debian package systemd)"
    exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-deploy-systemd.XXXXXX")
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/bin/aleph|$(readlink -f "$aleph")|" "$unit" > "$dir/aleph@.service"
grep -q "^ExecStart=$(readlink -f "$aleph") node --config" "$dir/aleph@.service" ||
    { echo "deploy_systemd: FAIL: ExecStart not found in the unit"; exit 1; }
ln -s aleph@.service "$dir/aleph@0.service"
out=$(cd "$dir" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$dir/aleph@0.service" 2>&1)
rc=$?
# verify also lints the system's own units that it loads; keep only what names ours.
ours=$(echo "$out" | grep -F "aleph@")
if [ "$rc" -ne 0 ] || [ -n "$ours" ]; then
    echo "deploy_systemd: FAIL: systemd-analyze verify (exit $rc):"
    echo "$out"
    exit 1
fi
for key in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes User=aleph Restart=on-failure \
    StateDirectory=aleph/member-%i; do
    grep -qx "$key" "$unit" || { echo "deploy_systemd: FAIL: $key missing"; exit 1; }
done
echo "deploy_systemd: ok"

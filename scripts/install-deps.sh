#!/usr/bin/env bash
# Installs the Debian packages aleph needs; does nothing when they are present.
#   install-deps.sh          what building and `make check` need
#   install-deps.sh deploy   also what the deployment test needs (tests/deploy_ansible.sh:
#                            ansible-core, openssh-server for the namespace hosts)
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libsodium-dev libuv1-dev libjansson-dev
      libcmocka-dev gnuplot-nox iproute2 python3) # python3: tests/support/check_outputs.py
if [ "${1:-}" = deploy ]; then
    pkgs+=(ansible-core openssh-server openssh-client python3)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null

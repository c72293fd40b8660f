#!/usr/bin/env bash
# deploy/ansible/site.yml and the example inventory pass `ansible-playbook --syntax-check`
# (the full run over SSH is tests/deploy/ansible_netns.sh, in .ci/run). Skips without
# ansible-core. Checked to fail: an unquoted ': ' in a task name breaks the YAML.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v ansible-playbook > /dev/null; then
    echo "deploy_playbook: SKIP: ansible-playbook not installed (scripts/install-deps.sh deploy)"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aleph-deploy-playbook.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export ANSIBLE_LOCAL_TEMP="$tmp" ANSIBLE_NOCOLOR=1
if ! out=$(ansible-playbook --syntax-check -i "$here/deploy/ansible/inventory.example.ini" \
    "$here/deploy/ansible/site.yml" 2>&1); then
    echo "$out"
    echo "deploy_playbook: FAIL: syntax check"
    exit 1
fi
echo "deploy_playbook: ok"

#!/usr/bin/env bash
# deploy/ansible/site.yml end to end over SSH: four "hosts" that are network namespaces on a
# bridge of their own (10.79.K.0/24, K from our pid; no address outside this machine is
# ever used), each with its own address and its own sshd (key-only, a key generated here),
# so Ansible reaches separate network stacks as it would real machines. The playbook deals
# keys, copies the binary, installs config and key, starts the members (its non-systemd
# path: there is no systemd as PID 1 here), loads them from the root namespace, stops them,
# fetches their logs and outputs, and runs aleph analyze: the test passes when that summary
# says agreement yes (the playbook fails otherwise). Namespaces, the bridge, sshds and nodes
# are removed on every exit (trap). Needs root, ip netns, ansible-core and openssh-server
# (scripts/install-deps.sh deploy); skips with one line without them. In .ci/run, after
# make check (not in ctest: it takes a minute or two).
# Checked to fail: with the members given different committee files (keygen run per host)
# they refuse each other, nothing is ordered and the playbook stops at aleph analyze.
set -u
aleph=$(readlink -f "${1:?usage: ansible_netns.sh PATH_TO_aleph}")
repo=$(cd "$(dirname "$0")/../.." && pwd)
members=${ALEPH_DEPLOY_MEMBERS:-4}
skip() { echo "deploy_ansible: SKIP: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "not root (network namespaces and sshd need root)"
command -v ansible-playbook > /dev/null || skip "ansible-playbook missing (scripts/install-deps.sh deploy)"
[ -x /usr/sbin/sshd ] || skip "sshd missing (scripts/install-deps.sh deploy installs openssh-server)"
probe="aleph-dp$$"
ip netns add "$probe" 2> /dev/null || skip "'ip netns add' does not work here"
ip netns del "$probe"

k=$(( $$ % 200 + 20 ))
net="10.79.$k"
br="aldb$$"
dir=$(mktemp -d "${TMPDIR:-/tmp}/aleph-deploy.XXXXXX")
chmod 755 "$dir"
ns() { echo "aleph-dp$$-$1"; }
cleanup() {
    for i in $(seq 0 $((members - 1))); do
        # every process inside our own namespaces: the sshd and the node we started there
        for p in $(ip netns pids "$(ns "$i")" 2> /dev/null); do kill -KILL "$p" 2> /dev/null; done
        ip netns del "$(ns "$i")" 2> /dev/null
        ip link del "adv$$x$i" 2> /dev/null
    done
    ip link del "$br" 2> /dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "deploy_ansible: FAIL: $*"; exit 1; }

# --- the hosts ---------------------------------------------------------------------------
ip link add "$br" type bridge || fail "cannot make a bridge"
ip addr add "$net.254/24" dev "$br"
ip link set "$br" up
ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519" || fail "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" || fail "ssh-keygen (host key)"
cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
chmod 600 "$dir/authorized_keys"
mkdir -p /run/sshd
cat > "$dir/sshd_config" <<CONF
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
{
    echo "[members]"
    for i in $(seq 0 $((members - 1))); do
        n=$(ns "$i")
        ip netns add "$n" || fail "ip netns add $n"
        ip link add "adv$$x$i" type veth peer name eth0 netns "$n" || fail "veth"
        ip link set "adv$$x$i" master "$br" up
        ip -n "$n" addr add "$net.$((i + 1))/24" dev eth0
        ip -n "$n" link set eth0 up
        ip -n "$n" link set lo up
        ip netns exec "$n" /usr/sbin/sshd -f "$dir/sshd_config" -o "ListenAddress=$net.$((i + 1))" \
            -o "PidFile=$dir/sshd-$i.pid" -E "$dir/sshd-$i.log" || fail "sshd in $n: $(cat "$dir/sshd-$i.log")"
        mkdir -p "$dir/hosts/host$i"
        echo "host$i ansible_host=$net.$((i + 1)) aleph_root=$dir/hosts/host$i"
    done
    cat <<INV
[members:vars]
ansible_user=root
ansible_ssh_private_key_file=$dir/id_ed25519
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'
ansible_python_interpreter=/usr/bin/python3
aleph_port=61000
aleph_client_port=61001
aleph_systemd=false

[all:vars]
aleph_local_binary=$aleph
aleph_run_dir=$dir/run
aleph_load_rate=500
aleph_load_duration=6
aleph_load_tx_size=128
aleph_node_options={"log_units": "off"}
INV
} > "$dir/inventory.ini"
for i in $(seq 0 $((members - 1))); do
    ok=
    for _ in $(seq 1 50); do
        ssh -i "$dir/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
            -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=2 "root@$net.$((i + 1))" true && ok=1 && break
        sleep 0.2
    done
    [ -n "$ok" ] || fail "no SSH to host$i ($net.$((i + 1))): $(cat "$dir/sshd-$i.log")"
done

# --- the playbook ------------------------------------------------------------------------
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False
export ANSIBLE_LOCAL_TEMP="$dir/ansible-local" ANSIBLE_REMOTE_TEMP="$dir/ansible-remote"
export ANSIBLE_FORKS=$members ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
start=$(date +%s)
ansible-playbook -i "$dir/inventory.ini" "$repo/deploy/ansible/site.yml" > "$dir/playbook.log" 2>&1
rc=$?
grep -E '^(PLAY|TASK|fatal|failed|ok: \[localhost\] =>)|"  (agreement|delivery|throughput|latency)' "$dir/playbook.log" | tail -n 40
[ "$rc" -eq 0 ] || { tail -n 60 "$dir/playbook.log"; fail "ansible-playbook exit $rc"; }
# Each member really ran in its own namespace, on its own address.
for i in $(seq 0 $((members - 1))); do
    grep -q "\"event\":\"node_started\".*\"address\":\"$net.$((i + 1)):61000\",\"listen\":\"0.0.0.0:61000\"" "$dir/run/member-$i/node.log" ||
        fail "member $i's log does not show it started"
    grep -q "\"peers_up\":$((members - 1))" "$dir/run/member-$i/node.log" || fail "member $i never linked to every peer"
done
"$aleph" analyze "$dir/run" --no-plots > "$dir/summary.txt" || fail "aleph analyze on the collected run: exit $?"
cat "$dir/summary.txt"
grep -q "agreement    yes" "$dir/summary.txt" || fail "no agreement"
echo "deploy_ansible: ok ($members hosts, $(( $(date +%s) - start )) s)"

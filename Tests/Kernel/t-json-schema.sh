#!/usr/bin/env bash
# The --json schemas are a documented interface: every --json command's output, taken from a real table that uses
# every feature, is reduced to its key paths and types (Tests/json-schema.py) and compared with the snapshot in
# Tests/Fixtures/json-schema/. Every key must also be named in Documentation/json-output.md.
# Refresh after a deliberate schema change: VM_PASS_ENV=UPDATE_SNAPSHOTS UPDATE_SNAPSHOTS=1 \
#   Scripts/vm/run Tests/Kernel/run-all.sh t-json-schema.sh; then copy $JOB/json-schema/* (.vm-cache/jobs/last).
source "$(dirname "$0")/lib.sh"
FIX=$REPO/Tests/Fixtures/json-schema
SCHEMA="python3 $REPO/Tests/json-schema.py"
new_ns js
nsx js ip link add d0 type dummy; nsx js ip link set d0 multicast on up
nsx js ip addr add 198.51.100.1/24 dev d0; nsx js ip addr add 192.0.2.1/32 dev d0
L="nsx js $LVSCTL"
$L vs add -t 192.0.2.1:80 -s rr -p 60 -M 255.255.255.0
$L rs add -t 192.0.2.1:80 -r 198.51.100.2 -m -w 3 -x 100 -y 10
$L rs add -t 192.0.2.1:80 -r 198.51.100.3 -i --tun-type gue --tun-port 6080 --tun-csum
$L vs add -u 192.0.2.1:5060 -s rr -p 30 --pe sip
$L rs add -u 192.0.2.1:5060 -r 198.51.100.4 -m
$L vs add -f 7 -6 -s sh -b sh-port
$L rs add -f 7 -6 -r 2001:db8::2
$L bundle add web --vip 192.0.2.10 --ports 80,443 -s rr -p 300
$L rs add --bundle web -r 198.51.100.5
$L bundle add dns --vip 192.0.2.11 --ports 53 --proto both
$L daemon start master --mcast-interface d0 --syncid 3
$L timeout set --tcp 900 --tcpfin 60 --udp 300
new_ns jr
nsx jr ip link add eth0 type dummy; nsx jr ip link set eth0 up; nsx jr ip addr add 198.51.100.2/24 dev eth0
$LVSCTL --netns jr dr setup --vip 192.0.2.10 >/dev/null || bad "dr setup for the dr status schema"
$LVSCTL --netns jr dr setup --vip 192.0.2.11 --method redirect --ports 80 >/dev/null || bad "dr setup (redirect) for the dr status schema"
$LVSCTL --netns jr dr setup --vip 192.0.2.12 >/dev/null || bad "dr setup (second VIP) for the dr status schema"
nsx jr ip addr del 192.0.2.12/32 dev lo   # a problem for dr status to report

check() {  # check NAME CMD...: the schema of CMD's output equals the snapshot NAME
  local name=$1; shift
  local out; out=$("$@" 2>&1) || { bad "$name --json exits 0" "$out"; return; }
  local s; s=$(printf '%s' "$out" | $SCHEMA 2>&1) || { bad "$name --json is valid JSON" "$out"; return; }
  if [ "${UPDATE_SNAPSHOTS:-}" = 1 ]; then mkdir -p "$JOB/json-schema"; printf '%s\n' "$s" > "$JOB/json-schema/$name.txt"; fi
  same "$name --json schema == Tests/Fixtures/json-schema/$name.txt" "$(cat "$FIX/$name.txt" 2>/dev/null)" "$s"
  local missing=""
  for k in $(printf '%s\n' "$s" | sed 's/:.*//; s/\[\]//g; s/?//g; s/\.\*$//; s/.*\.//' | sort -u); do
    grep -q "\`$k\`\|\"$k\"\|[{ ,]$k[,}]" "$REPO/Documentation/json-output.md" || missing+=" $k"
  done
  [ -z "$missing" ] && ok "$name: every key is in json-output.md" || bad "$name: every key is in json-output.md" "missing:$missing"
}
# A local client's SYN makes one connection and one persistence template (read right away: they expire).
nsx js timeout 2 bash -c 'echo > /dev/tcp/192.0.2.1/80' 2>/dev/null
check connections $L connections --json
check persistence-show $L persistence show --json
check list $L list --json
check bundle-list $L bundle list --json
check timeout-show $L timeout show --json
check daemon-show $L daemon show --json
check info $L info --json
check dr-status $LVSCTL --netns jr dr status --json
$L sysctl set expire_nodest_conn=1   # a changed knob, next to defaults and sync_qlen_max (no fixed default)
check sysctl-show $L sysctl show --json
# The documents say which schema they follow.
for c in "list" "info" "timeout show" "sysctl show"; do
  # shellcheck disable=SC2086
  v=$($L $c --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["schema"])')
  same "$c --json says schema 1" 1 "$v"
done
summary

#!/usr/bin/env bash
# The seed scenario end to end with real TCP traffic (Scripts/demo.sh): bundle + persistence across 80/443,
# round robin without persistence, the client's ARP entry for the VIP is the director's, save/restore.
source "$(dirname "$0")/lib.sh"
run_demo "seed scenario"
# Persistence templates are visible while they live.
source "$REPO/Scripts/lab.sh"
lab_up; lab_rs_setup
$LVSCTL bundle add web2 --vip $VIP --ports 80,443 --mark 81 -s rr -p 120 >/dev/null
$LVSCTL rs add --bundle web2 -r 192.0.2.11; $LVSCTL rs add --bundle web2 -r 192.0.2.12
fetch 80 >/dev/null; fetch 443 >/dev/null
t=$($LVSCTL persistence show --json)
python3 - "$t" <<'PY' && ok "persistence show lists the client's template" || bad "persistence show lists the client's template" "$t"
import json, sys
d = json.loads(sys.argv[1])
assert any(x["client"] == "192.0.2.100" and x["real_server"].startswith("192.0.2.1") for x in d["templates"]), d
PY
$LVSCTL bundle delete web2
# The demo leaves its restored bundle 'web' (a persistent fwmark service and the MARK rules for the VIP) in the VM's
# root namespace; a later file in the same VM sending to the VIP would be steered by it (t-dr's round robin saw
# only rs2). Remove it and check the root namespace is clean.
$LVSCTL bundle delete web >/dev/null 2>&1; $LVSCTL clear
same "the root namespace is left without services and without lvsctl rules" "" \
  "$(ipvsadm -Sn; iptables-legacy-save -t mangle 2>/dev/null | grep -i lvsctl)"
lab_down
summary

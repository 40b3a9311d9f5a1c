#!/usr/bin/env bash
# make demo: the seed scenario with live traffic, inside the IPVS VM.
#  seed 000: HTTP (80) and HTTPS (443) to one VIP carry the same firewall mark, and persistence across that
#            bundle keeps a client on one real server;
#  seed 003: direct-routing real servers that do not answer ARP for the VIP.
set -u
cd "${REPO:-$PWD}"
source Scripts/lab.sh
trap lab_down EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
fails=0
check() { if [ "$2" == "$3" ]; then echo "  ok: $1"; else echo "  FAILED: $1 (wanted $2, got $3)"; fails=$((fails+1)); fi; }

lab_up
echo "== real servers rs1 (192.0.2.11) and rs2 (192.0.2.12): accept the VIP, never answer ARP for it"
step $LVSCTL --netns rs1 dr setup --vip $VIP
step $LVSCTL --netns rs2 dr setup --vip $VIP
step $LVSCTL --netns rs1 dr status

echo "== the director: one bundle for HTTP+HTTPS, persistent for 60 s, two direct-routing real servers"
step $LVSCTL bundle add web --vip $VIP --ports 80,443 --mark 80 -s rr -p 60
step $LVSCTL rs add --bundle web -r 192.0.2.11 -g
step $LVSCTL rs add --bundle web -r 192.0.2.12 -g
step $LVSCTL list
step $LVSCTL bundle list
# The marks are in whichever firewall backend lvsctl uses here (lvsctl info says which, and why).
step $LVSCTL info
if $LVSCTL info | grep -q '^Firewall backend: nftables'; then step nft list table ip lvsctl; else step iptables-legacy-save -t mangle; fi

echo; echo "== the client connects to VIP:80 and VIP:443 six times"
got=""
for p in 80 443 80 443 80 443; do r=$(fetch $p); echo "  $VIP:$p -> $r"; got+="$r "; done
first=${got%% *}
check "every connection, on both ports, reached the same real server ($first)" "$(printf "$first %.0s" 1 2 3 4 5 6)" "$got"
case "$first" in rs1|rs2) echo "  ok: the answer came from a real server";; *) echo "  FAILED: no real server answered"; fails=$((fails+1));; esac
step $LVSCTL persistence show

echo; echo "== the client's ARP entry for the VIP is the director's"
dmac=$(cat /sys/class/net/br0/address)
cmac=$(ip -n client neigh show $VIP | awk '{print $5}')
check "client neighbour entry for $VIP is the director's MAC" "$dmac" "$cmac"

echo; echo "== without persistence, round robin alternates"
step $LVSCTL persistence clear --bundle web
got=""
for p in 80 443 80 443; do r=$(fetch $p); echo "  $VIP:$p -> $r"; got+="$r "; done
set -- $got
if [ "$1" != "$2" ] && [ "$1" == "$3" ] && [ "$2" == "$4" ]; then echo "  ok: connections alternate between rs1 and rs2"; else echo "  FAILED: no alternation: $got"; fails=$((fails+1)); fi

echo; echo "== save it for the next boot, clear, restore"
step $LVSCTL persistence set --bundle web --timeout 60
step $LVSCTL save /tmp/lvsctl.conf
step cat /tmp/lvsctl.conf
step $LVSCTL clear
step $LVSCTL bundle delete web
step $LVSCTL restore /tmp/lvsctl.conf
r1=$(fetch 80); r2=$(fetch 443)
check "after restore, VIP:80 and VIP:443 reach the same real server" "$r1" "$r2"
step $LVSCTL list

echo; echo "== a real server's own boot file: its dr setup is part of lvsctl save"
step $LVSCTL --netns rs1 save
check "rs1's saved state holds its dr setup line" "dr setup --vip $VIP --method sysctl" "$($LVSCTL --netns rs1 save | grep '^dr setup')"

echo
if [ $fails -eq 0 ]; then echo "demo: all checks passed"; else echo "demo: $fails check(s) FAILED"; fi
[ $fails -eq 0 ]

#!/usr/bin/env bash
# Edit, delete, zero and clear: after the same starting table, lvsctl's command leaves the kernel exactly as
# ipvsadm's equivalent does (read back with ipvsadm in both namespaces). Also `list --resolve` against `ipvsadm -L`.
source "$(dirname "$0")/lib.sh"

# name | starting table (ipvsadm commands, run in both namespaces) | ipvsadm command | lvsctl command
# (The restore case reads its one line from a FIFO: files are read with read(2), so pipes work.)
# lvsctl's edits change only what they are given; ipvsadm -E/-e reset what is not given, so its side spells out
# the settings being kept.
CASES=(
  "vs edit scheduler|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2 -g -w 3|-E -t 192.0.2.1:80 -s wlc|vs edit -t 192.0.2.1:80 -s wlc"
  "vs edit adds persistence|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2 -g|-E -t 192.0.2.1:80 -s rr -p 300|vs edit -t 192.0.2.1:80 -p 300"
  "vs edit persistence netmask|-A -t 192.0.2.1:80 -s rr -p 60|-E -t 192.0.2.1:80 -s rr -p 60 -M 255.255.255.0|vs edit -t 192.0.2.1:80 -M 255.255.255.0"
  "vs edit netmask as prefix|-A -t 192.0.2.1:80 -s rr -p 60|-E -t 192.0.2.1:80 -s rr -p 60 -M 255.255.0.0|vs edit -t 192.0.2.1:80 -M 16"
  "vs edit turns persistence off|-A -t 192.0.2.1:80 -s rr -p 60 -M 255.255.255.0|-E -t 192.0.2.1:80 -s rr|vs edit -t 192.0.2.1:80 --no-persistent"
  "vs edit sched flags|-A -t 192.0.2.1:80 -s sh|-E -t 192.0.2.1:80 -s sh -b sh-port,sh-fallback|vs edit -t 192.0.2.1:80 -b sh-port,sh-fallback"
  "vs edit one-packet on|-A -u 192.0.2.1:53 -s rr|-E -u 192.0.2.1:53 -s rr -o|vs edit -u 192.0.2.1:53 -o"
  "vs edit one-packet off|-A -u 192.0.2.1:53 -s rr -o|-E -u 192.0.2.1:53 -s rr|vs edit -u 192.0.2.1:53 --no-ops"
  "vs edit persistence engine|-A -u 192.0.2.4:5060 -s rr -p 60|-E -u 192.0.2.4:5060 -s rr -p 60 --pe sip|vs edit -u 192.0.2.4:5060 --pe sip"
  "vs edit IPv6 fwmark|-A -f 5 -6 -s rr -p 60 -M 64;-a -f 5 -6 -r 2001:db8::2 -g|-E -f 5 -6 -s wrr -p 120 -M 64|vs edit -f 5 -6 -s wrr -p 120"
  "vs edit IPv6 tcp|-A -t [2001:db8::1]:443 -s rr|-E -t [2001:db8::1]:443 -s mh -b mh-port|vs edit -t [2001:db8::1]:443 -s mh -b mh-port"
  "vs edit keeps real servers|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2 -m -w 4 -x 9 -y 2;-a -t 192.0.2.1:80 -r 198.51.100.3 -g|-E -t 192.0.2.1:80 -s lc|vs edit -t 192.0.2.1:80 -s lc"
  "vs delete tcp|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2 -g;-A -t 192.0.2.1:443 -s rr|-D -t 192.0.2.1:80|vs delete -t 192.0.2.1:80"
  "vs delete udp|-A -u 192.0.2.1:53 -s rr;-A -t 192.0.2.1:53 -s rr|-D -u 192.0.2.1:53|vs delete -u 192.0.2.1:53"
  "vs delete sctp|-A --sctp-service 192.0.2.1:9 -s rr;-A -t 192.0.2.1:9 -s rr|-D --sctp-service 192.0.2.1:9|vs delete --sctp-service 192.0.2.1:9"
  "vs delete fwmark|-A -f 7 -s rr;-a -f 7 -r 198.51.100.2 -g;-A -f 7 -6 -s rr|-D -f 7|vs delete -f 7"
  "vs delete IPv6 fwmark|-A -f 7 -s rr;-A -f 7 -6 -s rr;-a -f 7 -6 -r 2001:db8::7 -g|-D -f 7 -6|vs delete -f 7 -6"
  "vs delete IPv6 udp|-A -u [2001:db8::1]:53 -s rr;-A -u 192.0.2.1:53 -s rr|-D -u [2001:db8::1]:53|vs delete -u [2001:db8::1]:53"
  "rs edit weight|-A -t 192.0.2.1:80 -s wrr;-a -t 192.0.2.1:80 -r 198.51.100.2 -g -w 3|-e -t 192.0.2.1:80 -r 198.51.100.2 -g -w 7|rs edit -t 192.0.2.1:80 -r 198.51.100.2 -w 7"
  "rs edit weight 0 (drain)|-A -t 192.0.2.1:80 -s wrr;-a -t 192.0.2.1:80 -r 198.51.100.2 -g -w 3|-e -t 192.0.2.1:80 -r 198.51.100.2 -g -w 0|rs edit -t 192.0.2.1:80 -r 198.51.100.2 -w 0"
  "rs edit thresholds|-A -t 192.0.2.1:80 -s wlc;-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 5|-e -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 5 -x 100 -y 10|rs edit -t 192.0.2.1:80 -r 198.51.100.2:8080 -x 100 -y 10"
  "rs edit clears a threshold|-A -t 192.0.2.1:80 -s wlc;-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 5 -x 100 -y 10|-e -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 5 -x 0 -y 0|rs edit -t 192.0.2.1:80 -r 198.51.100.2:8080 -x 0 -y 0"
  "rs edit forwarding dr to tunnel|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2 -g -w 2|-e -t 192.0.2.1:80 -r 198.51.100.2 -i -w 2|rs edit -t 192.0.2.1:80 -r 198.51.100.2 -i"
  "rs edit tunnel to gue|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2 -i|-e -t 192.0.2.1:80 -r 198.51.100.2 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum|rs edit -t 192.0.2.1:80 -r 198.51.100.2 -i --tun-type gue --tun-port 6080 --tun-remcsum"
  "rs edit fwmark server|-A -f 9 -s rr;-a -f 9 -r 198.51.100.2 -g -w 1|-e -f 9 -r 198.51.100.2 -g -w 9 -x 50|rs edit -f 9 -r 198.51.100.2 -w 9 -x 50"
  "rs edit IPv6 server|-A -t [2001:db8::1]:80 -s wrr;-a -t [2001:db8::1]:80 -r [2001:db8::2]:8080 -m -w 1|-e -t [2001:db8::1]:80 -r [2001:db8::2]:8080 -m -w 4|rs edit -t [2001:db8::1]:80 -r [2001:db8::2]:8080 -w 4"
  "rs delete|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2 -g;-a -t 192.0.2.1:80 -r 198.51.100.3 -g|-d -t 192.0.2.1:80 -r 198.51.100.2|rs delete -t 192.0.2.1:80 -r 198.51.100.2"
  "rs delete masq port|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m;-a -t 192.0.2.1:80 -r 198.51.100.2:8081 -m|-d -t 192.0.2.1:80 -r 198.51.100.2:8081|rs delete -t 192.0.2.1:80 -r 198.51.100.2:8081"
  "rs delete fwmark|-A -f 3 -s rr;-a -f 3 -r 198.51.100.2 -g;-a -f 3 -r 198.51.100.3 -g|-d -f 3 -r 198.51.100.3|rs delete -f 3 -r 198.51.100.3"
  "rs delete IPv6|-A -u [2001:db8::1]:53 -s rr;-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m;-a -u [2001:db8::1]:53 -r [2001:db8::3]:53 -m|-d -u [2001:db8::1]:53 -r [2001:db8::2]:53|rs delete -u [2001:db8::1]:53 -r [2001:db8::2]:53"
  "rs delete mixed-family tunnel|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 2001:db8::9 -i;-a -t 192.0.2.1:80 -r 198.51.100.9 -i|-d -t 192.0.2.1:80 -r 2001:db8::9|rs delete -t 192.0.2.1:80 -r 2001:db8::9"
  "vs add with a service name port|-A -t 192.0.2.99:1 -s rr|-A -t 192.0.2.1:http -s rr|vs add -t 192.0.2.1:http -s rr"
  "rs add with a service name port|-A -u 192.0.2.1:53 -s rr|-a -u 192.0.2.1:domain -r 198.51.100.2:domain -m|rs add -u 192.0.2.1:domain -r 198.51.100.2:domain -m"
  "restore from a named pipe|-A -t 192.0.2.99:1 -s rr|-A -t 192.0.2.1:443 -s rr|restore --no-flush /tmp/lvs-fifo"
  "clear|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2 -g;-A -f 4 -6 -s rr;-A -u 192.0.2.2:53 -s rr|-C|clear"
  # A service address without a port is port 0, as ipvsadm's parse_service reads it (samba ctdb's LVS script).
  "vs add without a port (port 0)|-A -t 192.0.2.99:1 -s rr|-A -t 203.0.113.201 -p 1999999 -s lc|vs add -t 203.0.113.201 -p 1999999 -s lc"
  "vs add udp without a port|-A -t 203.0.113.201 -p 1999999 -s lc|-A -u 203.0.113.201 -p 1999999 -s lc|vs add -u 203.0.113.201 -p 1999999 -s lc"
  "vs add bare IPv6 without a port|-A -t 192.0.2.99:1 -s rr|-A -t 2001:db8::1 -p 60 -s rr|vs add -t 2001:db8::1 -p 60 -s rr"
  "vs edit without a port|-A -u 203.0.113.201 -p 1999999 -s lc;-a -u 203.0.113.201 -r 198.51.100.2 -g|-E -u 203.0.113.201 -p 1999999 -s rr|vs edit -u 203.0.113.201 -s rr"
  "vs delete without a port|-A -t 203.0.113.201:0 -p 1999999 -s lc;-a -t 203.0.113.201:0 -r 198.51.100.2 -g;-A -u 203.0.113.201:0 -p 1999999 -s lc|-D -t 203.0.113.201|vs delete -t 203.0.113.201"
  "rs add without a port|-A -t 203.0.113.201 -p 1999999 -s lc|-a -t 203.0.113.201 -r 198.51.100.2 -g|rs add -t 203.0.113.201 -r 198.51.100.2 -g"
  "rs add NAT to a port-0 service|-A -t 203.0.113.201 -p 60 -s lc|-a -t 203.0.113.201 -r 198.51.100.2:8080 -m -w 2|rs add -t 203.0.113.201 -r 198.51.100.2:8080 -m -w 2"
  "rs edit without a port|-A -t 203.0.113.201 -p 1999999 -s lc;-a -t 203.0.113.201 -r 198.51.100.2 -g -w 3|-e -t 203.0.113.201 -r 198.51.100.2 -g -w 0|rs edit -t 203.0.113.201 -r 198.51.100.2 -w 0"
  "rs delete without a port|-A -u 203.0.113.201 -p 1999999 -s lc;-a -u 203.0.113.201 -r 198.51.100.2 -g;-a -u 203.0.113.201 -r 198.51.100.3 -g|-d -u 203.0.113.201 -r 198.51.100.2|rs delete -u 203.0.113.201 -r 198.51.100.2"
)

# view NS: the table in every form that shows a different field (-Sn, thresholds, tunnel info, persistent
# connections), read in one namespace entry (process starts are the cost in a VM); each -L view without its first
# line (tail -n +2), as before.
view() {
  nsx "$1" bash -c 'ipvsadm -Sn; for o in --thresholds --tun-info --persistent-conn; do
    ipvsadm -Ln $o | { read -r _; while IFS= read -r l; do printf "%s\n" "$l"; done; }; done'
}
# Two namespaces serve every case: each case starts with `ipvsadm -C` in both (checked empty), then loads its
# starting table with one `ipvsadm -R` of its setup commands. (A new pair of namespaces per case, and one process per
# setup command, cost more than the checks.)
A=oa; B=ob; new_ns $A; new_ns $B
n=0
for c in "${CASES[@]}"; do
  n=$((n+1))
  IFS='|' read -r name setup iop lop <<< "$c"
  IFS=';' read -ra cmds <<< "$setup"
  for ns in $A $B; do
    printf '%s\n' "${cmds[@]}" | nsx $ns bash -c 'ipvsadm -C && [ -z "$(ipvsadm -Sn)" ] && ipvsadm -R' \
      || bad "$name: the starting table in $ns (ipvsadm -C, then ipvsadm -R of: $setup)"
  done
  before=$(view $B)
  if [[ $lop == *lvs-fifo* ]]; then rm -f /tmp/lvs-fifo; mkfifo /tmp/lvs-fifo; (echo "vs add -t 192.0.2.1:443 -s rr" > /tmp/lvs-fifo &); fi
  # shellcheck disable=SC2086
  nsx $A ipvsadm $iop || bad "$name: ipvsadm $iop"
  # shellcheck disable=SC2086
  if out=$(nsx $B $LVSCTL $lop 2>&1); then
    [ "$before" != "$(view $B)" ] || bad "$name: the command changed something" "$out"
    same "$name: lvsctl $lop == ipvsadm $iop" "$(view $A)" "$(view $B)"
  else
    bad "$name: lvsctl $lop" "$out"
  fi
done
ip netns del $A; ip netns del $B
echo "# $n edit/delete cases"

# Port 0 in restore files: the same lines through ipvsadm -R and lvsctl restore (ipvsadm-save format, with and
# without ":0"), and the same table written in the lvsctl format.
printf '%s\n' "-A -t 203.0.113.201 -s lc -p 1999999" "-a -t 203.0.113.201 -r 198.51.100.2 -g -w 1" \
  "-a -t 203.0.113.201 -r 127.0.0.1 -g -w 1" "-A -u 203.0.113.201:0 -s lc -p 1999999" \
  "-a -u 203.0.113.201:0 -r 198.51.100.2:0 -g -w 1" "-a -u 203.0.113.201 -r 198.51.100.3:5353 -m -w 2" > /tmp/p0.rules
printf '%s\n' "vs add -t 203.0.113.201 -s lc -p 1999999" "rs add -t 203.0.113.201 -r 198.51.100.2" \
  "rs add -t 203.0.113.201 -r 127.0.0.1" "vs add -u 203.0.113.201:0 -s lc -p 1999999" \
  "rs add -u 203.0.113.201 -r 198.51.100.2 -g" "rs add -u 203.0.113.201:0 -r 198.51.100.3:5353 -m -w 2" > /tmp/p0.conf
new_ns ra; new_ns rb; new_ns rc
nsx ra ipvsadm -R < /tmp/p0.rules || bad "ipvsadm -R of the port-0 file"
if out=$(nsx rb $LVSCTL restore /tmp/p0.rules 2>&1); then same "restore of ipvsadm-save lines without a port == ipvsadm -R" "$(view ra)" "$(view rb)"
else bad "restore of ipvsadm-save lines without a port" "$out"; fi
if out=$(nsx rc $LVSCTL restore /tmp/p0.conf 2>&1); then same "restore of lvsctl lines without a port == ipvsadm -R" "$(view ra)" "$(view rc)"
else bad "restore of lvsctl lines without a port" "$out"; fi
same "save --format ipvsadm of port-0 services == ipvsadm -Sn" "$(nsx ra ipvsadm -Sn)" "$(nsx rb $LVSCTL save --format ipvsadm)"
# What ipvsadm -Sn writes for them (ADDR:0) restores to the same table.
nsx ra ipvsadm -Sn > /tmp/p0.saved; nsx rc $LVSCTL clear
if out=$(nsx rc $LVSCTL restore /tmp/p0.saved 2>&1); then same "restore of ipvsadm -Sn with ADDR:0 == ipvsadm -R" "$(view ra)" "$(view rc)"
else bad "restore of ipvsadm -Sn with ADDR:0" "$out"; fi
ip netns del ra; ip netns del rb; ip netns del rc

# samba ctdb's LVS sequence (events/legacy/91.lvs, same shape, own addresses): delete both services (absent the
# first time), add TCP and UDP port-0 persistent services, the nodes by address without a port plus the local node
# 127.0.0.1, list, then delete both. Every step succeeds under both tools or fails under both (ctdb ignores the
# status of its first deletes): lvsctl's kernel refusal is exit 1 with one line, where ipvsadm exits 255.
new_ns ca; new_ns cb
VIP=203.0.113.201
ctdb_step() {  # ctdb_step NAME IPVSADM-ARGS | LVSCTL-ARGS
  local name=$1 iop=$2 lop=$3 ra rb out
  # shellcheck disable=SC2086
  nsx ca ipvsadm $iop >/dev/null 2>&1; ra=$?
  # shellcheck disable=SC2086
  out=$(nsx cb $LVSCTL $lop 2>&1); rb=$?
  if [ $ra = 0 ] && [ $rb = 0 ]; then ok "ctdb: $name: exit 0 under both"
  elif [ $ra != 0 ] && [ $rb = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ]; then ok "ctdb: $name: refused under both (ipvsadm $ra; lvsctl 1: $out)"
  else bad "ctdb: $name: exit status" "ipvsadm $ra, lvsctl $rb: $out"; fi
}
ctdb_step "delete the absent TCP service" "-D -t $VIP" "vs delete -t $VIP"
ctdb_step "delete the absent UDP service" "-D -u $VIP" "vs delete -u $VIP"
ctdb_step "add the TCP service" "-A -t $VIP -p 1999999 -s lc" "vs add -t $VIP -p 1999999 -s lc"
ctdb_step "add the UDP service" "-A -u $VIP -p 1999999 -s lc" "vs add -u $VIP -p 1999999 -s lc"
for node in 198.51.100.11 198.51.100.12 198.51.100.13; do
  ctdb_step "add node $node (TCP)" "-a -t $VIP -r $node -g" "rs add -t $VIP -r $node -g"
  ctdb_step "add node $node (UDP)" "-a -u $VIP -r $node -g" "rs add -u $VIP -r $node -g"
done
ctdb_step "add the local node (TCP)" "-a -t $VIP -r 127.0.0.1" "rs add -t $VIP -r 127.0.0.1"
ctdb_step "add the local node (UDP)" "-a -u $VIP -r 127.0.0.1" "rs add -u $VIP -r 127.0.0.1"
same "ctdb: the table after the adds" "$(view ca)" "$(view cb)"
same "ctdb: lvsctl list == ipvsadm -Ln" "$(nsx ca ipvsadm -Ln)" "$(nsx cb $LVSCTL list)"
same "ctdb: lvsctl list -t VIP == ipvsadm -Ln -t VIP" "$(nsx ca ipvsadm -Ln -t $VIP)" "$(nsx cb $LVSCTL list -t $VIP)"
same "ctdb: lvsctl list -u VIP == ipvsadm -Ln -u VIP" "$(nsx ca ipvsadm -Ln -u $VIP)" "$(nsx cb $LVSCTL list -u $VIP)"
ctdb_step "remove a node (TCP)" "-d -t $VIP -r 198.51.100.12" "rs delete -t $VIP -r 198.51.100.12"
ctdb_step "delete the TCP service" "-D -t $VIP" "vs delete -t $VIP"
ctdb_step "delete the UDP service" "-D -u $VIP" "vs delete -u $VIP"
same "ctdb: the table after the deletes" "$(view ca)" "$(view cb)"
[ -z "$(nsx cb ipvsadm -Sn)" ] && ok "ctdb: the table is empty again" || bad "ctdb: the table is empty again" "$(nsx cb ipvsadm -Sn)"
ip netns del ca; ip netns del cb

# A non-persistent port-0 service stays refused before the kernel (ipvsadm: "Zero port specified for
# non-persistent service"): exit 2, one line naming it, nothing changed; ipvsadm refuses it too.
new_ns pz
nsx pz ipvsadm -A -t 203.0.113.201 -p 60 -s lc
before=$(view pz)
for args in "vs add -t 203.0.113.202 -s lc|-A -t 203.0.113.202 -s lc" "vs add -u 203.0.113.202:0|-A -u 203.0.113.202:0" \
            "vs edit -t 203.0.113.201 --no-persistent|-E -t 203.0.113.201 -s lc"; do
  IFS='|' read -r lop iop <<< "$args"
  # shellcheck disable=SC2086
  out=$(nsx pz $LVSCTL $lop 2>&1); rc=$?
  [ $rc = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && case $out in *"port 0 of "*"needs persistence (-p)"*) true ;; *) false ;; esac \
    && ok "$lop: exit 2, one line" || bad "$lop: exit 2, one line" "rc=$rc $out"
  same "$lop changes nothing" "$before" "$(view pz)"
  # shellcheck disable=SC2086
  iout=$(nsx pz ipvsadm $iop 2>&1); irc=$?
  [ $irc != 0 ] && ok "ipvsadm $iop is refused too (exit $irc: $iout)" || bad "ipvsadm $iop is refused too" "$iout"
done
out=$(nsx pz $LVSCTL vs add -t [2001:db8::1] -p 60 2>&1); rc=$?
[ $rc = 2 ] && case $out in *"'[2001:db8::1]'"*) true ;; *) false ;; esac && ok "vs add -t [ADDR6] without a port: exit 2 naming it (as ipvsadm)" \
  || bad "vs add -t [ADDR6] without a port: exit 2 naming it" "rc=$rc $out"
expect_rc "ipvsadm -A -t [ADDR6] without a port is refused (exit 2)" 2 nsx pz ipvsadm -A -t [2001:db8::1] -p 60
same "the refusals changed nothing" "$before" "$(view pz)"
ip netns del pz

# An edit that would leave lower above upper is refused before the kernel is asked: exit 2, nothing changed.
new_ns th
nsx th ipvsadm -A -t 192.0.2.1:80 -s wlc; nsx th ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -x 100 -y 10
before=$(nsx th ipvsadm -Ln --thresholds)
out=$(nsx th $LVSCTL rs edit -t 192.0.2.1:80 -r 198.51.100.2:8080 -x 5 2>&1); rc=$?
[ $rc = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && case $out in *"lower threshold 10"*) true ;; *) false ;; esac \
  && ok "rs edit -x below the kept -y: exit 2, one line naming it" || bad "rs edit -x below the kept -y: exit 2, one line naming it" "rc=$rc $out"
same "rs edit -x below the kept -y changes nothing" "$before" "$(nsx th ipvsadm -Ln --thresholds)"

# Zero: real traffic gives the counters something to clear. A local client's SYN to the VIP is scheduled by
# IPVS (LOCAL_OUT) and sent to a real server behind a dummy link, so the service and server counters move.
traffic_ns() {
  new_ns "$1"
  nsx "$1" ip link add d0 type dummy; nsx "$1" ip link set d0 up
  nsx "$1" ip addr add 198.51.100.1/24 dev d0; nsx "$1" ip addr add 192.0.2.1/32 dev d0; nsx "$1" ip addr add 192.0.2.2/32 dev d0
  for v in 192.0.2.1 192.0.2.2; do
    nsx "$1" ipvsadm -A -t $v:80 -s rr; nsx "$1" ipvsadm -a -t $v:80 -r 198.51.100.2 -m
  done
  for v in 192.0.2.1 192.0.2.2; do
    nsx "$1" timeout 2 bash -c "echo > /dev/tcp/$v/80" 2>/dev/null
  done
}
stats() { nsx "$1" ipvsadm -Ln --stats --exact | tail -n +2 | awk '{print $1, $2, $3, $4}'; }
traffic_ns za; traffic_ns zb
s=$(stats za)
if echo "$s" | grep -q '^TCP 192.0.2.1:80 [1-9]'; then ok "zero: traffic moved the counters"; else bad "zero: traffic moved the counters" "$s"; fi
nsx za ipvsadm -Z -t 192.0.2.1:80; nsx zb $LVSCTL zero -t 192.0.2.1:80
# Only the zeroed service's block is compared: the other service's packet count can differ by a SYN retransmit
# between the two namespaces (its connection attempt runs for up to 2 s), and the next check covers it.
zeroed() { stats "$1" | awk '/^TCP/ { on = ($2 == "192.0.2.1:80") } on'; }
same "zero one service == ipvsadm -Z -t" "$(zeroed za)" "$(zeroed zb)"
if stats zb | grep -q '^TCP 192.0.2.2:80 [1-9]'; then ok "zero one service leaves the other's counters"; else bad "zero one service leaves the other's counters" "$(stats zb)"; fi
nsx za ipvsadm -Z; nsx zb $LVSCTL zero
same "zero all == ipvsadm -Z" "$(stats za)" "$(stats zb)"
if stats zb | awk '$1 ~ /TCP|->/ && $3 ~ /^[0-9]+$/ && $3 != 0 {exit 1}'; then ok "zero all clears every counter"; else bad "zero all clears every counter" "$(stats zb)"; fi

# list --resolve == ipvsadm -L (no -n), with names from a private /etc/hosts; nsswitch says files only, so no
# resolver query leaves the namespace.
printf '127.0.0.1 localhost\n192.0.2.1 vip.example.test vip\n198.51.100.2 rs1.example.test\n2001:db8::2 rs6.example.test\n' > /tmp/rhosts
printf 'hosts: files\nservices: files\n' > /tmp/rnss
new_ns rv
for cmd in "-A -t 192.0.2.1:80 -s rr -p 60" "-a -t 192.0.2.1:80 -r 198.51.100.2 -g" "-a -t 192.0.2.1:80 -r 198.51.100.3 -g -w 2" \
           "-A -u 192.0.2.1:53 -s rr" "-a -u 192.0.2.1:53 -r 198.51.100.2:53 -m" "-A -t 192.0.2.1:443 -s wlc" "-a -t 192.0.2.1:443 -r 198.51.100.2 -g" \
           "-A -t 192.0.2.9:8443 -s rr" "-A --sctp-service 192.0.2.1:80 -s rr" "-A -f 80 -s rr" "-a -f 80 -r 198.51.100.2:80 -g" \
           "-A -t [2001:db8::1]:80 -s rr" "-a -t [2001:db8::1]:80 -r [2001:db8::3]:80 -m"; do
  # shellcheck disable=SC2086
  nsx rv ipvsadm $cmd
done
named() { nsx rv unshare -m bash -c 'mount --bind /tmp/rhosts /etc/hosts && mount --bind /tmp/rnss /etc/nsswitch.conf && "$@"' _ "$@"; }
same "list --resolve == ipvsadm -L" "$(named ipvsadm -L --nosort | grep -v 2001:db8 | sort)" "$(named $LVSCTL list --resolve --nosort | grep -v 2001:db8 | sort)"
same "list --resolve --thresholds == ipvsadm -L --thresholds" "$(named ipvsadm -L --thresholds | grep -v 2001)" "$(named $LVSCTL list --resolve --thresholds | grep -v 2001)"
r=$(named $LVSCTL list --resolve)
for want in "TCP  vip.example.test:http rr persistent 60" "-> rs1.example.test:http" "UDP  vip.example.test:domain rr" "-> rs1.example.test:domain" \
            "TCP  vip.example.test:https wlc" "TCP  192.0.2.9:8443 rr" "SCTP vip.example.test:80 rr" "FWM  80 rr" "-> rs1.example.test:80" "-> 198.51.100.3:http" \
            "TCP  [2001:db8::1]:http rr" "-> [2001:db8::3]:http"; do
  case $r in *"$want"*) ok "list --resolve shows '$want'" ;; *) bad "list --resolve shows '$want'" "$r" ;; esac
done
echo "$r" | grep -q "rs6.example.test" && bad "IPv6 name only where the hosts file has one" "$r" || ok "IPv6 name only where the hosts file has one"
nsx rv ipvsadm -a -t [2001:db8::1]:80 -r [2001:db8::2]:80 -m
case $(named $LVSCTL list --resolve) in *"-> [rs6.example.test]:http"*) ok "list --resolve names IPv6 real servers (ipvsadm 1.31 cannot)" ;;
  *) bad "list --resolve names IPv6 real servers" "$(named $LVSCTL list --resolve)" ;; esac
same "list without --resolve stays numeric" "$(nsx rv ipvsadm -Ln)" "$(named $LVSCTL list)"
# save FILE creates the missing directories above FILE (mode 0755), like mkdir -p.
rm -rf /tmp/savedir
if nsx rv $LVSCTL save /tmp/savedir/etc/lvsctl.conf && [ "$(stat -c %a /tmp/savedir/etc)" = 755 ] && [ "$(stat -c %a /tmp/savedir/etc/lvsctl.conf)" = 644 ] \
   && grep -q '^vs add -t 192.0.2.1:80' /tmp/savedir/etc/lvsctl.conf; then ok "save creates the missing directories (0755) and the file (0644)"
else bad "save creates the missing directories (0755) and the file (0644)" "$(ls -lR /tmp/savedir 2>&1)"; fi
expect_rc "--resolve with -n is a usage error" 2 nsx rv $LVSCTL list --resolve -n
expect_rc "--resolve with --json is a usage error" 2 nsx rv $LVSCTL list --resolve --json
summary

#!/usr/bin/env bash
# lvsctl dr: each method on a real DR cluster (Scripts/lab.sh: director + VIP on br0, client, rs1, rs2).
# The real servers are prepared only with `lvsctl --netns rsN dr setup`. Checks, per method: TCP from the client
# to the VIP reaches both real servers through the director; with the director's VIP taken away, nobody answers
# ARP for the VIP (so the client's neighbour entry can only ever be the director's); a second setup changes
# nothing; teardown leaves each real server exactly as before (addresses, sysctls, iptables, arptables).
# A negative control (VIP on lo, default sysctls) shows the ARP check does catch a real server answering.
# On either firewall backend (LVSCTL_FIREWALL, see lib.sh): with nftables, the arptables and redirect methods live in
# lvsctl's nft tables (arp lvsctl_dr: set vips + map rewrite; ip lvsctl_dr: set redirects), read back with nft -j, and
# the live-traffic checks prove that the nft ARP drop/rewrite and the nft redirect really work.
source "$(dirname "$0")/lib.sh"
source "$REPO/Scripts/lab.sh"

# snap NS: everything dr may touch in a namespace.
snap() {
  ip -n "$1" -o addr show | awk '{$1=""; print}' | sed 's/ valid_lft.*//'
  for i in all default eth0 lo; do
    for k in arp_ignore arp_announce; do echo "$i.$k=$(nsx "$1" cat /proc/sys/net/ipv4/conf/$i/$k 2>/dev/null)"; done
  done
  # Rules and user chains. (Once the redirect method has used table nat, the kernel keeps that table, empty,
  # instantiated in the namespace: its built-in chain headers are not compared.)
  nsx "$1" iptables-legacy-save 2>/dev/null | grep -E '^(-|:[^ ]+ - )'
  nsx "$1" ip6tables-legacy-save 2>/dev/null | grep -E '^(-|:[^ ]+ - )'
  nsx "$1" arptables -L -n 2>/dev/null
  # nftables: the whole nft ruleset (lvsctl's tables lvsctl_dr in ip, ip6 and arp among it), from nft -j.
  [ "$FW" = nftables ] && nft_ruleset "$1"
  return 0
}

# poke: make the client resolve the VIP (there is no ping on these hosts: a TCP connection attempt does it).
poke() { nsx client timeout 6 bash -c "exec 3<>/dev/tcp/$VIP/80" >/dev/null 2>&1; sleep 0.5; }

director_mac() { cat /sys/class/net/br0/address; }
client_neigh() { ip -n client neigh show 192.0.2.10 | awk '{for(i=1;i<NF;i++) if($i=="lladdr") print $(i+1)}'; }

# nobody_but_director METHOD: with the VIP off the director, the client's ARP for the VIP gets no answer.
nobody_but_director() {
  ip addr del $VIP/32 dev br0
  ip -n client neigh flush all
  poke
  local n; n=$(client_neigh)
  ip addr add $VIP/32 dev br0
  ip -n client neigh flush all
  [ -z "$n" ] && ok "$1: no real server answers ARP for the VIP" || bad "$1: no real server answers ARP for the VIP" "client learned $n"
}

# both_reached METHOD: 8 connections to VIP:80 reach rs1 and rs2 (rr), and the client's neighbour entry is the director.
both_reached() {
  local seen=""
  for i in 1 2 3 4 5 6 7 8; do seen+="$(fetch 80) "; done
  [[ $seen == *rs1* && $seen == *rs2* && $seen != *no-answer* ]] && ok "$1: TCP to the VIP reaches rs1 and rs2" || bad "$1: TCP to the VIP reaches rs1 and rs2" "$seen"
  same "$1: the client's neighbour entry for the VIP is the director's MAC" "$(director_mac)" "$(client_neigh)"
}

lab_up
$LVSCTL vs add -t $VIP:80 -s rr && $LVSCTL rs add -t $VIP:80 -r 192.0.2.11 -g && $LVSCTL rs add -t $VIP:80 -r 192.0.2.12 -g
# A non-default arp_announce on rs2 that teardown must put back (not reset to 0).
nsx rs2 sysctl -qw net.ipv4.conf.eth0.arp_announce=1
before1=$(snap rs1); before2=$(snap rs2)

# Negative control: the VIP on lo with default sysctls makes rs1 answer ARP for it.
ip -n rs1 addr add $VIP/32 dev lo
ip addr del $VIP/32 dev br0; ip -n client neigh flush all
poke
n=$(client_neigh); ip addr add $VIP/32 dev br0; ip -n client neigh flush all; ip -n rs1 addr del $VIP/32 dev lo
[ -n "$n" ] && ok "control: an unprepared real server does answer ARP for the VIP ($n)" \
  || bad "control: an unprepared real server does answer ARP for the VIP" "nothing learned: the ARP check would prove nothing"

# DR_METHODS picks the methods (default all three); DR_METHODS_ONLY=1 stops after them. The kernel runner gives the
# arptables method to Debian's x86 kernel (the system's arptables is arptables-nft, and the user-mode-linux kernel
# has no nf_tables arp family) and everything else to user-mode Linux.
for method in ${DR_METHODS:-sysctl arptables redirect}; do
  extra=(); [ $method == redirect ] && extra=(--ports 80,443)
  for n in rs1 rs2; do $LVSCTL --netns $n dr setup --vip $VIP --method $method "${extra[@]}" || bad "$method: setup on $n exits 0"; done
  mid1=$(snap rs1)
  out=$($LVSCTL --netns rs1 dr setup --vip $VIP --method $method "${extra[@]}" 2>&1)
  same "$method: a second setup says no changes" "no changes" "$out"
  same "$method: a second setup changes nothing" "$mid1" "$(snap rs1)"
  st=$($LVSCTL --netns rs1 dr status --json)
  python3 - "$st" "$method" "$FW" <<'PY' && ok "$method: dr status --json shows the VIP with no problems" || bad "$method: dr status --json shows the VIP with no problems" "$st"
import json, sys
d = json.loads(sys.argv[1])["dr"]
assert len(d) == 1 and d[0]["vip"] == "192.0.2.10" and d[0]["method"] == sys.argv[2] and d[0]["problems"] == [], d
if sys.argv[2] == "sysctl": assert d[0]["bound_on"] == ["lo"] and d[0]["sysctls"]["net.ipv4.conf.all.arp_ignore"] == 1
# The arptables method: two arptables rules (INPUT drop, OUTPUT mangle) on iptables-legacy; on nftables one, the
# VIP's element in table arp lvsctl_dr (set vips and map rewrite).
if sys.argv[2] == "arptables": assert d[0]["bound_on"] == ["eth0"] and all(r["present"] for r in d[0]["rules"]) and len(d[0]["rules"]) == (1 if sys.argv[3] == "nftables" else 2)
if sys.argv[2] == "redirect": assert d[0]["bound_on"] == [] and len(d[0]["rules"]) == 1 and d[0]["rules"][0]["present"]
PY
  $LVSCTL --netns rs1 dr status --check >/dev/null && ok "$method: dr status --check exits 0" || bad "$method: dr status --check exits 0"
  case $FW.$method in
    *.sysctl) same "sysctl: VIP /32 on lo of rs1" "1" "$(ip -n rs1 -o addr show dev lo | grep -c "inet $VIP/32")"
            same "sysctl: arp_ignore/arp_announce on all and eth0" "1 2 1 2" \
              "$(for k in all.arp_ignore all.arp_announce eth0.arp_ignore eth0.arp_announce; do nsx rs1 sysctl -n net.ipv4.conf.$k; done | xargs)" ;;
    nftables.arptables)
      same "arptables: table arp lvsctl_dr (nft -j): the VIP set, the rewrite map, the input drop and output rewrite rules" \
        'vips: 192.0.2.10 comment "dr"
rewrite: 192.0.2.10 comment "dr" : 192.0.2.11
input: arp daddr ip @vips drop comment "lvsctl"
output: arp saddr ip set arp saddr ip map @rewrite comment "lvsctl"' \
        "$(nft_elems rs1 set arp lvsctl_dr vips | sed 's/^/vips: /'; nft_elems rs1 map arp lvsctl_dr rewrite | sed 's/^/rewrite: /'
           for c in input output; do nsx rs1 nft list chain arp lvsctl_dr $c | sed -n "s/^[[:space:]]*\(arp .*\)/$c: \1/p"; done)"
      # nftables only: arptables' own table (arptables-nft's arp filter) stays empty.
      same "arptables: nothing in arptables' own rules" "" "$(nsx rs1 arptables -L -n | grep -e '-j')" ;;
    nftables.redirect)
      same "redirect: set ip lvsctl_dr redirects (nft -j) holds the VIP's ports, and the nat chain redirects it" \
        '192.0.2.10 . tcp . 443 comment "dr"
192.0.2.10 . tcp . 80 comment "dr"
ip daddr . meta l4proto . th dport @redirects redirect comment "lvsctl"' \
        "$(nft_elems rs1 set ip lvsctl_dr redirects; nsx rs1 nft list chain ip lvsctl_dr prerouting | sed -n 's/^[[:space:]]*\(ip daddr .*\)/\1/p')" ;;
    *.arptables) same "arptables: the INPUT drop and OUTPUT mangle rules" \
                 "-j DROP -d 192.0.2.10 -j mangle -s 192.0.2.10 --mangle-ip-s 192.0.2.11" \
                 "$(nsx rs1 arptables -L -n | grep -e '-j' | xargs)" ;;
    *.redirect) same "redirect: the nat rule in lvsctl's chain, read back with iptables-legacy-save" \
                "-A LVSCTL -d 192.0.2.10/32 -p tcp -m multiport --dports 80,443 -m comment --comment \"lvsctl: dr\" -j REDIRECT" \
                "$(nsx rs1 iptables-legacy-save -t nat | grep '^-A LVSCTL')" ;;
  esac
  both_reached $method
  nobody_but_director $method
  for n in rs1 rs2; do $LVSCTL --netns $n dr teardown || bad "$method: teardown on $n exits 0"; done
  same "$method: teardown leaves rs1 exactly as before" "$before1" "$(snap rs1)"
  same "$method: teardown leaves rs2 exactly as before (arp_announce=1 put back)" "$before2" "$(snap rs2)"
done

[ -n "${DR_METHODS_ONLY:-}" ] && { $LVSCTL clear; lab_down; summary; exit; }

# Conflicts and bad input: refused, nothing changed.
$LVSCTL --netns rs1 dr setup --vip $VIP >/dev/null
mid=$(snap rs1)
expect_rc "conflict: arptables over a sysctl setup is refused (exit 1)" 1 $LVSCTL --netns rs1 dr setup --vip $VIP --method arptables
msg=$($LVSCTL --netns rs1 dr setup --vip $VIP --method redirect --ports 80 2>&1)
[[ $msg == *"already set up with --method sysctl"* && $(wc -l <<< "$msg") == 1 ]] && ok "conflict: one line naming the method in place" || bad "conflict: one line naming the method in place" "$msg"
ip -n rs2 addr add $VIP/32 dev eth0
expect_rc "conflict: sysctl with the VIP on a real interface is refused" 1 $LVSCTL --netns rs2 dr setup --vip $VIP
ip -n rs2 addr del $VIP/32 dev eth0
for c in "--vip 224.0.0.1" "--vip 255.255.255.255" "--vip 0.0.0.0" "--vip 127.0.0.2" "--vip 192.0.2.300" \
         "--vip $VIP --interface nosuch0" "--vip $VIP --method redirect" "--vip $VIP --method redirect --ports 0" \
         "--vip $VIP --method redirect --ports 70000" "--vip $VIP --ports 80" "--vip $VIP --method bogus" \
         "--vip 2001:db8::10 --method arptables" "--vip $VIP --interface a/b" "--vip ::ffff:192.0.2.10"; do
  # shellcheck disable=SC2086
  out=$($LVSCTL --netns rs1 dr setup $c 2>&1); rc=$?
  [ $rc == 2 ] && [ "$(wc -l <<< "$out")" == 1 ] && [[ $out == lvsctl:* ]] && ok "bad input exit 2, one line: dr setup $c" || bad "bad input exit 2, one line: dr setup $c" "rc=$rc $out"
done
same "bad input and conflicts changed nothing on rs1" "$mid" "$(snap rs1)"
expect_rc "teardown of a VIP not set up exits 1" 1 $LVSCTL --netns rs1 dr teardown --vip 192.0.2.99

# Reboot: save on the real server holds the dr line; after teardown, restore of that file re-creates it.
saved=$($LVSCTL --netns rs1 save)
grep -qx "dr setup --vip $VIP --method sysctl" <<< "$saved" && ok "save on a real server includes the dr setup line" || bad "save on a real server includes the dr setup line" "$saved"
printf '%s\n' "$saved" > /tmp/rs1.conf
$LVSCTL --netns rs1 dr teardown
same "teardown before the simulated reboot" "$before1" "$(snap rs1)"
$LVSCTL --netns rs1 restore /tmp/rs1.conf && $LVSCTL --netns rs2 dr setup --vip $VIP
same "restore of the saved file re-creates the dr setup" "$mid" "$(snap rs1)"
both_reached "after restore"
$LVSCTL --netns rs1 dr teardown; $LVSCTL --netns rs2 dr teardown
# A file whose dr line fails (unknown interface) changes nothing, and names the line.
printf 'vs add -t 192.0.2.20:80\ndr setup --vip %s --interface nosuch0\n' $VIP > /tmp/bad-dr.conf
out=$($LVSCTL --netns rs1 restore /tmp/bad-dr.conf 2>&1); rc=$?
[ $rc == 2 ] && [[ $out == *"/tmp/bad-dr.conf:2:"*nosuch0* ]] && ok "restore: a bad dr line is reported as FILE:2 with exit 2" || bad "restore: a bad dr line is reported as FILE:2 with exit 2" "rc=$rc $out"
same "restore: nothing applied from the bad file" "" "$(nsx rs1 ipvsadm -Sn)"
same "restore: rs1 unchanged by the bad file" "$before1" "$(snap rs1)"

# IPv6 VIP, sysctl method: /128 on lo (no ARP sysctls for IPv6), torn down cleanly.
new_ns dr6
b6=$(snap dr6)
$LVSCTL --netns dr6 dr setup --vip 2001:db8::10
same "IPv6: VIP /128 on lo" "1" "$(ip -n dr6 -o -6 addr show dev lo | grep -c '2001:db8::10/128')"
$LVSCTL --netns dr6 dr teardown
same "IPv6: teardown leaves the namespace as before" "$b6" "$(snap dr6)"

$LVSCTL clear
lab_down
rm -f /tmp/rs1.conf /tmp/bad-dr.conf
summary

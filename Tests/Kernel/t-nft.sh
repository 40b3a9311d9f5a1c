#!/usr/bin/env bash
# lvsctl on a kernel WITHOUT legacy x_tables (Scripts/vm/run --tcg-nolegacy: no ip_tables, ip6_tables, arp_tables in
# the initramfs), where `auto` must pick the nftables backend. Everything is read back with `nft -j list ruleset`,
# never by asking lvsctl: the seed scenario with live traffic, save/clear/restore, IPv6 bundles, the dr redirect and
# arptables methods with teardown, bad input, an admin's own nft table left alone, and bundle add/delete cycles beside
# a concurrent `nft add rule` writer.
source "$(dirname "$0")/lib.sh"

# nft's JSON ruleset without handles (they change on every rewrite), one object per line, sorted.
ruleset() {  # ruleset [NS]
  local pre=(); [ -n "${1:-}" ] && pre=(ip netns exec "$1")
  "${pre[@]}" nft -j list ruleset | python3 -c '
import json, sys
def strip(o):
    if isinstance(o, dict): return {k: strip(v) for k, v in o.items() if k != "handle"}
    if isinstance(o, list): return [strip(v) for v in o]
    return o
d = json.load(sys.stdin)["nftables"]
print("\n".join(sorted(json.dumps(strip(x), sort_keys=True) for x in d if "metainfo" not in x)))'
}
# The elements of lvsctl's mark map as "ADDR PROTO PORT MARK COMMENT" lines, from nft -j.
marks() {  # marks NS FAMILY
  ip netns exec "$1" nft -j list map "$2" lvsctl marks 2>/dev/null | python3 -c '
import json, sys
for x in json.load(sys.stdin)["nftables"]:
    for e in x.get("map", {}).get("elem", []):
        k, v = e
        c = k["elem"].get("comment", "") if "elem" in k else ""
        k = k["elem"]["val"] if "elem" in k else k
        a, p, port = k["concat"]
        if isinstance(port, dict): port = "%d-%d" % tuple(port["range"])
        print(a, p, port, v, c)' | sort
}

# ---- 0. this kernel really has no legacy x_tables, and lvsctl says why it uses nftables
if modprobe ip_tables 2>/dev/null || [ -e /proc/net/ip_tables_names ]; then
  bad "this VM has no legacy x_tables (modprobe ip_tables fails)" "ip_tables loaded: wrong VM kind (use --tcg-nolegacy)"
else ok "this VM has no legacy x_tables (modprobe ip_tables fails)"; fi
info=$($LVSCTL info); json=$($LVSCTL info --json)
case "$info" in *"Firewall backend: nftables (auto: no lvsctl rules yet, and this kernel has no legacy x_tables (ip_tables))"*)
  ok "info: nftables, because the kernel has no legacy x_tables" ;; *) bad "info: nftables, because the kernel has no legacy x_tables" "$info" ;; esac
same "info --json: backend nftables, legacy_available false" "nftables False" \
  "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])["firewall"]; print(d["backend"], d["legacy_available"])' "$json")"

# ---- 1. an admin's own nft table, which lvsctl must never touch
nft add table inet admin
nft add chain inet admin filter '{ type filter hook input priority 0; policy accept; }'
nft add rule inet admin filter ip saddr 203.0.113.9 counter drop comment '"hand-written"'
admin_before=$(nft list table inet admin)

# ---- 2. the seed scenario with live traffic (Scripts/demo.sh: bundle 80+443 with persistence, round robin without,
# ARP, save/clear/restore), on nftables
run_demo "seed scenario on nftables"
case "$DEMO_OUT" in *"table ip lvsctl {"*"192.0.2.10 . tcp . 80 comment \"bundle web\" : 0x00000050"*)
  ok "the demo shows the bundle as an element of nft's table ip lvsctl" ;; *) bad "the demo shows the bundle as an element of nft's table ip lvsctl" "$(grep -A12 'table ip lvsctl' <<< "$DEMO_OUT")" ;; esac
same "after the demo's restore, the root namespace's mark map holds VIP:80 and VIP:443 with mark 80" \
  "192.0.2.10 tcp 443 80 bundle web
192.0.2.10 tcp 80 80 bundle web" "$(nft -j list map ip lvsctl marks | python3 -c '
import json, sys
for x in json.load(sys.stdin)["nftables"]:
    for k, v in x.get("map", {}).get("elem", []):
        a, p, port = k["elem"]["val"]["concat"]; print(a, p, port, v, k["elem"]["comment"])' | sort)"
$LVSCTL bundle delete web >/dev/null 2>&1; $LVSCTL clear
same "the root namespace is left without services and without lvsctl tables" "" \
  "$(ipvsadm -Sn; nft list tables | grep lvsctl)"

# ---- 3. save / clear / restore, IPv4 and IPv6 bundles, read back identical
new_ns sr
L="nsx sr $LVSCTL"
$L bundle add web --vip 192.0.2.10 --vip 192.0.2.20 --ports 80,443 -s rr -p 300 >/dev/null
$L bundle add dns --vip 192.0.2.11 --ports 53 --proto both --mark 0x35 >/dev/null
$L bundle add range --vip 192.0.2.12 --ports 8000:8010,9000 --mark 4294967295 -s wlc >/dev/null
$L bundle add v6 --vip 2001:db8::10 --ports 80,443 --mark 600 -s sh >/dev/null
$L rs add --bundle web -r 198.51.100.2 -w 3
$L rs add --bundle v6 -r 2001:db8::2
same "IPv4 marks read back by nft" "192.0.2.10 tcp 443 1 bundle web
192.0.2.10 tcp 80 1 bundle web
192.0.2.11 tcp 53 53 bundle dns
192.0.2.11 udp 53 53 bundle dns
192.0.2.12 tcp 8000-8010 4294967295 bundle range
192.0.2.12 tcp 9000 4294967295 bundle range
192.0.2.20 tcp 443 1 bundle web
192.0.2.20 tcp 80 1 bundle web" "$(marks sr ip)"
same "IPv6 marks read back by nft (table ip6 lvsctl)" "2001:db8::10 tcp 443 600 bundle v6
2001:db8::10 tcp 80 600 bundle v6" "$(marks sr ip6)"
same "the nft rule is one map lookup" 'meta mark set ip daddr . meta l4proto . th dport map @marks comment "lvsctl"' \
  "$(nsx sr nft list chain ip lvsctl prerouting | grep -o 'meta mark set.*')"
rules1=$(ruleset sr); ipvs1=$(nsx sr ipvsadm -Sn)
$L save /tmp/nft-sr.conf
if grep -q '^firewall' /tmp/nft-sr.conf; then bad "save on an nft-only host writes no firewall line (the file stays neutral)" "$(grep ^firewall /tmp/nft-sr.conf)"
else ok "save on an nft-only host writes no firewall line (the file stays neutral)"; fi
for b in web dns range v6; do $L bundle delete $b; done; $L clear
same "after deleting every bundle, lvsctl's tables are gone" "" "$(nsx sr nft list tables)"
$L restore /tmp/nft-sr.conf
same "restore: the nft ruleset reads back identical" "$rules1" "$(ruleset sr)"
same "restore: IPVS reads back identical" "$ipvs1" "$(nsx sr ipvsadm -Sn)"
same "apply --dry-run of the saved file: no changes" "no changes" "$($L apply --dry-run /tmp/nft-sr.conf)"
# bundle list names the nft elements, never iptables
bl=$($L bundle list)
case "$bl" in *"rule: nft add element ip6 lvsctl marks { 2001:db8::10 . tcp . 80"*) ok "bundle list shows nft elements (ip6 for IPv6)" ;;
  *) bad "bundle list shows nft elements (ip6 for IPv6)" "$bl" ;; esac
# A file saved on a legacy host (no firewall line, iptables syntax nowhere) restores unchanged here: the lvsctl format
# is backend-neutral, and ipvsadm-save -A lines still load.
printf 'bundle add neutral --vip 192.0.2.30 --ports 25 --mark 25 -s rr\n-A -t 192.0.2.31:80 -s rr\n' > /tmp/nft-neutral.conf
$L restore --no-flush /tmp/nft-neutral.conf
same "a neutral file restores onto nftables" "192.0.2.30 tcp 25 25 bundle neutral" "$(marks sr ip | grep neutral)"

# ---- 4. bad input: exit 2, one line, nothing changed
before=$(ruleset sr; nsx sr ipvsadm -Sn)
expect_rc "bad port: exit 2" 2 $L bundle add bad --vip 192.0.2.40 --ports 80,70000
expect_rc "bad --firewall value: exit 2" 2 $L --firewall nft-legacy bundle list
expect_rc "bad LVSCTL_FIREWALL: exit 2" 2 env LVSCTL_FIREWALL=xtables ip netns exec sr $LVSCTL bundle list
err=$($L --firewall bogus bundle list 2>&1 >/dev/null)
same "bad --firewall names the value in one line" "lvsctl: invalid firewall backend 'bogus' (expected auto, nftables or iptables-legacy)" "$err"
printf 'firewall nftables\nfirewall iptables-legacy\n' > /tmp/nft-twice.conf
expect_rc "a file with two firewall lines: exit 2" 2 $L restore /tmp/nft-twice.conf
err=$($L restore /tmp/nft-twice.conf 2>&1)
same "the error names the file and line" "lvsctl: /tmp/nft-twice.conf:2: firewall is already set at line 1" "$err"
# A port already marked by another bundle: refused before anything changes (exit 1), naming both bundles.
err=$($L bundle add clash --vip 192.0.2.10 --ports 440:450 --mark 77 2>&1); rc=$?
same "an overlapping bundle: exit 1" 1 "$rc"
case "$err" in *"tcp port 443 of 192.0.2.10 is in both bundle clash and bundle web"*|*"tcp port 440 of 192.0.2.10 is in both"*|*"in both bundle web and bundle clash"*)
  ok "the overlap error names both bundles" ;; *) bad "the overlap error names both bundles" "$err" ;; esac
# The legacy backend, named on this kernel: refused with what is missing and the other backend.
err=$($L --firewall iptables-legacy bundle add leg --vip 192.0.2.41 --ports 80 2>&1); rc=$?
same "--firewall iptables-legacy on an nft-only kernel: exit 1" 1 "$rc"
case "$err" in *"lvsctl's firewall rules are in nftables, not iptables-legacy"*) ok "…and it says where the rules are and how to move them" ;;
  *) bad "…and it says where the rules are and how to move them" "$err" ;; esac
same "bad input changed nothing (nft ruleset and IPVS)" "$before" "$(ruleset sr; nsx sr ipvsadm -Sn)"

# ---- 4b. the legacy backend named on this kernel: what needs no firewall still works (the problem issue 17 measured:
# save, restore, apply --dry-run and bundle list all exited 1 here, even with no bundle), and a write says what is
# missing and names the other backend.
new_ns lg
G="nsx lg $LVSCTL --firewall iptables-legacy"
$G vs add -t 192.0.2.60:80 -s rr
out=$($G save 2>&1); same "legacy named, no legacy kernel: save with no bundle exits 0" 0 "$?"
printf 'vs add -t 192.0.2.61:80 -s wlc\n' > /tmp/nft-lg.conf
$G restore /tmp/nft-lg.conf; same "…restore of a file without bundles exits 0" 0 "$?"
same "…apply --dry-run of it: no changes" "no changes" "$($G apply --dry-run /tmp/nft-lg.conf 2>&1)"
out=$($G bundle list 2>&1); rc=$?; same "…bundle list is empty, exit 0" "0:" "$rc:$out"
err=$($G bundle add lb --vip 192.0.2.62 --ports 80 2>&1); rc=$?
same "…a bundle add exits 1" 1 "$rc"
case "$err" in *"ip_tables kernel module is missing"*"--firewall nftables"*) ok "…naming the missing module and the nftables backend in one line" ;;
  *) bad "…naming the missing module and the nftables backend in one line" "$err" ;; esac
same "…and leaves no half: no service, no lvsctl table" "-A -t 192.0.2.61:80 -s wlc" "$(nsx lg ipvsadm -Sn; nsx lg nft list tables | grep lvsctl)"

# ---- 5. dr: the redirect and arptables methods in nft tables of lvsctl's own, and teardown
new_ns drn
nsx drn ip link add eth0 type dummy; nsx drn ip link set eth0 up; nsx drn ip addr add 198.51.100.2/24 dev eth0
D="nsx drn $LVSCTL"
$D dr setup --vip 192.0.2.50 --method redirect --ports 80,443 --proto both >/dev/null && ok "dr setup --method redirect" || bad "dr setup --method redirect"
same "redirect: nft set lvsctl_dr/redirect holds the VIP's ports" "192.0.2.50 tcp 443 dr
192.0.2.50 tcp 80 dr
192.0.2.50 udp 443 dr
192.0.2.50 udp 80 dr" "$(nsx drn nft -j list set ip lvsctl_dr redirects | python3 -c '
import json, sys
for x in json.load(sys.stdin)["nftables"]:
    for e in x.get("set", {}).get("elem", []):
        a, p, port = e["elem"]["val"]["concat"]; print(a, p, port, e["elem"]["comment"])' | sort)"
same "redirect: the nat chain redirects" 'ip daddr . meta l4proto . th dport @redirects redirect comment "lvsctl"' \
  "$(nsx drn nft list chain ip lvsctl_dr prerouting | grep -o 'ip daddr.*')"
$D dr setup --vip 192.0.2.51 --method arptables --interface eth0 >/dev/null && ok "dr setup --method arptables" || bad "dr setup --method arptables"
same "arptables method: table arp lvsctl_dr drops ARP for the VIP and rewrites it as sender" "192.0.2.51 dr 198.51.100.2" \
  "$(nsx drn nft -j list map arp lvsctl_dr rewrite | python3 -c '
import json, sys
for x in json.load(sys.stdin)["nftables"]:
    for k, v in x.get("map", {}).get("elem", []): print(k["elem"]["val"], k["elem"]["comment"], v)')"
same "arptables method: the arp input chain drops the VIP set" 'arp daddr ip @vips drop comment "lvsctl"' \
  "$(nsx drn nft list chain arp lvsctl_dr input | grep -o 'arp daddr.*')"
st=$($D dr status --check 2>&1); same "dr status --check: no problems" 0 "$?"
case "$st" in *"nft add element"*) ok "dr status names the nft rules" ;; *) bad "dr status names the nft rules" "$st" ;; esac
$D save | grep -q '^dr setup --vip 192.0.2.51 --method arptables' && ok "save keeps the dr lines" || bad "save keeps the dr lines"
$D dr teardown >/dev/null && ok "dr teardown" || bad "dr teardown"
same "teardown removes lvsctl's dr tables, nothing else" "" "$(nsx drn nft list tables)"
same "teardown removes the VIP" "" "$(nsx drn ip -br addr show | grep 192.0.2.51)"

# ---- 6. lvsctl beside a concurrent nft writer: 15 add/delete cycles, nothing lost on either side
new_ns cw
nsx cw nft add table inet other
nsx cw nft add chain inet other c '{ type filter hook input priority 10; policy accept; }'
nsx cw bash -c 'fails=0; for i in $(seq 1 150); do nft add rule inet other c ip saddr 203.0.113.$((i % 250 + 1)) counter comment "\"w$i\"" || fails=$((fails+1)); done; echo $fails > /tmp/nft-writer-fails' &
wpid=$!
C="nsx cw $LVSCTL"
cyc_fail=0
for i in $(seq 1 15); do
  $C bundle add c$i --vip 198.51.100.$((10 + i)) --ports 80,443 -s rr >/dev/null 2>/tmp/nft-cyc.err || { cyc_fail=$((cyc_fail+1)); cat /tmp/nft-cyc.err; }
  if [ $((i % 3)) -eq 0 ]; then $C bundle delete c$((i - 1)) 2>>/tmp/nft-cyc.err || cyc_fail=$((cyc_fail+1)); fi
done
wait $wpid
same "15 add/delete cycles beside a concurrent nft writer: every lvsctl command succeeded" 0 "$cyc_fail"
same "the concurrent writer: every nft add rule succeeded" 0 "$(cat /tmp/nft-writer-fails)"
same "the concurrent writer's 150 rules are all there" 150 "$(nsx cw nft list chain inet other c | grep -c 'comment "w')"
want=""; for i in $(seq 1 15); do [ $((i % 3)) -eq 2 ] && continue; want+="c$i "; done
got=$(marks cw ip | awk '{print $5" "$6}' | sed 's/^bundle //' | sort -u | sort -V | tr '\n' ' ')
same "lvsctl's bundles after the cycles: every kept bundle whole, no deleted one left" "$(echo $want | tr ' ' '\n' | sort -V | tr '\n' ' ')" "$got"
same "and each kept bundle has its fwmark service" "$(echo $want | wc -w)" "$(nsx cw ipvsadm -Sn | grep -c '^-A -f')"

same "the admin's hand-written table is untouched" "$admin_before" "$(nft list table inet admin)"
nft delete table inet admin
summary

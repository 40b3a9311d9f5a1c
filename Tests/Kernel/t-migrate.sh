#!/usr/bin/env bash
# Both firewall backends on one kernel (Debian's x86 kernel under TCG: legacy x_tables and nf_tables with every
# family): how `auto` decides and says why, `bundle migrate` both ways (bundles, dr redirect and ARP rules) read back
# with iptables-legacy-save / arptables / nft -j, a failing migration leaving the old rules, the firewall line of
# save, and a named backend that holds no rules refused. Rules are always read with the reference tools.
source "$(dirname "$0")/lib.sh"
unset LVSCTL_FIREWALL

lvs_tables() { nsx "$1" nft list tables | grep -E ' lvsctl(_dr)?$' | sort | xargs; }
legacy() { nsx "$1" iptables-legacy-save | grep -E '^-A (LVSCTL|PREROUTING)'; nsx "$1" ip6tables-legacy-save | grep -E '^-A (LVSCTL|PREROUTING)'; }
marks() {  # marks NS FAMILY: "ADDR PROTO PORT MARK COMMENT" from nft -j
  nsx "$1" nft -j list map "$2" lvsctl marks 2>/dev/null | python3 -c '
import json, sys
for x in json.load(sys.stdin)["nftables"]:
    for k, v in x.get("map", {}).get("elem", []):
        a, p, port = k["elem"]["val"]["concat"]
        if isinstance(port, dict): port = "%d-%d" % tuple(port["range"])
        print(a, p, port, v, k["elem"]["comment"])' | sort
}
fw() { nsx "$1" $LVSCTL info --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["firewall"]; print(d["backend"] + ": " + d["reason"])'; }

new_ns mg
nsx mg ip link add eth0 type dummy; nsx mg ip link set eth0 up; nsx mg ip addr add 198.51.100.2/24 dev eth0
M="nsx mg $LVSCTL"
same "auto on an empty host with legacy x_tables: iptables-legacy" \
  "iptables-legacy: auto: no lvsctl rules yet, and this kernel has legacy x_tables (ip_tables)" "$(fw mg)"
err=$($M bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 -s rr -p 60 2>&1 >/dev/null)
case "$err" in *"bundle migrate --to nftables"*) ok "legacy bundle add on a host whose iptables is nft: the note names bundle migrate" ;;
  *) bad "legacy bundle add on a host whose iptables is nft: the note names bundle migrate" "$err" ;; esac
$M bundle add v6 --vip 2001:db8::10 --ports 443 --mark 600 -s sh 2>/dev/null
$M rs add --bundle web -r 198.51.100.3
$M dr setup --vip 192.0.2.20 --method redirect --ports 8080 >/dev/null
$M dr setup --vip 192.0.2.21 --method arptables --interface eth0 >/dev/null
same "auto keeps the backend that holds lvsctl's rules" "iptables-legacy: auto: lvsctl's rules are in the legacy iptables tables" "$(fw mg)"
legacy_before=$(legacy mg); arp_before=$(nsx mg arptables -L -n | grep -e '-j' | xargs); ipvs_before=$(nsx mg ipvsadm -Sn)
same "the arptables method on legacy used the arptables binary" "-j DROP -d 192.0.2.21 -j mangle -s 192.0.2.21 --mangle-ip-s 198.51.100.2" "$arp_before"
same "no lvsctl nft table while on legacy" "" "$(lvs_tables mg)"
$M save /tmp/mg-legacy.conf
grep -q '^firewall' /tmp/mg-legacy.conf && bad "save on legacy (auto) writes no firewall line" "$(grep ^firewall /tmp/mg-legacy.conf)" \
  || ok "save on legacy (auto) writes no firewall line"

# A named backend that holds nothing, while the rules are elsewhere: refused, nothing changes.
err=$($M --firewall nftables bundle list 2>&1); rc=$?
same "--firewall nftables while the rules are in legacy: exit 1" 1 "$rc"
case "$err" in *"lvsctl's firewall rules are in iptables-legacy, not nftables"*"bundle migrate --to nftables"*) ok "…naming where the rules are and the migrate command" ;;
  *) bad "…naming where the rules are and the migrate command" "$err" ;; esac

# A migration that cannot finish (the xtables lock is held past lvsctl's 10 s wait, so the legacy rules cannot be
# removed) takes its nft rules out again: the old rules stay, nothing is lost.
( exec 9>>/run/xtables.lock; flock 9; exec sleep 60 ) & lk=$!   # $lk itself holds the lock: killing it frees it
# Wait until the holder has the lock (a process start takes seconds under TCG on a busy host).
for i in $(seq 1 100); do flock -n /run/xtables.lock true || break; sleep 0.2; done
err=$($M bundle migrate --to nftables 2>&1); rc=$?
kill $lk 2>/dev/null; wait $lk 2>/dev/null
same "a migration that cannot remove the old rules exits 1" 1 "$rc"
same "…and leaves the legacy rules as they were" "$legacy_before" "$(legacy mg)"
same "…and no lvsctl nft table" "" "$(lvs_tables mg)"
same "…and the ARP rules as they were" "$arp_before" "$(nsx mg arptables -L -n | grep -e '-j' | xargs)"

# Legacy -> nftables.
out=$($M bundle migrate --to nftables); rc=$?
same "migrate --to nftables exits 0" 0 "$rc"
same "migrate says what it moved" "moved 2 bundle(s) from iptables-legacy to nftables: web, v6
moved the dr rules of 2 VIP(s) (1 redirect rule(s), 1 ARP pair(s))" "$out"
same "after migrating: no legacy rule of lvsctl's" "" "$(legacy mg)"
same "after migrating: no arptables rule" "" "$(nsx mg arptables -L -n | grep -e '-j' | xargs)"
same "after migrating: lvsctl's nft tables" "table arp lvsctl_dr table ip lvsctl table ip lvsctl_dr table ip6 lvsctl" "$(lvs_tables mg)"
same "the IPv4 marks in nft" "192.0.2.10 tcp 443 80 bundle web
192.0.2.10 tcp 80 80 bundle web" "$(marks mg ip)"
same "the IPv6 marks in nft" "2001:db8::10 tcp 443 600 bundle v6" "$(marks mg ip6)"
same "the redirect in nft" '192.0.2.20 . tcp . 8080 comment "dr"' \
  "$(nsx mg nft list set ip lvsctl_dr redirects | grep -o '192.0.2.20 . tcp . 8080 comment "dr"')"
same "the ARP rewrite in nft" '192.0.2.21 comment "dr" : 198.51.100.2' \
  "$(nsx mg nft list map arp lvsctl_dr rewrite | grep -o '192.0.2.21 comment "dr" : 198.51.100.2')"
same "IPVS untouched by the migration" "$ipvs_before" "$(nsx mg ipvsadm -Sn)"
$M dr status --check >/dev/null && ok "dr status --check after migrating: no problems" || bad "dr status --check after migrating: no problems" "$($M dr status)"
same "auto now follows the rules to nftables" "nftables: auto: lvsctl's rules are in nftables" "$(fw mg)"
$M bundle add more --vip 192.0.2.11 --ports 25 --mark 25 2>/dev/null
same "a new bundle goes to nftables" "192.0.2.11 tcp 25 25 bundle more" "$(marks mg ip | grep more)"
same "…and nothing to legacy" "" "$(legacy mg)"
$M save /tmp/mg-nft.conf
same "save on nftables while legacy exists keeps the choice: firewall nftables" "firewall nftables" "$(grep '^firewall' /tmp/mg-nft.conf)"
same "save: the rest of the file equals the legacy one (plus the new bundle)" \
  "$(grep -v '^#' /tmp/mg-legacy.conf | sort)" "$(grep -v -e '^#' -e '^firewall' -e 'bundle add more' /tmp/mg-nft.conf | sort)"
same "migrating again: nothing to do" "nothing to migrate: lvsctl has no rules outside nftables" "$($M bundle migrate --to nftables)"

# nftables -> legacy: the legacy rules come back as they were (plus the new bundle).
$M bundle delete more
$M bundle migrate --to iptables-legacy >/dev/null; rc=$?
same "migrate --to iptables-legacy exits 0" 0 "$rc"
same "the legacy rules are back as they were (iptables-legacy-save)" "$legacy_before" "$(legacy mg)"
same "the ARP rules are back in arptables" "$arp_before" "$(nsx mg arptables -L -n | grep -e '-j' | xargs)"
same "no lvsctl nft table is left" "" "$(lvs_tables mg)"
$M dr status --check >/dev/null && ok "dr status --check after migrating back" || bad "dr status --check after migrating back" "$($M dr status)"
$M dr teardown >/dev/null && ok "dr teardown after two migrations" || bad "dr teardown after two migrations"
same "teardown left no arptables rule" "" "$(nsx mg arptables -L -n | grep -e '-j' | xargs)"

# A file with a firewall line, restored on an empty namespace of a legacy-capable kernel, uses that backend.
new_ns fl
grep -v '^dr setup' /tmp/mg-nft.conf > /tmp/mg-nft-nodr.conf
nsx fl $LVSCTL restore /tmp/mg-nft-nodr.conf
same "restore of a file saying firewall nftables: the marks go to nft" "192.0.2.10 tcp 443 80 bundle web
192.0.2.10 tcp 80 80 bundle web
192.0.2.11 tcp 25 25 bundle more" "$(marks fl ip)"
same "…and nothing to legacy" "" "$(legacy fl)"
same "…and info says the file chose it" "nftables: auto: lvsctl's rules are in nftables" "$(fw fl)"
summary

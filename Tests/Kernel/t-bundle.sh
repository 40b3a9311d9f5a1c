#!/usr/bin/env bash
# Bundles: mangle rules equal to the equivalent iptables-legacy commands (IPv4 and IPv6), ownership,
# both halves consistent, concurrency with another iptables writer, and bad input changing nothing.
# On either firewall backend (LVSCTL_FIREWALL, see lib.sh): iptables-legacy (unset) reads the rules back with
# iptables-legacy-save; nftables with `nft -j list ruleset` / `nft -j list map` (lvsctl's table ip|ip6 lvsctl: one
# map `marks` of VIP . proto . port : mark, and one rule), and compares against what `nft -f` builds from the
# hand-written table. Never by asking lvsctl.
# BUNDLE_SECTIONS="1 2 ..." runs only those numbered sections (default all; KERNEL_SMOKE=1 still stops after 1).
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
section() { [ -z "${BUNDLE_SECTIONS:-}" ] || [[ " $BUNDLE_SECTIONS " == *" $1 "* ]]; }

# iptables-legacy-save without comments/counters.
mangle() { nsx "$1" iptables-legacy-save -t mangle | grep -v '^#'; }
mangle6() { nsx "$1" ip6tables-legacy-save -t mangle | grep -v '^#'; }
if [ "$FW" = nftables ]; then
  state() { nsx "$1" ipvsadm -Sn; nft_ruleset "$1"; }
  # nft_marks NS [ip|ip6]: lvsctl's mark map, one element per line (lib.sh nft_elems).
  nft_marks() { nft_elems "$1" map "${2:-ip}" lvsctl marks; }
  # The one rule of lvsctl's table, as nft lists it.
  LOOKUP='meta mark set ip daddr . meta l4proto . th dport map @marks comment "lvsctl"'
  lookup() { nsx "$1" nft list chain ip lvsctl prerouting | sed -n 's/^[[:space:]]*\(meta mark set .*\)$/\1/p'; }
else
  state() { nsx "$1" ipvsadm -Sn; mangle "$1"; mangle6 "$1"; }
fi

# 1. lvsctl's rules == the rules iptables-legacy writes for the same thing (on nftables: == the ruleset nft -f builds
#    from the hand-written table).
if section 1; then
new_ns b1; new_ns r1
nsx b1 $L bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 -s rr -p 60 >/dev/null
nsx b1 $L bundle add one --vip 192.0.2.11 --ports 53 --proto both --mark 53 >/dev/null
nsx b1 $L bundle add rng --vip 192.0.2.12 --vip 192.0.2.13 --ports 8000:8010,9000 --mark 9 >/dev/null
ref=$(mktemp)
if [ "$FW" = nftables ]; then
  cat > "$ref" <<'NFT'
table ip lvsctl {
	comment "lvsctl firewall-mark bundles: change them with lvsctl bundle, not by hand"
	map marks {
		type ipv4_addr . inet_proto . inet_service : mark
		flags interval
		elements = { 192.0.2.10 . tcp . 80 comment "bundle web" : 80, 192.0.2.10 . tcp . 443 comment "bundle web" : 80,
			     192.0.2.11 . tcp . 53 comment "bundle one" : 53, 192.0.2.11 . udp . 53 comment "bundle one" : 53,
			     192.0.2.12 . tcp . 8000-8010 comment "bundle rng" : 9, 192.0.2.12 . tcp . 9000 comment "bundle rng" : 9,
			     192.0.2.13 . tcp . 8000-8010 comment "bundle rng" : 9, 192.0.2.13 . tcp . 9000 comment "bundle rng" : 9 }
	}
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		meta mark set ip daddr . meta l4proto . th dport map @marks comment "lvsctl"
	}
}
NFT
  nsx r1 nft -f "$ref"
  same "IPv4 nft ruleset equals the one nft -f builds from the hand-written table" "$(nft_ruleset r1)" "$(nft_ruleset b1)"
  # nftables only: the legacy backend's tables stay empty (iptables-legacy-save lists only tables in use).
  same "nftables: nothing written with iptables-legacy" "" \
    "$(nsx b1 iptables-legacy-save | grep -v '^#'; nsx b1 ip6tables-legacy-save | grep -v '^#')"
else
nsx r1 iptables-legacy -t mangle -N LVSCTL
nsx r1 iptables-legacy -t mangle -A PREROUTING -m comment --comment lvsctl -j LVSCTL
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.10/32 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsctl: bundle web" -j MARK --set-mark 80
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.11/32 -p tcp -m tcp --dport 53 -m comment --comment "lvsctl: bundle one" -j MARK --set-mark 53
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.11/32 -p udp -m udp --dport 53 -m comment --comment "lvsctl: bundle one" -j MARK --set-mark 53
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.12/32 -p tcp -m multiport --dports 8000:8010,9000 -m comment --comment "lvsctl: bundle rng" -j MARK --set-mark 9
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.13/32 -p tcp -m multiport --dports 8000:8010,9000 -m comment --comment "lvsctl: bundle rng" -j MARK --set-mark 9
same "IPv4 mangle rules equal iptables-legacy's" "$(mangle r1)" "$(mangle b1)"
fi
nsx r1 ipvsadm -A -f 80 -s rr -p 60; nsx r1 ipvsadm -A -f 53 -s wlc; nsx r1 ipvsadm -A -f 9 -s wlc
same "fwmark services equal ipvsadm's" "$(nsx r1 ipvsadm -Sn)" "$(nsx b1 ipvsadm -Sn)"

new_ns b6; new_ns r6
nsx b6 $L bundle add web6 --vip 2001:db8::10 --ports 80,443 --mark 80 -s rr -p 60 -M 64 >/dev/null
if [ "$FW" = nftables ]; then
  cat > "$ref" <<'NFT'
table ip6 lvsctl {
	comment "lvsctl firewall-mark bundles: change them with lvsctl bundle, not by hand"
	map marks {
		type ipv6_addr . inet_proto . inet_service : mark
		flags interval
		elements = { 2001:db8::10 . tcp . 80 comment "bundle web6" : 80, 2001:db8::10 . tcp . 443 comment "bundle web6" : 80 }
	}
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		meta mark set ip6 daddr . meta l4proto . th dport map @marks comment "lvsctl"
	}
}
NFT
  nsx r6 nft -f "$ref"
  same "IPv6 nft ruleset equals the one nft -f builds from the hand-written table" "$(nft_ruleset r6)" "$(nft_ruleset b6)"
else
nsx r6 ip6tables-legacy -t mangle -N LVSCTL
nsx r6 ip6tables-legacy -t mangle -A PREROUTING -m comment --comment lvsctl -j LVSCTL
nsx r6 ip6tables-legacy -t mangle -A LVSCTL -d 2001:db8::10/128 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsctl: bundle web6" -j MARK --set-mark 80
same "IPv6 mangle rules equal ip6tables-legacy's" "$(mangle6 r6)" "$(mangle6 b6)"
fi
rm -f "$ref"
nsx r6 ipvsadm -A -f 80 -6 -s rr -p 60 -M 64
same "IPv6 fwmark service equals ipvsadm's" "$(nsx r6 ipvsadm -Sn)" "$(nsx b6 ipvsadm -Sn)"
fi

# KERNEL_SMOKE=1 (the smoke subset on Debian's x86 kernel under TCG): the reference comparison above only.
[ -n "${KERNEL_SMOKE:-}" ] && { summary; exit; }

# 2. Ownership: a hand-written rule survives add and delete; delete removes both halves.
#    (nftables: the hand-written rule is in a table of its own, beside lvsctl's; delete drops lvsctl's whole table.)
if section 2; then
new_ns own
if [ "$FW" = nftables ]; then
  nsx own nft 'add table ip admin; add chain ip admin pre { type filter hook prerouting priority mangle; policy accept; };
    add rule ip admin pre udp dport 5353 meta mark set 5 comment "hand-written"'
  before=$(nft_ruleset own)
else
nsx own iptables-legacy -t mangle -A PREROUTING -p udp --dport 5353 -j MARK --set-mark 5
before=$(mangle own)
fi
nsx own $L bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 >/dev/null
nsx own $L rs add --bundle web -r 198.51.100.2
nsx own $L bundle delete web
if [ "$FW" = nftables ]; then
  same "delete leaves the hand-written nft table and nothing else (nft -j list ruleset)" "$before" "$(nft_ruleset own)"
else
same "delete leaves the hand-written rule and nothing else" "$before" "$(mangle own)"
fi
same "delete removes the fwmark service" "" "$(nsx own ipvsadm -Sn)"
fi

# 3. Auto-picked mark avoids marks in use by fwmark services.
if section 3; then
new_ns mk
nsx mk ipvsadm -A -f 1 -s rr
m=$(nsx mk $L bundle add auto --vip 192.0.2.20 --ports 80)
same "auto mark skips a mark used by an existing fwmark service" "bundle auto: mark 2" "$m"
fi

# 4. Bad input: exit 2, one stderr line, nothing changes (state: ipvsadm -Sn plus the backend's rules).
if section 4; then
new_ns bi
nsx bi $L bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 >/dev/null
nsx bi ipvsadm -A -f 7 -s rr
snap=$(state bi)
bad_cases=(
  "mark 0|bundle add x --vip 192.0.2.30 --ports 80 --mark 0"
  "mark too big|bundle add x --vip 192.0.2.30 --ports 80 --mark 4294967296"
  "mark used by a bundle|bundle add x --vip 192.0.2.30 --ports 80 --mark 80"
  "mark used by a fwmark service|bundle add x --vip 192.0.2.30 --ports 80 --mark 7"
  "port 0|bundle add x --vip 192.0.2.30 --ports 0"
  "port 65536|bundle add x --vip 192.0.2.30 --ports 65536"
  "empty port list|bundle add x --vip 192.0.2.30 --ports ''"
  "reversed range|bundle add x --vip 192.0.2.30 --ports 90:80"
  "mixed families|bundle add x --vip 192.0.2.30 --vip 2001:db8::1 --ports 80"
  "multicast VIP|bundle add x --vip 224.0.0.1 --ports 80"
  "bad name|bundle add 'a;rm -rf /' --vip 192.0.2.30 --ports 80"
  "long name|bundle add $(printf 'n%.0s' {1..100}) --vip 192.0.2.30 --ports 80"
  "duplicate name|bundle add web --vip 192.0.2.31 --ports 80"
  "delete missing|bundle delete nosuch"
  "bad proto|bundle add x --vip 192.0.2.30 --ports 80 --proto icmp"
)
for c in "${bad_cases[@]}"; do
  name=${c%%|*}; args=${c#*|}
  err=$(eval "nsx bi $L $args" 2>&1 >/dev/null); rc=$?
  lines=$(printf '%s\n' "$err" | grep -c .)
  if [ $rc -eq 2 ] && [ "$lines" -eq 1 ]; then ok "bad input ($name): exit 2, one line: $err"; else bad "bad input ($name)" "rc=$rc lines=$lines: $err"; fi
done
if [ "$FW" = nftables ]; then
  same "bad input left IPVS and the nft ruleset unchanged" "$snap" "$(state bi)"
else
same "bad input left IPVS and the mangle tables unchanged" "$snap" "$(state bi)"
fi
fi

# 5. IPVS half fails (unknown scheduler) -> the rules are removed again.
if section 5; then
new_ns half
before=$(state half)
nsx half $L bundle add web --vip 192.0.2.10 --ports 80 -s nosuchsched >/dev/null 2>&1; rc=$?
same "kernel refusal of the service half exits 1" "1" "$rc"
same "kernel refusal leaves no half-made bundle" "$before" "$(state half)"
fi

T=$(mktemp -d)
# 6. Concurrency: 50 add/delete cycles while iptables-legacy writes other rules in a loop.
#    nftables: BUNDLE_CYCLES (default 10) cycles while `nft add rule` / `nft delete rule ... handle N` alternate in a
#    table of the writer's own until lvsctl is done; neither side may fail, and neither may lose anything.
if section 6; then
new_ns cc
nsx cc $L bundle add keep --vip 192.0.2.50 --ports 80 --mark 500 >/dev/null
if [ "$FW" = nftables ]; then
  cycles=${BUNDLE_CYCLES:-10}
  nsx cc nft 'add table ip other; add chain ip other out { type filter hook output priority mangle; policy accept; }'
  nsx cc bash -c 'T=$1; i=0; fails=0
    until [ -e "$T/cc-done" ]; do
      i=$((i+1))
      h=$(nft -e -a add rule ip other out tcp dport $((1000 + i % 60000)) meta mark set 3 comment "\"w$i\"" 2>>"$T/cc-writer.err" \
          | sed -n "s/.* # handle \([0-9]*\)\$/\1/p")
      if [ -n "$h" ]; then nft delete rule ip other out handle "$h" 2>>"$T/cc-writer.err" || fails=$((fails+1)); else fails=$((fails+1)); fi
    done
    echo "$i $fails" > "$T/cc-writer"' _ "$T" &
  loop=$!
  errs=0
  for i in $(seq 1 "$cycles"); do
    nsx cc $L bundle add c$i --vip 192.0.2.60 --ports 80,443 --mark $((1000+i)) >/dev/null 2>>"$T/cc.err" || errs=$((errs+1))
    nsx cc $L bundle delete c$i >/dev/null 2>>"$T/cc.err" || errs=$((errs+1))
  done
  touch "$T/cc-done"
  wait $loop
  wrote="?" wfails="no report from the writer"; [ -s "$T/cc-writer" ] && read -r wrote wfails < "$T/cc-writer"
  same "$cycles bundle add/delete cycles beside a concurrent nft writer: no errors" "0" "$errs$(sed 's/^/ /' "$T/cc.err")"
  same "the nft writer ($wrote add/delete pairs meanwhile): no errors" "0" "$wfails$(sed 's/^/ /' "$T/cc-writer.err")"
  same "afterwards only the kept bundle's element and service remain, and the writer's chain is empty" \
    "192.0.2.50 . tcp . 80 comment \"bundle keep\" : 500|-A -f 500 -s wlc|$LOOKUP|0" \
    "$(nft_marks cc)|$(nsx cc ipvsadm -Sn)|$(lookup cc)|$(nsx cc nft list chain ip other out | grep -c 'meta mark')"
else
( for i in $(seq 1 150); do nsx cc iptables-legacy -w -t mangle -A OUTPUT -p tcp --dport $((1000+i)) -j MARK --set-mark 3; \
    nsx cc iptables-legacy -w -t mangle -D OUTPUT -p tcp --dport $((1000+i)) -j MARK --set-mark 3; done ) &
loop=$!
errs=0
for i in $(seq 1 50); do
  nsx cc $L bundle add c$i --vip 192.0.2.60 --ports 80,443 --mark $((1000+i)) >/dev/null 2>&1 || errs=$((errs+1))
  nsx cc $L bundle delete c$i >/dev/null 2>&1 || errs=$((errs+1))
done
wait $loop
same "50 bundle add/delete cycles beside another iptables writer: no errors" "0" "$errs"
same "afterwards only the kept bundle's rule and service remain" \
  "-A LVSCTL -d 192.0.2.50/32 -p tcp -m tcp --dport 80 -m comment --comment \"lvsctl: bundle keep\" -j MARK --set-xmark 0x1f4/0xffffffff|-A -f 500 -s wlc" \
  "$(mangle cc | grep '^-A LVSCTL')|$(nsx cc ipvsadm -Sn)"
fi
fi
# 7. lvsctl beside lvsctl: bundle commands started at once. Each holds lvsctl's lock across the whole change, so
#    every command exits 0 and every bundle ends up whole. Read from the kernel with the reference tools: its MARK
#    rule (comment "lvsctl: bundle NAME") in iptables-legacy-save, its fwmark service in ipvsadm -Sn; plus its
#    `bundle list` entry; the marks distinct; nothing else in chain LVSCTL or IPVS (so nothing of deleted bundles).
#    nftables: its elements (comment "bundle NAME") in lvsctl's map from nft -j, and the table's one lookup rule.
if section 7; then
JOBS=()
# spawn NS TAG ARGS...: start `lvsctl ARGS` in NS in the background; stdout in $T/TAG, stderr in $T/TAG.err.
spawn() { local ns=$1 tag=$2; shift 2; nsx "$ns" $L "$@" > "$T/$tag" 2> "$T/$tag.err" & JOBS+=("$!:$tag"); }
# reap: wait for every started command (in this shell, not a $(...) subshell, which cannot wait for them);
# $T/failed gets "TAG: exit RC: STDERR" for each that failed.
reap() {
  local j rc
  : > "$T/failed"
  for j in "${JOBS[@]}"; do
    wait "${j%%:*}"; rc=$?
    [ $rc -eq 0 ] || echo "${j#*:}: exit $rc: $(tr '\n' ' ' < "$T/${j#*:}.err")" >> "$T/failed"
  done
  JOBS=()
}
# whole LABEL NS NAME=VIP...: the named bundles (tcp, ports 80,443, -s rr) are whole and are the only ones.
whole() {
  local label=$1 ns=$2; shift 2
  local rules svcs list nv b vip m marks=() want_rules="" want_svcs="" want_list=""
  if [ "$FW" = nftables ]; then rules=$(nft_marks "$ns" | sort); else
  rules=$(mangle "$ns" | grep '^-A LVSCTL' | sort)
  fi
  svcs=$(nsx "$ns" ipvsadm -Sn | sort)
  list=$(nsx "$ns" $L bundle list)
  for nv in "$@"; do
    b=${nv%%=*}; vip=${nv#*=}
    if [ "$FW" = nftables ]; then
      # The bundle's mark, as the kernel's map element has it (none: no element).
      m=$(sed -n "s|.* comment \"bundle $b\" : \([0-9]*\)\$|\1|p" <<< "$rules" | head -1)
      m=${m:-none}
      marks+=("$m")
      want_rules+="$vip . tcp . 443 comment \"bundle $b\" : $m"$'\n'"$vip . tcp . 80 comment \"bundle $b\" : $m"$'\n'
    else
    # The bundle's mark, as the kernel's MARK rule has it (none: no rule).
    m=$(sed -n "s|.*--comment \"lvsctl: bundle $b\" -j MARK --set-xmark \(0x[0-9a-f]*\)/0xffffffff\$|\1|p" <<< "$rules" | head -1)
    m=$([ -n "$m" ] && printf '%d' "$m" || echo none)
    marks+=("$m")
    want_rules+="-A LVSCTL -d $vip/32 -p tcp -m multiport --dports 80,443 -m comment --comment \"lvsctl: bundle $b\" -j MARK --set-xmark $([ "$m" = none ] && echo none || printf '0x%x' "$m")/0xffffffff"$'\n'
    fi
    want_svcs+="-A -f $m -s rr"$'\n'
    want_list+="bundle $b: mark $m tcp $vip ports 80,443"$'\n'
  done
  if [ "$FW" = nftables ]; then
    same "$label: every bundle's elements in lvsctl's mark map (nft -j list map), nothing else" "$(sort <<< "${want_rules%$'\n'}")" "$rules"
    same "$label: lvsctl's table holds its one lookup rule" "$LOOKUP" "$(lookup "$ns")"
  else
  same "$label: every bundle's MARK rule (iptables-legacy-save), nothing else" "$(sort <<< "${want_rules%$'\n'}")" "$rules"
  fi
  same "$label: every bundle's fwmark service (ipvsadm -Sn), nothing else" "$(sort <<< "${want_svcs%$'\n'}")" "$svcs"
  same "$label: every bundle in bundle list with its service" "$(sort <<< "${want_list%$'\n'}")" \
    "$(grep '^bundle ' <<< "$list" | sort)$(grep -q MISSING <<< "$list" && printf '\n%s' "a service MISSING")"
  same "$label: the marks are distinct" "${#marks[@]}" "$(printf '%s\n' "${marks[@]}" | grep -v none | sort -u | wc -l)"
}

# 7a. 8 bundle adds at once, marks picked by lvsctl.
new_ns par
for i in 1 2 3 4 5 6 7 8; do spawn par a$i bundle add b$i --vip 198.51.100.1$i --ports 80,443 -s rr; done
reap
same "8 bundle adds at once (auto marks): every command exits 0" "" "$(cat "$T/failed")"
whole "8 adds at once, auto marks" par b1=198.51.100.11 b2=198.51.100.12 b3=198.51.100.13 b4=198.51.100.14 \
  b5=198.51.100.15 b6=198.51.100.16 b7=198.51.100.17 b8=198.51.100.18
printed=""; kernel=""
for i in 1 2 3 4 5 6 7 8; do
  printed+="$(cat "$T/a$i")"$'\n'
  if [ "$FW" = nftables ]; then
    kernel+="bundle b$i: mark $(sed -n "s|.* comment \"bundle b$i\" : \([0-9]*\)\$|\1|p" <<< "$(nft_marks par)" | head -1)"$'\n'
  else
  kernel+="bundle b$i: mark $(sed -n "s|.*\"lvsctl: bundle b$i\" -j MARK --set-xmark \(0x[0-9a-f]*\)/.*|\1|p" <<< "$(mangle par)" | xargs printf '%d')"$'\n'
  fi
done
same "8 adds at once: each printed the mark the kernel has" "$kernel" "$printed"

# 7b. 8 bundle adds at once with explicit marks 101..108.
new_ns parm
for i in 1 2 3 4 5 6 7 8; do spawn parm m$i bundle add b$i --vip 198.51.100.1$i --ports 80,443 --mark 10$i -s rr; done
reap
same "8 bundle adds at once (marks 101..108): every command exits 0" "" "$(cat "$T/failed")"
whole "8 adds at once, marks 101..108" parm b1=198.51.100.11 b2=198.51.100.12 b3=198.51.100.13 b4=198.51.100.14 \
  b5=198.51.100.15 b6=198.51.100.16 b7=198.51.100.17 b8=198.51.100.18
same "8 adds at once: each bundle has the mark it asked for" "101 102 103 104 105 106 107 108" \
  "$(nsx parm ipvsadm -Sn | sed -n 's/^-A -f \([0-9]*\) .*/\1/p' | sort -n | xargs)"

# 7c. 4 bundle deletes beside 4 bundle adds, all at once.
new_ns pard
for i in 1 2 3 4; do nsx pard $L bundle add d$i --vip 198.51.100.2$i --ports 80,443 -s rr >/dev/null; done
for i in 1 2 3 4; do spawn pard del$i bundle delete d$i; spawn pard add$i bundle add n$i --vip 198.51.100.3$i --ports 80,443 -s rr; done
reap
same "4 deletes beside 4 adds at once: every command exits 0" "" "$(cat "$T/failed")"
whole "4 deletes beside 4 adds" pard n1=198.51.100.31 n2=198.51.100.32 n3=198.51.100.33 n4=198.51.100.34
if [ "$FW" = nftables ]; then
  same "4 deletes beside 4 adds: nothing left of the deleted bundles" "" \
    "$(nft_marks pard | grep -E '"bundle d[1-4]"|^198\.51\.100\.2[1-4] '; nsx pard $L bundle list | grep '^bundle d')"
else
same "4 deletes beside 4 adds: nothing left of the deleted bundles" "" \
  "$(mangle pard | grep -E 'bundle d[1-4]"|198\.51\.100\.2[1-4]/'; nsx pard $L bundle list | grep '^bundle d')"
fi
fi
rm -rf "$T"
summary

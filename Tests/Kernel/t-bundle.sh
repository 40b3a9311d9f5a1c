#!/usr/bin/env bash
# Bundles: mangle rules equal to the equivalent iptables-legacy commands (IPv4 and IPv6), ownership,
# both halves consistent, concurrency with another iptables writer, and bad input changing nothing.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL

# iptables-legacy-save without comments/counters.
mangle() { nsx "$1" iptables-legacy-save -t mangle | grep -v '^#'; }
mangle6() { nsx "$1" ip6tables-legacy-save -t mangle | grep -v '^#'; }
state() { nsx "$1" ipvsadm -Sn; mangle "$1"; mangle6 "$1"; }

# 1. lvsctl's rules == the rules iptables-legacy writes for the same thing.
new_ns b1; new_ns r1
nsx b1 $L bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 -s rr -p 60 >/dev/null
nsx b1 $L bundle add one --vip 192.0.2.11 --ports 53 --proto both --mark 53 >/dev/null
nsx b1 $L bundle add rng --vip 192.0.2.12 --vip 192.0.2.13 --ports 8000:8010,9000 --mark 9 >/dev/null
nsx r1 iptables-legacy -t mangle -N LVSCTL
nsx r1 iptables-legacy -t mangle -A PREROUTING -m comment --comment lvsctl -j LVSCTL
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.10/32 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsctl: bundle web" -j MARK --set-mark 80
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.11/32 -p tcp -m tcp --dport 53 -m comment --comment "lvsctl: bundle one" -j MARK --set-mark 53
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.11/32 -p udp -m udp --dport 53 -m comment --comment "lvsctl: bundle one" -j MARK --set-mark 53
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.12/32 -p tcp -m multiport --dports 8000:8010,9000 -m comment --comment "lvsctl: bundle rng" -j MARK --set-mark 9
nsx r1 iptables-legacy -t mangle -A LVSCTL -d 192.0.2.13/32 -p tcp -m multiport --dports 8000:8010,9000 -m comment --comment "lvsctl: bundle rng" -j MARK --set-mark 9
same "IPv4 mangle rules equal iptables-legacy's" "$(mangle r1)" "$(mangle b1)"
nsx r1 ipvsadm -A -f 80 -s rr -p 60; nsx r1 ipvsadm -A -f 53 -s wlc; nsx r1 ipvsadm -A -f 9 -s wlc
same "fwmark services equal ipvsadm's" "$(nsx r1 ipvsadm -Sn)" "$(nsx b1 ipvsadm -Sn)"

new_ns b6; new_ns r6
nsx b6 $L bundle add web6 --vip 2001:db8::10 --ports 80,443 --mark 80 -s rr -p 60 -M 64 >/dev/null
nsx r6 ip6tables-legacy -t mangle -N LVSCTL
nsx r6 ip6tables-legacy -t mangle -A PREROUTING -m comment --comment lvsctl -j LVSCTL
nsx r6 ip6tables-legacy -t mangle -A LVSCTL -d 2001:db8::10/128 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsctl: bundle web6" -j MARK --set-mark 80
same "IPv6 mangle rules equal ip6tables-legacy's" "$(mangle6 r6)" "$(mangle6 b6)"
nsx r6 ipvsadm -A -f 80 -6 -s rr -p 60 -M 64
same "IPv6 fwmark service equals ipvsadm's" "$(nsx r6 ipvsadm -Sn)" "$(nsx b6 ipvsadm -Sn)"

# KERNEL_SMOKE=1 (the smoke subset on Debian's x86 kernel under TCG): the reference comparison above only.
[ -n "${KERNEL_SMOKE:-}" ] && { summary; exit; }

# 2. Ownership: a hand-written rule survives add and delete; delete removes both halves.
new_ns own
nsx own iptables-legacy -t mangle -A PREROUTING -p udp --dport 5353 -j MARK --set-mark 5
before=$(mangle own)
nsx own $L bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 >/dev/null
nsx own $L rs add --bundle web -r 198.51.100.2
nsx own $L bundle delete web
same "delete leaves the hand-written rule and nothing else" "$before" "$(mangle own)"
same "delete removes the fwmark service" "" "$(nsx own ipvsadm -Sn)"

# 3. Auto-picked mark avoids marks in use by fwmark services.
new_ns mk
nsx mk ipvsadm -A -f 1 -s rr
m=$(nsx mk $L bundle add auto --vip 192.0.2.20 --ports 80)
same "auto mark skips a mark used by an existing fwmark service" "bundle auto: mark 2" "$m"

# 4. Bad input: exit 2, one stderr line, nothing changes.
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
same "bad input left IPVS and the mangle tables unchanged" "$snap" "$(state bi)"

# 5. IPVS half fails (unknown scheduler) -> the rules are removed again.
new_ns half
before=$(state half)
nsx half $L bundle add web --vip 192.0.2.10 --ports 80 -s nosuchsched >/dev/null 2>&1; rc=$?
same "kernel refusal of the service half exits 1" "1" "$rc"
same "kernel refusal leaves no half-made bundle" "$before" "$(state half)"

# 6. Concurrency: 50 add/delete cycles while iptables-legacy writes other rules in a loop.
new_ns cc
nsx cc $L bundle add keep --vip 192.0.2.50 --ports 80 --mark 500 >/dev/null
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
# 7. lvsctl beside lvsctl: bundle commands started at once. Each holds lvsctl's lock across the whole change, so
#    every command exits 0 and every bundle ends up whole. Read from the kernel with the reference tools: its MARK
#    rule (comment "lvsctl: bundle NAME") in iptables-legacy-save, its fwmark service in ipvsadm -Sn; plus its
#    `bundle list` entry; the marks distinct; nothing else in chain LVSCTL or IPVS (so nothing of deleted bundles).
T=$(mktemp -d)
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
  rules=$(mangle "$ns" | grep '^-A LVSCTL' | sort)
  svcs=$(nsx "$ns" ipvsadm -Sn | sort)
  list=$(nsx "$ns" $L bundle list)
  for nv in "$@"; do
    b=${nv%%=*}; vip=${nv#*=}
    # The bundle's mark, as the kernel's MARK rule has it (none: no rule).
    m=$(sed -n "s|.*--comment \"lvsctl: bundle $b\" -j MARK --set-xmark \(0x[0-9a-f]*\)/0xffffffff\$|\1|p" <<< "$rules" | head -1)
    m=$([ -n "$m" ] && printf '%d' "$m" || echo none)
    marks+=("$m")
    want_rules+="-A LVSCTL -d $vip/32 -p tcp -m multiport --dports 80,443 -m comment --comment \"lvsctl: bundle $b\" -j MARK --set-xmark $([ "$m" = none ] && echo none || printf '0x%x' "$m")/0xffffffff"$'\n'
    want_svcs+="-A -f $m -s rr"$'\n'
    want_list+="bundle $b: mark $m tcp $vip ports 80,443"$'\n'
  done
  same "$label: every bundle's MARK rule (iptables-legacy-save), nothing else" "$(sort <<< "${want_rules%$'\n'}")" "$rules"
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
  kernel+="bundle b$i: mark $(sed -n "s|.*\"lvsctl: bundle b$i\" -j MARK --set-xmark \(0x[0-9a-f]*\)/.*|\1|p" <<< "$(mangle par)" | xargs printf '%d')"$'\n'
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
same "4 deletes beside 4 adds: nothing left of the deleted bundles" "" \
  "$(mangle pard | grep -E 'bundle d[1-4]"|198\.51\.100\.2[1-4]/'; nsx pard $L bundle list | grep '^bundle d')"
rm -rf "$T"
summary

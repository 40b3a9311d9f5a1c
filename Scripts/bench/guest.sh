#!/usr/bin/env bash
# Scripts/bench/guest.sh IN_DIR -- the benchmark suite, run inside the IPVS VM by Scripts/bench/run.
#
# IN_DIR holds the inputs made on the host (svc-N.lvsctl, svc-N.ipvsadm, bundles.lvsctl) and the helpers
# compiled on the host (timeit, ipvs-floor). Every timed command runs under timeit *inside* a network
# namespace (`ip netns exec NS timeit ... -- CMD`), so `ip netns exec` itself is never timed. Every table is
# loaded into a FRESH namespace, which is deleted afterwards (namespaces are never reused after a clear);
# after each deletion the script waits until the guest's CPUs are idle again, so the kernel's asynchronous
# namespace cleanup does not overlap the next measurement. The order of the tools rotates with the repetition.
#
# Writes to $JOB: results.tsv (test tool N rep ms maxrss_kib rc), checks.tsv, mem-*.txt, meta.txt, packets.log,
# monitor.tsv and mon-*.log (the part monitor).
# Environment: LVSCTL (binary), BENCH_SIZES, BENCH_REPS, BENCH_SMALL_REPS, BENCH_BUNDLE_REPS, BENCH_RCLOCAL_REPS,
# BENCH_NFT_REPS (5: lvsctl and the restores on nftables), BENCH_PACKET_REPS (10), BENCH_PACKETS (10000 per burst),
# BENCH_ONLY (empty = every part; else a comma-separated list of parts: load, list, bundles, small, mem, nft (the
# nftables backend's bundle rows), monitor (keepalived against lvsctl monitor), packets (the per-packet test, for an
# instruction-counting VM: see that part)); the part monitor: BENCH_MONITOR ("1000:1 10000:5": servers:interval),
# BENCH_MONITOR_WINDOW (30 s), BENCH_MONITOR_POLL_MS (10).
set -uo pipefail
IN=${1:?usage: guest.sh IN_DIR}
OUT=${JOB:-/tmp/bench-out}
LVSCTL=${LVSCTL:-$PWD/.build/release/lvsctl}
SIZES=${BENCH_SIZES:-"1000 2000 5000 10000 20000"}
REPS=${BENCH_REPS:-3}
SMALL_REPS=${BENCH_SMALL_REPS:-10}
BUNDLE_REPS=${BENCH_BUNDLE_REPS:-3}
RCLOCAL_REPS=${BENCH_RCLOCAL_REPS:-1}   # the rc.local way takes minutes per run; its repetitions come first
MEM_N=${BENCH_MEM_N:-10000}
PACKET_REPS=${BENCH_PACKET_REPS:-10}
NFT_REPS=${BENCH_NFT_REPS:-5}
PACKETS=${BENCH_PACKETS:-10000}
ONLY=${BENCH_ONLY:-}
# part NAME: whether this run measures that part (every part when BENCH_ONLY is empty).
part() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

W=/tmp/bench                      # tmpfs: inputs are read from RAM, not over 9p
mkdir -p "$W" "$OUT"
cp "$IN"/* "$W"/
T=$W/timeit
FLOOR=$W/ipvs-floor
RES=$OUT/results.tsv
CHK=$OUT/checks.tsv
: > "$RES"; : > "$CHK"
SECONDS=0
log() { printf '[%4ds] %s\n' "$SECONDS" "$*"; }
fail() { echo "bench: $*" >&2; exit 1; }

# ---------- namespaces ----------
nsn=0
fresh() { nsn=$((nsn + 1)); NS=bench$nsn; ip netns add "$NS" || fail "ip netns add $NS"; ip -n "$NS" link set lo up; }
# Busy share of the CPUs over 0.2 s, in percent.
busy() {
    local a b
    read -r _ a1 a2 a3 a4 a5 a6 a7 a8 _ < /proc/stat
    sleep 0.2
    read -r _ b1 b2 b3 b4 b5 b6 b7 b8 _ < /proc/stat
    local tot=$(( (b1+b2+b3+b4+b5+b6+b7+b8) - (a1+a2+a3+a4+a5+a6+a7+a8) ))
    local idle=$(( (b4+b5) - (a4+a5) ))
    [ "$tot" -gt 0 ] || { echo 0; return; }
    echo $(( 100 * (tot - idle) / tot ))
}
settle() { local i; for i in $(seq 1 150); do [ "$(busy)" -lt 15 ] && return 0; done; log "warning: CPUs still busy after 30 s"; }
drop() { ip netns del "$NS"; settle; }
inns() { ip netns exec "$NS" "$@"; }
# timed LABEL... -- CMD: one row of results.tsv (LABEL is "test<TAB>tool<TAB>N<TAB>rep").
timed() { local label=$1; shift; inns "$T" "$RES" "$label" -- "$@"; }
# "S services, D destinations" of the namespace's table (the floor's dump, cheap).
counts() { inns "$FLOOR" --dump 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) services, \([0-9]*\) destinations.*/\1 \2/p'; }
check() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$CHK"; [ "$2" = "$3" ] || log "CHECK FAILED: $1: wanted '$2', got '$3'"; }
# The tools in an order rotated by the repetition number.
rotate() { local r=$1; shift; local a=("$@") n=$#; local i; for ((i = 0; i < n; i++)); do echo "${a[(i + r) % n]}"; done; }

{
    echo "guest_kernel	$(uname -r)"
    echo "guest_cpus	$(nproc)"
    echo "guest_cpu_model	$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "guest_mem_mib	$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)"
    echo "ipvsadm_version	$(ipvsadm -v 2>&1 | head -1)"
    echo "iptables_version	$(iptables-legacy -V 2>&1 | head -1)"
    echo "nftables_version	$(nft --version 2>&1 | head -1)"
    echo "packets	$PACKETS"
    echo "lvsctl_version	$("$LVSCTL" --version 2>&1)"
} > "$OUT/meta.txt"
log "guest: $(uname -r), $(nproc) CPUs; sizes: $SIZES; reps: $REPS; parts: ${ONLY:-all}"

# ---------- load N services x 4 real servers ----------
load_one() { # TOOL N REP
    local tool=$1 n=$2 rep=$3 rc=0
    fresh
    case $tool in
        lvsctl)      timed "load	lvsctl	$n	$rep" "$LVSCTL" restore "$W/svc-$n.lvsctl" || rc=$? ;;
        lvsctl-ipvsadmfile) timed "load	lvsctl-ipvsadmfile	$n	$rep" "$LVSCTL" restore "$W/svc-$n.ipvsadm" || rc=$? ;;
        ipvsadm)     timed "load	ipvsadm	$n	$rep" ipvsadm -R < "$W/svc-$n.ipvsadm" || rc=$? ;;
        floor)       timed "load	floor	$n	$rep" "$FLOOR" < "$W/svc-$n.ipvsadm" 2>> "$OUT/floor.log" || rc=$? ;;
    esac
    [ $rc = 0 ] || log "load $tool $n rep $rep: exit $rc"
    check "load $tool $n rep $rep counts" "$n $((4 * n))" "$(counts)"
    if [ "$rep" = 1 ]; then
        check "load $tool $n table (ipvsadm -Sn digest)" "$(sha256sum < "$W/svc-$n.ipvsadm.sorted" | cut -c1-16)" \
              "$(inns ipvsadm -Sn | sort | sha256sum | cut -c1-16)"
    fi
    drop
}

part load && for n in $SIZES; do sort "$W/svc-$n.ipvsadm" > "$W/svc-$n.ipvsadm.sorted"; done

if part load; then   # (the part blocks are not indented)
log "warm-up (page cache for binaries and libraries)"
first=${SIZES%% *}
for tool in lvsctl ipvsadm floor; do load_one "$tool" "$first" 0; done
"$LVSCTL" --version > /dev/null; ipvsadm -v > /dev/null 2>&1

for n in $SIZES; do
    for rep in $(seq 1 "$REPS"); do
        for tool in $(rotate "$rep" lvsctl ipvsadm floor); do load_one "$tool" "$n" "$rep"; done
    done
    log "load N=$n done"
done
# lvsctl reading the ipvsadm-save file instead of its own format (at 10k only)
if [[ " $SIZES " == *" 10000 "* ]]; then
    for rep in $(seq 1 "$REPS"); do load_one lvsctl-ipvsadmfile 10000 "$rep"; done
    log "load N=10000 from the ipvsadm-save file done"
fi
fi   # part load

# ---------- list and save the whole table ----------
part list && for n in $SIZES; do
    fresh
    inns ipvsadm -R < "$W/svc-$n.ipvsadm"
    check "list/save $n counts" "$n $((4 * n))" "$(counts)"
    inns "$LVSCTL" list -n > "$W/list-lvsctl"; inns ipvsadm -Ln > "$W/list-ipvsadm"
    check "list $n: lvsctl list -n output equals ipvsadm -Ln" same "$(cmp -s "$W/list-lvsctl" "$W/list-ipvsadm" && echo same || echo differs)"
    inns "$LVSCTL" save --format ipvsadm > "$W/save-lvsctl"; inns ipvsadm -Sn > "$W/save-ipvsadm"
    check "save $n: lvsctl save --format ipvsadm output equals ipvsadm -Sn" same "$(cmp -s "$W/save-lvsctl" "$W/save-ipvsadm" && echo same || echo differs)"
    inns "$LVSCTL" save > "$W/save-lvsctl-native"
    check "save $n: lvsctl save lines" "$((5 * n))" "$(grep -c '^[vr]s add' "$W/save-lvsctl-native")"
    for rep in $(seq 1 "$REPS"); do
        for tool in $(rotate "$rep" lvsctl ipvsadm floor); do
            case $tool in
                lvsctl)  timed "list	lvsctl	$n	$rep" "$LVSCTL" list -n > /dev/null ;;
                ipvsadm) timed "list	ipvsadm	$n	$rep" ipvsadm -Ln > /dev/null ;;
                floor)   timed "list	floor	$n	$rep" "$FLOOR" --dump 2> /dev/null ;;
            esac
        done
        for tool in $(rotate "$rep" lvsctl lvsctl-ipvsadmfmt ipvsadm); do
            case $tool in
                lvsctl)  timed "save	lvsctl	$n	$rep" "$LVSCTL" save > /dev/null ;;
                lvsctl-ipvsadmfmt) timed "save	lvsctl-ipvsadmfmt	$n	$rep" "$LVSCTL" save --format ipvsadm > /dev/null ;;
                ipvsadm) timed "save	ipvsadm	$n	$rep" ipvsadm -Sn > /dev/null ;;
            esac
        done
    done
    drop
    log "list/save N=$n done"
done

# ---------- 1,000 two-port bundles ----------
# The iptables/ipvsadm equivalents are taken from what lvsctl itself created in a scratch namespace, so all
# three ways build exactly the same mangle rules (lvsctl's chain, its PREROUTING jump, 1,000 MARK rules with
# the same comments) and the same 1,000 fwmark services.
if part bundles; then
fresh
inns "$LVSCTL" restore "$W/bundles.lvsctl" || fail "lvsctl restore bundles (scratch)"
inns iptables-legacy-save -t mangle | grep -v '^#' > "$W/mangle.rules"
inns ipvsadm -Sn > "$W/fwmark.ipvsadm"
drop
{
    echo "# the rc.local way: one process per rule and per service"
    awk '/^:/ { c = substr($1, 2); if (c !~ /^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)$/) print "iptables-legacy -t mangle -N " c }' "$W/mangle.rules"
    awk '/^-A / { print "iptables-legacy -t mangle " $0 }' "$W/mangle.rules"
    awk '/^-A / { print "ipvsadm " $0 }' "$W/fwmark.ipvsadm"
} > "$W/rclocal.sh"
cp "$W/mangle.rules" "$W/fwmark.ipvsadm" "$W/rclocal.sh" "$OUT/"
marks=$(grep -c -- '-j MARK' "$W/mangle.rules")
check "bundles: MARK rules made by lvsctl" 1000 "$marks"
check "bundles: fwmark services made by lvsctl" 1000 "$(grep -c '^-A -f' "$W/fwmark.ipvsadm")"
bundle_check() { # TOOL REP
    check "bundles $1 rep $2: MARK rules" "$marks" "$(inns iptables-legacy-save -t mangle | grep -c -- '-j MARK')"
    check "bundles $1 rep $2: fwmark services" 1000 "$(counts | cut -d' ' -f1)"
    if [ "$2" = 1 ]; then   # (no process substitution: the guest has no /dev/fd)
        inns iptables-legacy-save -t mangle | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' > "$W/cmp.a"
        sed 's/\[[0-9]*:[0-9]*\]//' "$W/mangle.rules" > "$W/cmp.b"
        check "bundles $1: same mangle table as lvsctl's" same "$(cmp -s "$W/cmp.a" "$W/cmp.b" && echo same || echo differs)"
        inns ipvsadm -Sn > "$W/cmp.a"
        check "bundles $1: same IPVS table as lvsctl's" same "$(cmp -s "$W/cmp.a" "$W/fwmark.ipvsadm" && echo same || echo differs)"
    fi
}
for rep in $(seq 1 "$BUNDLE_REPS"); do
    tools="lvsctl restores"; [ "$rep" -le "$RCLOCAL_REPS" ] && tools="$tools rclocal"
    for tool in $(rotate "$rep" $tools); do
        fresh
        case $tool in
            lvsctl)  timed "bundles	lvsctl	1000	$rep" "$LVSCTL" restore "$W/bundles.lvsctl" ;;
            restores)
                timed "bundles	iptables-restore	1000	$rep" iptables-legacy-restore "$W/mangle.rules"
                timed "bundles	ipvsadm-R	1000	$rep" ipvsadm -R < "$W/fwmark.ipvsadm" ;;
            rclocal) timed "bundles	rclocal	1000	$rep" bash "$W/rclocal.sh" ;;
        esac
        bundle_check "$tool" "$rep"
        drop
    done
    log "bundles rep $rep done"
done
fi   # part bundles

# ---------- nftables backend: 1,000 bundles ----------
# `lvsctl restore --firewall nftables` of the same bundle file. The equivalents are taken from what lvsctl built in
# a scratch namespace (`nft list table ip lvsctl`, `ipvsadm -Sn`): `nft -f` of that table then `ipvsadm -R`
# (timed separately, added), and the rc.local way: one `nft add` per table, map, chain and rule, one
# `nft add element` per bundle (its two ports) and one `ipvsadm -A -f M -s wlc` per service. `lvsctl restore
# --firewall iptables-legacy` runs beside them for context (the legacy rows proper are the part `bundles`).
if part nft; then
fresh
inns "$LVSCTL" restore --firewall nftables "$W/bundles.lvsctl" || fail "lvsctl restore --firewall nftables bundles (scratch)"
inns nft list table ip lvsctl > "$W/nft.rules"
inns ipvsadm -Sn > "$W/nft-fwmark.ipvsadm"
check "nft bundles: lvsctl's nftables tables" "ip lvsctl" "$(inns nft list tables | sed 's/^table //' | tr '\n' ' ' | sed 's/ $//')"
drop
# The skeleton as nft commands (what the table holds apart from the elements), then one command per bundle.
awk -v q="'" '
    /^table ip lvsctl/        { next }
    /^\tcomment /             { sub(/^\tcomment /, ""); print "nft add table ip lvsctl " q "{ comment " $0 "; }" q; next }
    /^\tmap marks/            { inmap = 1; next }
    inmap && /^\t\ttype /     { sub(/^\t\t/, ""); mtype = $0; next }
    inmap && /^\t\tflags /    { sub(/^\t\t/, ""); mflags = $0; next }
    inmap && /^\t}/           { inmap = 0; print "nft add map ip lvsctl marks " q "{ " mtype "; " mflags "; }" q; next }
    /^\tchain prerouting/     { inchain = 1; next }
    inchain && /^\t\ttype /   { sub(/^\t\t/, ""); print "nft add chain ip lvsctl prerouting " q "{ " $0 " }" q; next }
    inchain && /^\t\t[a-z]/   { sub(/^\t\t/, ""); print "nft add rule ip lvsctl prerouting " q $0 q; next }
' "$W/nft.rules" > "$W/nft-skeleton.sh"
# Elements: ADDR . tcp . PORT comment "bundle NAME" : 0xMARK, grouped by bundle in the listed order.
grep -oE '[0-9.]+ \. [a-z]+ \. [0-9-]+ comment "[^"]*" : 0x[0-9a-f]+' "$W/nft.rules" | awk -v q="'" '
    { c = $0; sub(/.*comment "/, "", c); sub(/".*/, "", c)
      if (c in seen) el[c] = el[c] ", " $0
      else { seen[c] = ++n; name[n] = c; el[c] = $0 } }
    END { for (i = 1; i <= n; i++) print "nft add element ip lvsctl marks " q "{ " el[name[i]] " }" q }
' > "$W/nft-elements.sh"
{
    echo "# the rc.local way on nftables: one process per table, map, chain, rule, bundle (its elements) and service"
    cat "$W/nft-skeleton.sh" "$W/nft-elements.sh"
    awk '/^-A / { print "ipvsadm " $0 }' "$W/nft-fwmark.ipvsadm"
} > "$W/nft-rclocal.sh"
cp "$W/nft.rules" "$W/nft-fwmark.ipvsadm" "$W/nft-rclocal.sh" "$OUT/"
nft_elements=$(grep -oE 'comment "bundle [^"]*" : 0x' "$W/nft.rules" | wc -l)
check "nft bundles: map elements made by lvsctl (2 ports x 1,000)" 2000 "$nft_elements"
check "nft bundles: nft add commands of the rc.local way (4 + 1,000)" 1004 "$(grep -c '^nft add' "$W/nft-rclocal.sh")"
check "nft bundles: fwmark services made by lvsctl" 1000 "$(grep -c '^-A -f' "$W/nft-fwmark.ipvsadm")"
nft_check() { # TOOL REP
    inns nft list table ip lvsctl > "$W/cmp.a" 2> /dev/null
    check "nft bundles $1 rep $2: map elements" "$nft_elements" "$(grep -oE 'comment "bundle [^"]*" : 0x' "$W/cmp.a" | wc -l)"
    check "nft bundles $1 rep $2: fwmark services" 1000 "$(counts | cut -d' ' -f1)"
    if [ "$2" = 1 ]; then
        check "nft bundles $1: same nftables table as lvsctl's" same "$(cmp -s "$W/cmp.a" "$W/nft.rules" && echo same || echo differs)"
        inns ipvsadm -Sn > "$W/cmp.a"
        check "nft bundles $1: same IPVS table as lvsctl's" same "$(cmp -s "$W/cmp.a" "$W/nft-fwmark.ipvsadm" && echo same || echo differs)"
    fi
}
# warm-up (not counted): the nft binary and libnftables into the page cache
fresh; inns nft -f "$W/nft.rules"; drop
fresh; inns "$LVSCTL" restore --firewall iptables-legacy "$W/bundles.lvsctl"; drop
for rep in $(seq 1 "$NFT_REPS"); do
    tools="lvsctl restores lvsctl-legacy"; [ "$rep" -le "$RCLOCAL_REPS" ] && tools="$tools rclocal"
    for tool in $(rotate "$rep" $tools); do
        fresh
        case $tool in
            lvsctl)  timed "nft-bundles	lvsctl	1000	$rep" "$LVSCTL" restore --firewall nftables "$W/bundles.lvsctl"
                     nft_check "$tool" "$rep" ;;
            restores)
                timed "nft-bundles	nft-f	1000	$rep" nft -f "$W/nft.rules"
                timed "nft-bundles	ipvsadm-R	1000	$rep" ipvsadm -R < "$W/nft-fwmark.ipvsadm"
                nft_check "$tool" "$rep" ;;
            rclocal) timed "nft-bundles	rclocal	1000	$rep" bash "$W/nft-rclocal.sh"
                     nft_check "$tool" "$rep" ;;
            lvsctl-legacy)
                timed "nft-bundles	lvsctl-legacy	1000	$rep" "$LVSCTL" restore --firewall iptables-legacy "$W/bundles.lvsctl"
                check "nft bundles lvsctl-legacy rep $rep: MARK rules" 1000 "$(inns iptables-legacy-save -t mangle | grep -c -- '-j MARK')" ;;
        esac
        drop
    done
    log "nft bundles rep $rep done"
done

fi   # part nft

# ---------- health checks: keepalived against lvsctl monitor ----------
# Counters of the namespace's TCP stack that tell why a connect could take more than a second: NAME=VALUE ...
tcpcounters() {
    # /proc/net/netstat and /proc/net/snmp: a line of names, then a line of values, per group (TcpExt:, Tcp:)
    inns awk '$1 == "TcpExt:" || $1 == "Tcp:" { if (!($1 in names)) { names[$1] = $0; next }
                 split(names[$1], n); for (i = 2; i <= NF; i++) { k = ($1 == "Tcp:" ? "Tcp" : "TcpExt") n[i]
                 if (k ~ /^(TcpExtListenOverflows|TcpExtListenDrops|TcpExtTCPTimeouts|TcpExtSyncookiesSent|TcpRetransSegs|TcpExtTCPReqQFullDrop|TcpExtTCPReqQFullDoCookies|TcpExtTCPSynRetrans|TcpActiveOpens|TcpAttemptFails)$/) printf "%s=%s ", k, $i } }' \
        /proc/net/netstat /proc/net/snmp
}
# For each "N:INTERVAL" of BENCH_MONITOR: N real servers, all TCP-checked every INTERVAL seconds, first by
# keepalived (Debian's package, checkers only: -C; TCP_CHECK, inhibit_on_failure), then by `lvsctl monitor` (the
# order alternates with the size), never both at once, each in a fresh namespace with the same table
# (mon-N.lvsctl, loaded with `lvsctl restore`, whose note says the check lines wait for the monitor). The real
# servers are addresses on a dummy interface (203.0.113.1-250) and one process, `acceptor` (Scripts/bench/acceptor.c:
# epoll, accept and close, on 40 ports of the wildcard address), which counts the connections: the checks that
# really ran. After the warm-up (the first round done, then two intervals), over a window of MON_WINDOW seconds:
# the CPU time (utime + stime, /proc/PID/stat) of the daemon's every process (keepalived: the parent and its
# checker child), the connections accepted, the guest's busy share; then VmHWM of each process. Then deaths, one
# after another, each at another phase of its own check cycle (k x 0.618 intervals, modulo one, after one of its
# checks as the acceptor logged it: the same phases for both daemons, so the phase lottery of a single death does
# not decide the comparison), `weightwatch`
# (Scripts/bench/weightwatch.c) inserts `iptables -I INPUT -p tcp -d ADDR --dport PORT -j REJECT --reject-with
# tcp-reset` for a victim and polls that service's destinations over netlink every MON_POLL_MS ms until the
# victim's weight is 0. The acceptor logs the victims' connections, so the time of each victim's last check before
# its death is known too. Finally the rules go and every victim must get its weight back. Last, for the CPU split,
# `lvsctl monitor` of the same file without its check lines (lvsctl-idle): the window only, what the daemon costs
# besides checking (reading the monitored services back from the kernel every second, the state file).
# Each daemon is measured in BENCH_MONITOR_ROUNDS rounds (2) per size, alternating ABBA with the other, each a fresh
# start with its warm-up and window; the deaths are in the first round.
# Rows in $OUT/monitor.tsv (KIND TOOL N INTERVAL key=value...); logs in $OUT/mon-*.log (round 2: mon-TOOL-N-r2.log).
if part monitor; then
MON_SPECS=${BENCH_MONITOR:-"1000:1 10000:5"}
MON_WINDOW=${BENCH_MONITOR_WINDOW:-30}
MON_ROUNDS=${BENCH_MONITOR_ROUNDS:-2}
MON_POLL_MS=${BENCH_MONITOR_POLL_MS:-10}
MON=$OUT/monitor.tsv
: > "$MON"
HZ=$(getconf CLK_TCK)
echo "keepalived_version	$(keepalived --version 2>&1 | head -1)" >> "$OUT/meta.txt"
echo "monitor_window	$MON_WINDOW" >> "$OUT/meta.txt"
echo "monitor_rounds	$MON_ROUNDS" >> "$OUT/meta.txt"
echo "monitor_poll_ms	$MON_POLL_MS" >> "$OUT/meta.txt"
echo "clocksource	$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)" >> "$OUT/meta.txt"
echo "kernel_cmdline	$(cat /proc/cmdline)" >> "$OUT/meta.txt"
# descendants PID...: the PIDs and all their descendants.
descendants() { local p; for p; do echo "$p"; descendants $(cat /proc/"$p"/task/*/children 2>/dev/null); done; }
# cputicks PID...: "USER SYS" clock ticks summed over the processes (all their threads). No process is started:
# the readings around the window are taken with shell builtins only.
cputicks() {
    local p s f u=0 k=0
    for p; do
        read -r s < /proc/"$p"/stat || continue
        read -ra f <<< "${s##*) }"
        u=$((u + f[11])); k=$((k + f[12]))
    done
    echo "$u $k"
}
# tasks PID...: "PID/TID:USER:SYS" of every thread of the processes, comma-separated (the CPU split by thread).
tasks() {
    local p t s f out=""
    for p; do
        for t in /proc/"$p"/task/*; do
            read -r s < "$t/stat" || continue
            read -ra f <<< "${s##*) }"
            out="$out${out:+,}$p/${t##*/}:${f[11]}:${f[12]}"
        done
    done
    echo "$out"
}
# stat_total: "BUSY TOTAL" jiffies of the whole guest (/proc/stat).
stat_total() { local c a; read -r c a < /proc/stat; set -- $a; echo "$(( $1 + $2 + $3 + $6 + $7 + $8 )) $(( $1 + $2 + $3 + $4 + $5 + $6 + $7 + $8 ))"; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/"$1"/status 2>/dev/null; }
accepted() { local x; read -r x < "$W/mon-count"; echo "${x:-0}"; }
# wait_until SECONDS CMD...: polls every 0.5 s; 1 on timeout.
wait_until() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.5; done; }
accepted_at_least() { [ "$(accepted)" -ge "$1" ]; }
mon_run() { # TOOL N INTERVAL ROUND (deaths in round 1 only)
    local tool=$1 n=$2 iv=$3 round=$4 dpid ppids log=$W/mon-$1-$2-r$4.log ports addrs a i
    fresh
    inns ip link add dummy0 type dummy; inns ip link set dummy0 up
    addrs=$(( (n + 39) / 40 )); ports=$(( n < 40 ? n : 40 ))
    for i in $(seq 1 "$addrs"); do echo "address add 203.0.113.$i/32 dev dummy0"; done > "$W/mon-addrs"
    inns ip -batch "$W/mon-addrs" || fail "monitor: addresses"
    rm -f "$W/mon-watch" "$W/mon-count"
    ip netns exec "$NS" "$W/acceptor" 10000 "$ports" "$W/mon-count" -w "$W/mon-watch" $(cut -d' ' -f1 "$W/mon-$n.victims") \
        > "$W/mon-acceptor.out" 2>&1 &
    local apid=$!
    wait_until 30 grep -q ready "$W/mon-acceptor.out" || fail "monitor: the acceptor did not start: $(cat "$W/mon-acceptor.out")"
    inns "$LVSCTL" restore "$W/mon-$n.lvsctl" > "$W/mon-restore.out" 2>&1 || fail "monitor: lvsctl restore mon-$n.lvsctl: $(cat "$W/mon-restore.out")"
    local per=$(( n <= 1000 ? 10 : 40 ))
    check "monitor $tool $n: table before the daemon" "$(( (n + per - 1) / per )) $n" "$(counts)"
    local c_start; c_start=$(accepted)
    case $tool in
        keepalived)
            rm -f "$W/ka.pid" "$W/ka-check.pid"
            ip netns exec "$NS" keepalived -n -l -D -G -C -I -f "$W/mon-$n.keepalived.conf" -p "$W/ka.pid" -c "$W/ka-check.pid" \
                > "$log" 2>&1 &
            dpid=$! ;;
        lvsctl)
            LVSCTL_MONITOR_PROFILE=1 LVSCTL_MONITOR_STATE=$W/mon-state.json ip netns exec "$NS" "$LVSCTL" monitor "$W/mon-$n.lvsctl" > "$log" 2>&1 &
            dpid=$! ;;
        lvsctl-idle)   # the same file without its check lines: what the monitor costs besides checking
            grep -v '^check ' "$W/mon-$n.lvsctl" > "$W/mon-$n.idle.lvsctl"
            LVSCTL_MONITOR_STATE=$W/mon-state.json ip netns exec "$NS" "$LVSCTL" monitor "$W/mon-$n.idle.lvsctl" > "$log" 2>&1 &
            dpid=$! ;;
    esac
    local t_start=$SECONDS
    # warm-up: lvsctl's first round done (its log says so), keepalived's every server checked once; then two
    # more intervals
    if [ "$tool" != keepalived ]; then
        wait_until $((30 + 2 * iv)) grep -q "first round done" "$log" || log "monitor $tool $n: no 'first round done' in its log after $((SECONDS - t_start)) s"
    else
        wait_until $((30 + 2 * iv)) accepted_at_least $((c_start + n)) || log "monitor $tool $n: warm-up: only $(( $(accepted) - c_start )) checks after $((SECONDS - t_start)) s"
    fi
    local warm=$((SECONDS - t_start))
    sleep $((2 * iv))
    ppids=$(descendants "$dpid" | tr '\n' ' ')
    check "monitor $tool $n: processes (keepalived: parent + checker child)" "$([ "$tool" = keepalived ] && echo 2 || echo 1)" "$(wc -w <<< "$ppids")"
    local downs0 zero
    downs0=$(grep -cE ' down: |Disabling service' "$log")
    # the window
    local c0 c1 k0 k1 a0 a1 s0 s1 t0 t1
    local th0 th1
    local tcp0 tcp1
    t0=$EPOCHREALTIME; c0=$(accepted); k0=$(cputicks $ppids); a0=$(cputicks "$apid"); s0=$(stat_total); th0=$(tasks $ppids)
    tcp0=$(tcpcounters)
    sleep "$MON_WINDOW"
    t1=$EPOCHREALTIME; c1=$(accepted); k1=$(cputicks $ppids); a1=$(cputicks "$apid"); s1=$(stat_total); th1=$(tasks $ppids)
    tcp1=$(tcpcounters)
    # TCP's own account of the window (a SYN dropped by a full queue or retransmitted shows as a check timeout)
    log "monitor $tool $n: TCP counters in the window: $(awk -v a="$tcp0" -v b="$tcp1" 'BEGIN {
        n = split(a, x, " "); for (i = 1; i <= n; i++) { split(x[i], kv, "="); v[kv[1]] = kv[2] }
        m = split(b, y, " "); for (i = 1; i <= m; i++) { split(y[i], kv, "="); printf "%s=%d ", kv[1], kv[2] - v[kv[1]] } }')"
    local downs=$(( $(grep -cE ' down: |Disabling service' "$log") - downs0 ))
    zero=$(inns ipvsadm -Sn | grep -c -- ' -w 0$')
    local h="" p fds=""
    for p in $ppids; do h="$h${h:+,}$p:$(hwm "$p")"; fds="$fds${fds:+,}$p:$(ls /proc/"$p"/fd 2>/dev/null | wc -l)"; done
    read -r ku ks <<< "$k0"; read -r ku1 ks1 <<< "$k1"; read -r au as <<< "$a0"; read -r au1 as1 <<< "$a1"
    read -r sb st <<< "$s0"; read -r sb1 st1 <<< "$s1"
    printf 'window\t%s\t%s\t%s\tseconds=%s\tuser=%s\tsys=%s\taccepts=%s\tacceptor=%s\tbusy=%s\thwm=%s\tdowns=%s\tzero=%s\twarmup=%s\ttasks0=%s\ttasks1=%s\thz=%s\tfds=%s\n' \
        "$tool" "$n" "$iv" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
        "$(awk -v x=$((ku1 - ku)) -v h="$HZ" 'BEGIN { printf "%.2f", x / h }')" \
        "$(awk -v x=$((ks1 - ks)) -v h="$HZ" 'BEGIN { printf "%.2f", x / h }')" \
        $((c1 - c0)) "$(awk -v x=$((au1 - au + as1 - as)) -v h="$HZ" 'BEGIN { printf "%.2f", x / h }')" \
        "$(awk -v b=$((sb1 - sb)) -v t=$((st1 - st)) 'BEGIN { printf "%.1f", t ? 100 * b / t : 0 }')" \
        "$h" "$downs" "$zero" "$warm" "$th0" "$th1" "$HZ" "$fds" >> "$MON"
    log "monitor $tool $n @ ${iv}s: $(tail -1 "$MON" | cut -f5-)"
    grep 'monitor: profile:' "$log" | tail -3 | while read -r l; do log "monitor $tool $n: $l"; done
    check "monitor $tool $n: no server quiesced at the end of the window" 0 "$zero"
    # BENCH_MONITOR_PERF=SECONDS (diagnostic runs only, off by default): after the window, a perf profile of the
    # daemon's processes (software cpu-clock sampling, with call graphs) into $OUT/perf-TOOL-N-rROUND.txt.
    if [ -n "${BENCH_MONITOR_PERF:-}" ] && [ "$tool" != lvsctl-idle ] && command -v perf > /dev/null; then
        perf record -q -e cpu-clock -F 997 -g -o "$W/perf.data" -p "$(tr ' ' ',' <<< "${ppids% }")" -- sleep "$BENCH_MONITOR_PERF" > /dev/null 2>&1
        { perf report -i "$W/perf.data" --stdio --no-children --sort dso -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -10
          perf report -i "$W/perf.data" --stdio --no-children --sort tid -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -10
          echo "## user-space symbols (self)"
          perf report -i "$W/perf.data" --stdio --no-children --dsos "${tool%%-*},libc.so.6" --sort dso,sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -80
          echo "## inclusive (children), user-space entry points"
          perf report -i "$W/perf.data" --stdio --children --sort sym -g none --percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$' | grep -v '\[k\]' | head -80
          echo "## kernel symbols (self)"
          perf report -i "$W/perf.data" --stdio --no-children --sort sym -g none --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
        } > "$OUT/perf-$tool-$n-r$round.txt"
        rm -f "$W/perf.data"
    fi
    [ "$tool" = lvsctl-idle ] && check "monitor $tool $n: no check ran" 0 $((c1 - c0))
    if [ "$tool" != lvsctl-idle ] && [ "$round" = 1 ]; then
    # deaths
    # How long a death may take: two of the daemon's real periods (N / checks per second in the window, at least
    # the interval) and 5 s.
    local dwait
    dwait=$(awk -v n="$n" -v c=$((c1 - c0)) -v t="$t0" -v u="$t1" -v iv="$iv" \
        'BEGIN { p = c > 0 ? n / (c / (u - t)) : 3 * iv; if (p < iv) p = iv; if (p > 3 * iv) p = 3 * iv; printf "%d", 2 * p + 5.5 }')
    local k=0 rs vip out pause last period missed=0
    : > "$W/mon-killed"
    while read -r rs vip <&3; do
        k=$((k + 1))
        if [ "$missed" -ge 3 ]; then log "monitor $tool $n: 3 deaths in a row not measured: the others skipped"; k=$((k - 1)); break; fi
        # the phase of its check cycle the server dies at: k x 0.618 intervals after one of its checks, modulo one
        # interval (the same phases for both daemons)
        pause=$(awk -v k=$k -v iv="$iv" 'BEGIN { printf "%.3f", ((k * 0.618034) - int(k * 0.618034)) * iv }')
        out=
        if inns "$W/weightwatch" "$vip" "$rs" nonzero $((iv + 2)) "$MON_POLL_MS" > /dev/null; then
            echo "$rs $vip" >> "$W/mon-killed"
            out=$(inns "$W/weightwatch" "$vip" "$rs" zero "$dwait" "$MON_POLL_MS" -a "$W/mon-watch" "$pause" -- \
                  iptables-legacy -I INPUT -p tcp -d "${rs%:*}" --dport "${rs##*:}" -j REJECT --reject-with tcp-reset)
        else
            log "monitor $tool $n: death $k: $rs was already quiesced before its death: not killed"
        fi
        read -r d0 d1 polls <<< "$out"
        # the victim's last check before its death, and its recent period (the mean of its last 5 intervals)
        read -r last period <<< "$(awk -v s="$rs" -v t="${d0:-0}" '$2 == s && $1 < t { a[n++] = $1 }
            END { if (!n) { print "- -"; exit } k = n > 6 ? n - 6 : 0
                  if (n - 1 > k) printf "%s %.3f\n", a[n-1], (a[n-1] - a[k]) / (n - 1 - k); else print a[n-1], "-" }' "$W/mon-watch")"
        printf 'death\t%s\t%s\t%s\tk=%s\tserver=%s\tt0=%s\tt1=%s\tlast=%s\tperiod=%s\tpolls=%s\tpause=%s\n' \
            "$tool" "$n" "$iv" "$k" "$rs" "${d0:--}" "${d1:--}" "$last" "$period" "${polls:-0}" "$pause" >> "$MON"
        if [ -n "${d1:-}" ] && [ "$d1" != - ]; then missed=0; else missed=$((missed + 1)); fi
        check "monitor $tool $n: death $k ($rs) quiesced" yes "$([ -n "${d1:-}" ] && [ "$d1" != - ] && echo yes || echo no)"
        d0=; d1=; polls=; last=; period=
    done 3< "$W/mon-$n.victims"
    log "monitor $tool $n: $k deaths (death to quiescing, s): $(awk -F'\t' -v t="$tool" -v n="$n" '$1 == "death" && $2 == t && $3 == n { split($7, a, "="); split($8, b, "="); if (b[2] == "-" || a[2] == "-") printf "- "; else printf "%.2f ", b[2] - a[2] }' "$MON")"
    inns iptables-legacy -F INPUT
    local back=0
    while read -r rs vip <&3; do
        inns "$W/weightwatch" "$vip" "$rs" nonzero "$dwait" "$MON_POLL_MS" > /dev/null && back=$((back + 1))
    done 3< "$W/mon-killed"
    check "monitor $tool $n: every killed server back at its weight after its rule went" "$(wc -l < "$W/mon-killed")" "$back"
    fi   # deaths
    kill -TERM "$dpid" 2>/dev/null
    local gone=yes
    wait_until 20 eval '! kill -0 '"$dpid"' 2>/dev/null' || { gone=no; log "monitor $tool $n: still running 20 s after SIGTERM: SIGKILL"; kill -KILL "$dpid"; }
    check "monitor $tool $n: exited within 20 s of SIGTERM" yes "$gone"
    wait "$dpid" 2>/dev/null
    kill -TERM "$apid"; wait "$apid" 2>/dev/null
    tail -c 300000 "$log" > "$OUT/mon-$tool-$n$([ "$round" = 1 ] || echo "-r$round").log"
    drop
}
si=0
for spec in $MON_SPECS; do
    n=${spec%%:*}; iv=${spec#*:}
    # Rounds alternate the daemons, ABBA (keepalived lvsctl lvsctl keepalived, or the reverse for the next size): a
    # drift of the host's load over the run weighs on both. Each round is a fresh start and a window; deaths in the
    # first round only.
    order=$(rotate "$si" keepalived lvsctl | tr '\n' ' ')
    for r in $(seq 1 "$MON_ROUNDS"); do
        for tool in $order; do mon_run "$tool" "$n" "$iv" "$r"; done
        order=$(echo $order | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
    done
    mon_run lvsctl-idle "$n" "$iv" 1
    si=$((si + 1))
    log "monitor N=$n every ${iv}s done"
done
fi   # part monitor

# ---------- per packet: the cost of marking, 1 vs 1,000 bundles, both backends ----------
# Meant for a VM whose clock counts instructions (Scripts/bench/run boots a second VM for it: qemu -icount
# shift=0,sleep=off, one vCPU), so that a burst's time is the guest's work and not the host's load: 1 ns = 1
# instruction. Directors: no firewall, iptables-legacy with 1 / 1,000 bundles (1 / 1,000 MARK rules in one chain),
# nftables with 1 / 1,000 bundles (2 / 2,000 elements of one map with intervals, one lookup), and for reference
# nft-hash: lvsctl's nftables table reloaded with `nft -f` without `flags interval` (the same elements in a hash
# map; not what lvsctl builds). Each director namespace has a client namespace on a veth pair; the client sends
# bursts of PACKETS TCP SYNs (pktburst, a raw socket) to the LAST bundle's VIP:port (192.0.2.80:10002, mark 1000;
# the 1-bundle file is that bundle alone, so the packet, the VIP:port and the mark are the same everywhere). The
# director blackholes 192.0.2.0/24: a packet costs ip_rcv, the PREROUTING hooks (the marking) and a route lookup,
# and nothing comes back. All directors exist at once; the bursts alternate in rotating order.
if part packets; then
last_vip=$(tail -1 "$W/bundles.lvsctl" | sed -n 's/.*--vip \([0-9.]*\) .*/\1/p')
last_port=$(tail -1 "$W/bundles.lvsctl" | sed -n 's/.*--ports \([0-9]*\),.*/\1/p')
last_mark=$(tail -1 "$W/bundles.lvsctl" | sed -n 's/.*--mark \([0-9]*\) .*/\1/p')
check "packets: the 1-bundle file is the last bundle" "$(tail -1 "$W/bundles.lvsctl")" "$(grep '^bundle' "$W/bundle-last.lvsctl")"
# First, in this VM, the CPU time (= instructions) of the 1,000-bundle load on nftables: lvsctl against nft -f +
# ipvsadm -R of what it built (timeit with TIMEIT_CPU=1: the command's user + system time), as a check on the
# wall-clock rows of the part nft, which the host's load can move.
fresh
inns "$LVSCTL" restore --firewall nftables "$W/bundles.lvsctl" || fail "lvsctl restore --firewall nftables bundles (scratch)"
inns nft list table ip lvsctl > "$W/nft.rules"; inns ipvsadm -Sn > "$W/nft-fwmark.ipvsadm"
drop
for rep in $(seq 0 3); do   # 0: warm-up
    for tool in $(rotate "$rep" lvsctl restores); do
        fresh
        case $tool in
            lvsctl)   TIMEIT_CPU=1 timed "nft-bundles-cpu	lvsctl	1000	$rep" "$LVSCTL" restore --firewall nftables "$W/bundles.lvsctl" ;;
            restores) TIMEIT_CPU=1 timed "nft-bundles-cpu	nft-f	1000	$rep" nft -f "$W/nft.rules"
                      TIMEIT_CPU=1 timed "nft-bundles-cpu	ipvsadm-R	1000	$rep" ipvsadm -R < "$W/nft-fwmark.ipvsadm" ;;
        esac
        check "nft bundles cpu $tool rep $rep: fwmark services" 1000 "$(counts | cut -d' ' -f1)"
        drop
    done
done
log "nft bundles, CPU time, done"
configs="none:0 legacy:1 legacy:1000 nftables:1 nftables:1000 nft-hash:1 nft-hash:1000"
ci=0
for c in $configs; do
    ci=$((ci + 1)); be=${c%%:*}; nb=${c##*:}
    ip netns add "pd$ci" && ip netns add "pc$ci" || fail "ip netns add pd$ci/pc$ci"
    ip link add vc netns "pc$ci" type veth peer name vd netns "pd$ci"
    ip -n "pc$ci" addr add 203.0.113.253/30 dev vc; ip -n "pd$ci" addr add 203.0.113.254/30 dev vd
    for x in "pc$ci" "pd$ci"; do ip -n "$x" link set lo up; done
    ip -n "pc$ci" link set vc up; ip -n "pd$ci" link set vd up
    ip -n "pc$ci" route add "${last_vip%.*}.0/24" via 203.0.113.254
    ip -n "pd$ci" route add blackhole "${last_vip%.*}.0/24"
    # a permanent neighbour: no ARP and no neighbour timer ever runs during a burst
    ip -n "pc$ci" neigh replace 203.0.113.254 lladdr "$(ip -n "pd$ci" -br link show vd | awk '{print $3}')" dev vc nud permanent
    file=$W/bundles.lvsctl; [ "$nb" = 1 ] && file=$W/bundle-last.lvsctl
    case $be in
        legacy)   ip netns exec "pd$ci" "$LVSCTL" restore --firewall iptables-legacy "$file" || fail "restore $c" ;;
        nftables|nft-hash)
                  ip netns exec "pd$ci" "$LVSCTL" restore --firewall nftables "$file" || fail "restore $c" ;;
    esac
    if [ "$be" = nft-hash ]; then
        { echo "delete table ip lvsctl"; ip netns exec "pd$ci" nft list table ip lvsctl | grep -v 'flags interval'; } > "$W/hash.rules"
        ip netns exec "pd$ci" nft -f "$W/hash.rules" || fail "nft -f of the hash variant ($c)"
    fi
    ip netns exec "pc$ci" "$W/pktburst" 203.0.113.253 "$last_vip" "$last_port" 1000 > /dev/null 2>&1   # warm caches
done
settle
ci=0; declare -A cfg_index full
for c in $configs; do ci=$((ci + 1)); cfg_index[$c]=$ci; done
# A burst's cost: the CPU time of pktburst's send loop (which includes the receive path run in its softirq) plus
# what ksoftirqd/0 ran meanwhile (receive work deferred to it), in ns; CPU time leaves out the moments the vCPU
# idles (a waiting vCPU makes -icount sleep=off jump its clock ahead). packets.log has the wall time and the parts.
ksoftirqd=$(pgrep -x ksoftirqd/0 | head -1)
ksoft() { cut -d' ' -f1 "/proc/$ksoftirqd/schedstat" 2>/dev/null || echo 0; }
rx() { ip -n "pd$ci" -s link show vd | awk 'f { print $2; exit } /RX:/ { f = 1 }'; }
for rep in $(seq 1 "$PACKET_REPS"); do
    for c in $(rotate "$rep" $configs); do
        ci=${cfg_index[$c]}
        r0=$(rx); k0=$(ksoft)
        out=$(ip netns exec "pc$ci" "$W/pktburst" 203.0.113.253 "$last_vip" "$last_port" "$PACKETS" 2>> "$OUT/packets.log")
        prc=$?
        k1=$(ksoft); r1=$(rx)
        read -r cpu wall <<< "$out"
        printf 'packets\t%s\t%s\t%s\t%s\t0\t%s\n' "${c%%:*}" "${c##*:}" "$rep" \
            "$(awk -v a="${cpu:-0}" -v k="$((k1 - k0))" 'BEGIN { printf "%.3f", (a + k) / 1e6 }')" "$prc" >> "$RES"
        echo "$c rep $rep: cpu ${cpu:-?} ns, ksoftirqd $((k1 - k0)) ns, wall ${wall:-?} ns, received $((r1 - r0))" >> "$OUT/packets.log"
        [ $((r1 - r0)) -ge "$PACKETS" ] && full[$c]=$(( ${full[$c]:-0} + 1 ))
    done
done
for c in $configs; do check "packets $c: bursts the director received whole" "$PACKET_REPS" "${full[$c]:-0}"; done
# Afterwards (untimed): every director holds what it should and marks the packets. A probe table counts, after
# the marking hooks, the packets of a 100-packet burst that carry the last bundle's mark.
printf 'table ip probe {\n\tchain c {\n\t\ttype filter hook prerouting priority mangle + 10;\n\t\tmeta mark %s counter\n\t}\n}\n' \
    "$last_mark" > "$W/probe.nft"
for c in $configs; do
    ci=${cfg_index[$c]}; be=${c%%:*}; nb=${c##*:}
    ip netns exec "pd$ci" nft -f "$W/probe.nft" || log "probe table in pd$ci failed"
    ip netns exec "pc$ci" "$W/pktburst" 203.0.113.253 "$last_vip" "$last_port" 100 > /dev/null 2>&1
    got=$(ip netns exec "pd$ci" nft list chain ip probe c | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
    want=100; [ "$be" = none ] && want=0
    check "packets $c: packets carrying mark $last_mark after the hooks" "$want" "$got"
    case $be in
        legacy) check "packets $c: MARK rules" "$nb" "$(ip netns exec "pd$ci" iptables-legacy-save -t mangle | grep -c -- '-j MARK')" ;;
        nftables|nft-hash)
            ip netns exec "pd$ci" nft list map ip lvsctl marks > "$W/map.txt"
            check "packets $c: map elements" "$((2 * nb))" "$(grep -o 'comment "bundle' "$W/map.txt" | wc -l)"
            check "packets $c: map flags" "$([ "$be" = nftables ] && echo interval || echo none)" \
                  "$(grep -q 'flags interval' "$W/map.txt" && echo interval || echo none)" ;;
    esac
    ip netns del "pc$ci"; ip netns del "pd$ci"
done
settle
log "packets done ($PACKET_REPS bursts of $PACKETS per configuration)"
fi   # part packets

# ---------- one vs add; process start ----------
part small && for rep in $(seq 1 "$SMALL_REPS"); do
    fresh
    for tool in $(rotate "$rep" lvsctl ipvsadm); do
        case $tool in
            lvsctl)  timed "vsadd	lvsctl	1	$rep" "$LVSCTL" vs add -t 192.0.2.1:80 -s wlc ;;
            ipvsadm) timed "vsadd	ipvsadm	1	$rep" ipvsadm -A -t 192.0.2.2:80 -s wlc ;;
        esac
    done
    check "vs add rep $rep: 2 services" "2 0" "$(counts)"
    for tool in $(rotate "$rep" lvsctl ipvsadm); do
        case $tool in
            lvsctl)  timed "start-vm	lvsctl	0	$rep" "$LVSCTL" --version > /dev/null ;;
            ipvsadm) timed "start-vm	ipvsadm	0	$rep" ipvsadm -v > /dev/null ;;
        esac
    done
    drop
done
part small && log "vs add and process start done"

# ---------- peak memory, /usr/bin/time -v ----------
if part mem && [[ " $SIZES " == *" $MEM_N "* ]]; then
    for rep in $(seq 1 "$REPS"); do
        for tool in $(rotate "$rep" lvsctl ipvsadm); do
            fresh
            case $tool in
                lvsctl)  inns /usr/bin/time -v -o "$OUT/mem-lvsctl-$rep.txt" "$LVSCTL" restore "$W/svc-$MEM_N.lvsctl" ;;
                ipvsadm) inns /usr/bin/time -v -o "$OUT/mem-ipvsadm-$rep.txt" ipvsadm -R < "$W/svc-$MEM_N.ipvsadm" ;;
            esac
            kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/mem-$tool-$rep.txt")
            printf 'mem\t%s\t%s\t%s\t0\t%s\t0\n' "$tool" "$MEM_N" "$rep" "${kb:-0}" >> "$RES"
            check "mem $tool rep $rep counts" "$MEM_N $((4 * MEM_N))" "$(counts)"
            drop
        done
    done
    log "peak memory done"
fi
bad=$(awk -F'\t' '$7 != 0' "$RES" | wc -l)
failed=$(awk -F'\t' '$2 != $3' "$CHK" | wc -l)
log "finished: $(wc -l < "$RES") measurements, $bad with a non-zero exit, $failed failed checks"
[ "$bad" = 0 ] && [ "$failed" = 0 ]

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
# Writes to $JOB: results.tsv (test tool N rep ms maxrss_kib rc), checks.tsv, mem-*.txt, meta.txt.
# Environment: LVSCTL (binary), BENCH_SIZES, BENCH_REPS, BENCH_SMALL_REPS, BENCH_BUNDLE_REPS, BENCH_RCLOCAL_REPS.
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
    echo "lvsctl_version	$("$LVSCTL" --version 2>&1)"
} > "$OUT/meta.txt"
log "guest: $(uname -r), $(nproc) CPUs; sizes: $SIZES; reps: $REPS"

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

for n in $SIZES; do sort "$W/svc-$n.ipvsadm" > "$W/svc-$n.ipvsadm.sorted"; done

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

# ---------- list and save the whole table ----------
for n in $SIZES; do
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

# ---------- one vs add; process start ----------
for rep in $(seq 1 "$SMALL_REPS"); do
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
log "vs add and process start done"

# ---------- peak memory, /usr/bin/time -v ----------
if [[ " $SIZES " == *" $MEM_N "* ]]; then
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

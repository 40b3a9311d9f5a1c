#!/usr/bin/env bash
# Tests/Kernel/run-parallel.sh [VM_TIMEOUT_SECS]
#
# Every Tests/Kernel/t-*.sh, in user-mode Linux (Scripts/vm/run --uml: Debian's user-mode-linux kernel, the same
# IPVS and netfilter code as the x86 kernel, much cheaper process starts); and on Debian's own x86 kernel under qemu
# TCG, so the distribution's kernel is proved on every run, the smoke subset (KERNEL_SMOKE=1: the seed scenario with
# live traffic, one conformance block, the bundle reference comparison) and t-dr.sh's arptables method (below); and
# on the same kernel booted without legacy x_tables (Scripts/vm/run --tcg-nolegacy: no ip_tables, ip6_tables or
# arp_tables, for the nftables firewall backend), the files in NOLEGACY_FILES (default t-nft.sh; a listed file that
# does not exist yet is skipped with a note, and with none left that VM is not booted).
#
# Scheduling: KERNEL_LANES lanes (default: the number of CPUs) run at once. The work items are the t-*.sh files, the
# TCG run ("tcg") and the TCG run without legacy x_tables ("tcg-nolegacy"), each with its measured seconds from
# Tests/Kernel/durations (unknown files count 120 s). Longest first, each item goes to the lane with the least work
# so far (LPT). A lane boots the TCG VM if it got the TCG run, then the nolegacy TCG VM if it got that run, then one
# UML instance that runs its files in order; t-zz-nomodule.sh, which unloads IPVS, runs last in its lane. Lines are
# prefixed [T] for the TCG VM, [F] for the TCG VM on the nftables backend, [N] for the nolegacy TCG VM and [U1], [U2], ... for the UML lanes.
#
# Ends with the failed checks repeated, the files that stopped without their summary, and one closing line
# "kernel tests: N passed, N failed" summed over every VM. A VM that stops without its summary counts as a failure.
#
# Environment: LVSCTL (default: the static release binary .build/release/lvsctl, built by `make release`),
# KERNEL_LANES, KERNEL_FILES="t-a.sh t-b.sh" (only these in UML), KERNEL_TIMES=FILE (append "SECONDS<TAB>FILE (VM)" per file, for make test's table), KERNEL_NO_TCG=1
# (UML only, for make check: neither TCG VM), NOLEGACY_FILES="t-a.sh ..." (the files for the nolegacy TCG VM; empty:
# none).
set -u
cd "$(dirname "$0")/../.."
REPO=$PWD
TIMEOUT=${1:-1800}
LANES=${KERNEL_LANES:-$(nproc)}
export LVSCTL=${LVSCTL:-$REPO/.build/release/lvsctl}
[ -x "$LVSCTL" ] || { echo "run-parallel: no lvsctl binary at $LVSCTL (make release)" >&2; exit 2; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# Items with their expected seconds, longest first.
declare -A dur
while read -r s f _; do [[ $s =~ ^[0-9]+$ ]] && dur[$f]=$s; done < Tests/Kernel/durations
# The TCG VM runs the smoke subset and the arptables method of t-dr.sh: lvsctl drives the system's arptables, which
# is arptables-nft, and the user-mode-linux kernel has nf_tables without its ip, inet and arp families
# (CONFIG_NF_TABLES_ARP is not set). The UML lanes run t-dr.sh's other methods and the rest of the file.
# t-migrate.sh needs both firewall backends on one kernel (legacy x_tables and nf_tables with every family): TCG only.
SMOKE_FILES=(t-seed-scenario.sh t-conformance.sh t-bundle.sh t-dr.sh t-migrate.sh)
# The TCG VM run again with LVSCTL_FIREWALL=nftables ("tcg-nft", lines [F]): the bundle and dr tests on the nftables
# backend in the normal kernel, read back with nft -j (t-dr.sh: the arptables and redirect methods, with live traffic).
NFT_FILES=(t-bundle.sh t-dr.sh)
# Files that only make sense in a TCG VM: never in the UML lanes.
TCG_ONLY=" t-nft.sh t-migrate.sh "
items=()
if [ -n "${KERNEL_FILES:-}" ]; then read -ra items <<< "$KERNEL_FILES"
else for f in Tests/Kernel/t-*.sh; do [[ $TCG_ONLY == *" ${f##*/} "* ]] || items+=("${f##*/}"); done; fi
# The nolegacy TCG VM runs the files written for a kernel without legacy x_tables (the nftables backend's tests).
NOLEGACY=()
if [ -z "${KERNEL_NO_TCG:-}" ]; then
  items+=(tcg tcg-nft)
  for f in ${NOLEGACY_FILES-t-nft.sh}; do
    if [ -f "Tests/Kernel/$f" ]; then NOLEGACY+=("$f")
    else echo "run-parallel: NOLEGACY_FILES: no Tests/Kernel/$f yet, skipped (nolegacy TCG VM)"; fi
  done
  [ ${#NOLEGACY[@]} = 0 ] || items+=(tcg-nolegacy)
fi
sorted=$(for i in "${items[@]}"; do echo "${dur[$i]:-120} $i"; done | sort -rn -k1,1)
declare -a load files tcg tcgnft nolegacy
for ((l = 0; l < LANES; l++)); do load[l]=0; files[l]=; tcg[l]=0; tcgnft[l]=0; nolegacy[l]=0; done
while read -r s i; do
  best=0
  for ((l = 1; l < LANES; l++)); do [ "${load[l]}" -lt "${load[best]}" ] && best=$l; done
  load[best]=$((load[best] + s))
  case $i in
    tcg) tcg[best]=1 ;;
    tcg-nft) tcgnft[best]=1 ;;
    tcg-nolegacy) nolegacy[best]=1 ;;
    *) files[best]+=" $i" ;;
  esac
done <<< "$sorted"
# t-zz-nomodule.sh last in its lane.
for ((l = 0; l < LANES; l++)); do
  case " ${files[l]} " in *" t-zz-nomodule.sh "*)
    files[l]="$(sed 's/ t-zz-nomodule.sh//' <<< "${files[l]}") t-zz-nomodule.sh" ;;
  esac
done

# stamp TAG: prefix each line with [TAG], and give each "=== FILE took N s" line the host's own count of seconds
# (a busy host makes the guest's clock fall behind: user-mode Linux counts timer ticks it was given).
stamp() {
  local line fstart=$EPOCHSECONDS
  while IFS= read -r line; do
    case $line in
      "=== "*" took "*" s") line="$line (host $((EPOCHSECONDS - fstart)) s)" ;;
      "=== "*) fstart=$EPOCHSECONDS ;;
    esac
    printf '[%s] %s\n' "$1" "$line"
  done
}
vm() { # TAG KIND [ENV=VALUE...] -- FILES...: one VM running run-all.sh on FILES, lines prefixed [TAG]
  local tag=$1 kind=$2; shift 2
  local envs=() pass=LVSCTL
  while [ "$1" != -- ]; do envs+=("$1"); pass+=" ${1%%=*}"; shift; done
  shift
  { env "${envs[@]}" VM_PASS_ENV="$pass" Scripts/vm/run --"$kind" --timeout "$TIMEOUT" Tests/Kernel/run-all.sh "$@" 2>&1
    echo "vm exit status $?"; } | stamp "$tag" >> "$OUT/$tag.log"
}
lane() { # L
  local l=$1
  if [ "${tcg[l]}" = 1 ]; then
    vm T tcg KERNEL_SMOKE=1 DR_METHODS=arptables DR_METHODS_ONLY=1 -- "${SMOKE_FILES[@]}"
  fi
  if [ "${tcgnft[l]}" = 1 ]; then
    vm F tcg LVSCTL_FIREWALL=nftables "DR_METHODS=arptables redirect" DR_METHODS_ONLY=1 -- "${NFT_FILES[@]}"
  fi
  if [ "${nolegacy[l]}" = 1 ]; then
    vm N tcg-nolegacy -- "${NOLEGACY[@]}"
  fi
  # shellcheck disable=SC2086
  [ -n "${files[l]}" ] && vm "U$((l + 1))" uml "DR_METHODS=sysctl redirect" -- ${files[l]}
}
start=$(date +%s)
for ((l = 0; l < LANES; l++)); do
  echo "lane $((l + 1)): $([ "${tcg[l]}" = 1 ] && echo "TCG (smoke, t-dr arptables, t-migrate), then ")$([ "${tcgnft[l]}" = 1 ] && echo "TCG on nftables (${NFT_FILES[*]}), then ")$([ "${nolegacy[l]}" = 1 ] && echo "TCG without legacy x_tables (${NOLEGACY[*]}), then ")UML:${files[l]} (expected ${load[l]} s)"
done
tags=()
: > "$OUT/T.log"
: > "$OUT/N.log"
: > "$OUT/F.log"
for ((l = 0; l < LANES; l++)); do
  [ "${tcg[l]}" = 1 ] && tags+=(T)
  [ "${tcgnft[l]}" = 1 ] && tags+=(F)
  [ "${nolegacy[l]}" = 1 ] && tags+=(N)
  [ -n "${files[l]}" ] && tags+=("U$((l + 1))")
  : > "$OUT/U$((l + 1)).log"
done
for ((l = 0; l < LANES; l++)); do lane "$l" & done
# Stream every VM's lines as they come (each VM's own lines stay in order).
tail -q -n +1 -f --pid=$$ "$OUT"/*.log 2>/dev/null &
tailer=$!
wait $(jobs -p | grep -v "^$tailer$")
sleep 0.5; kill "$tailer" 2>/dev/null; wait "$tailer" 2>/dev/null

p=0; f=0
for g in "${tags[@]}"; do
  line=$(grep -a "^\[$g\] kernel tests: " "$OUT/$g.log" | tail -1)
  if [[ $line =~ kernel\ tests:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    p=$((p + BASH_REMATCH[1])); f=$((f + BASH_REMATCH[2]))
    echo "[$g] ${BASH_REMATCH[1]} passed, ${BASH_REMATCH[2]} failed"
  else
    echo "[$g] no closing summary: the VM timed out or failed ($(grep -a 'vm exit status' "$OUT/$g.log" | tail -1))"
    f=$((f + 1))
  fi
  grep -aq "^\[$g\] vm exit status 0$" "$OUT/$g.log" || { [ "$f" -gt 0 ] || f=1; }
  if [ -n "${KERNEL_TIMES:-}" ]; then
    case $g in T) vmname=TCG ;; F) vmname=TCG-nft ;; N) vmname=TCG-nolegacy ;; *) vmname=UML ;; esac
    sed -n "s/^\[$g\] === \(t-.*\.sh\) took [0-9]* s (host \([0-9]*\) s)$/\2\t\1 ($vmname $g)/p" "$OUT/$g.log" >> "$KERNEL_TIMES"
  fi
done
# Repeat every failed check just above the closing lines, so a log cut to its tail still names them.
if grep -aq "^\[[TFNU0-9]*\] FAIL - " "$OUT"/*.log; then
  echo "failed checks (each with its first lines of detail):"
  grep -ah -A4 "^\[[TFNU0-9]*\] FAIL - " "$OUT"/*.log | grep -av "^\[[TFNU0-9]*\] ok " | cut -c1-300
fi
# A test file that stopped without its own summary line.
awk '/^\[[TFNU0-9]*\] === t-.*\.sh$/ {name=$0; seen=0} /^\[[TFNU0-9]*\] # t-.*: [0-9]+ passed/ {seen=1}
     /^\[[TFNU0-9]*\] === t-.* took / { if (!seen) print "no summary line from " name }' "$OUT"/*.log
echo "kernel tests ($LANES lanes, ${#tags[@]} VMs, $(( $(date +%s) - start )) s wall)"
echo "kernel tests: $p passed, $f failed"
[ "$f" = 0 ]

#!/usr/bin/env bash
# Tests/Kernel/run-parallel.sh [VM_TIMEOUT_SECS]
# Runs every Tests/Kernel/t-*.sh in two IPVS VMs at once (the host has two cores and a TCG guest mostly keeps one
# busy), each group through run-all.sh, with each line prefixed [A] or [B]; then prints one closing line,
# "kernel tests: N passed, N failed", summed over both. A VM that stops without its summary counts as a failure.
set -u
cd "$(dirname "$0")/../.."
TIMEOUT=${1:-3600}
OUT=$(mktemp -d)
# Group A holds the conformance and scale runs (~45-52 + ~14 min on this host); group B the rest, the bad-input table and
# the guide examples included (t-zz-nomodule sorts last in B, after every test that uses IPVS).
A=(t-conformance.sh t-scale.sh t-ipvsadm-ops.sh t-seed-scenario.sh)
B=()
for f in Tests/Kernel/t-*.sh; do
  t=${f##*/}
  case " ${A[*]} " in *" $t "*) ;; *) B+=("$t") ;; esac
done
group() { # NAME FILES...
  local name=$1; shift
  { Scripts/vm/run --timeout "$TIMEOUT" Tests/Kernel/run-all.sh "$@" 2>&1; echo "vm exit status $?"; } \
    | sed -u "s/^/[$name] /" | tee "$OUT/$name.log"
}
start=$(date +%s)
group A "${A[@]}" &
pa=$!
group B "${B[@]}" &
pb=$!
wait $pa; wait $pb
p=0; f=0
for g in A B; do
  line=$(grep -a "^\[$g\] kernel tests: " "$OUT/$g.log" | tail -1)
  if [[ $line =~ kernel\ tests:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    p=$((p + BASH_REMATCH[1])); f=$((f + BASH_REMATCH[2]))
  else
    echo "[$g] no closing summary: the VM timed out or failed ($(grep -a 'vm exit status' "$OUT/$g.log" | tail -1))"
    f=$((f + 1))
  fi
  grep -aq "^\[$g\] vm exit status 0$" "$OUT/$g.log" || { [ "$f" -gt 0 ] || f=1; }
done
# Repeat every failed check just above the closing lines, so a log cut to its tail still names them.
if grep -aq "^\[[AB]\] FAIL - " "$OUT/A.log" "$OUT/B.log"; then
  echo "failed checks (each with its first lines of detail):"
  grep -ah -A4 "^\[[AB]\] FAIL - " "$OUT/A.log" "$OUT/B.log" | grep -av "^\[[AB]\] ok " | cut -c1-300
fi
# A test file that stopped without its own summary line.
awk '/^\[[AB]\] === t-.*\.sh$/ {name=$0; seen=0} /^\[[AB]\] # t-.*: [0-9]+ passed/ {seen=1}
     /^\[[AB]\] === t-.* took / { if (!seen) print "no summary line from " name }' "$OUT/A.log" "$OUT/B.log"
echo "kernel tests (two VMs, $(( $(date +%s) - start )) s): see [A]/[B] lines above"
echo "kernel tests: $p passed, $f failed"
rm -rf "$OUT"
[ "$f" = 0 ]

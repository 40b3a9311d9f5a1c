#!/usr/bin/env bash
# Runs every Tests/Kernel/t-*.sh (or those named) inside the IPVS VM and prints one closing summary line.
set -u
# The VM harness copies this script into its job folder and runs it in the caller's directory (the repo).
HERE=${KERNEL_TESTS:-$PWD/Tests/Kernel}
export REPO=$(cd "$HERE/../.." && pwd)
export RESULTS=/tmp/kernel-results
: > "$RESULTS"
tests=("$@")
# Without names: the files for this VM kind (LVS_VM_KIND, set by Scripts/vm/run). t-nft.sh needs a kernel without
# legacy x_tables (tcg-nolegacy, where the legacy files cannot run); t-migrate.sh needs both firewall backends, and
# user-mode Linux has no ip/ip6/arp nf_tables families.
if [ ${#tests[@]} -eq 0 ]; then
  for t in "$HERE"/t-*.sh; do
    case "${LVS_VM_KIND:-}:${t##*/}" in
      tcg-nolegacy:t-nft.sh | tcg:t-migrate.sh) tests+=("$t") ;;
      tcg-nolegacy:* | *:t-nft.sh | *:t-migrate.sh) ;;
      *) tests+=("$t") ;;
    esac
  done
fi
failed_files=0
for t in "${tests[@]}"; do
  [ -f "$t" ] || t="$HERE/$t"
  echo "=== ${t##*/}"
  start=$(date +%s)
  if ! bash "$t"; then failed_files=$((failed_files+1)); fi
  echo "=== ${t##*/} took $(( $(date +%s) - start )) s"
done
p=0; f=0
while read -r a b; do p=$((p+a)); f=$((f+b)); done < "$RESULTS"
# A test file that died before its summary counts as one failure.
f=$((f+failed_files - $(awk '$2>0' "$RESULTS" | wc -l)))
echo "kernel tests: $p passed, $f failed"
[ "$f" == 0 ] && [ "$failed_files" == 0 ]

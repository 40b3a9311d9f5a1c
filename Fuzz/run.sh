#!/usr/bin/env bash
# Fuzz/run.sh [SECONDS] [TARGET...]: builds the libFuzzer targets (scratch path .build-fuzz, never the normal
# .build), seeds each corpus from the golden fixtures and example files, and runs every target for SECONDS
# (default $FUZZ_SECONDS or 300). A crash leaves its input in .build-fuzz/crashes/TARGET/ and fails the run;
# turn each into a regression test under Tests/ (see Documentation/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-${FUZZ_SECONDS:-300}}; shift || true
TARGETS=("$@"); [ ${#TARGETS[@]} -eq 0 ] && TARGETS=(netlink restore piranha)
OUT=.build-fuzz; mkdir -p $OUT
# (ld.gold's "Cannot export local symbol __asan_*" warnings are harmless and filtered.)
swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address --scratch-path $OUT > $OUT/build.log 2>&1 \
  || { grep -v "Cannot export local symbol" $OUT/build.log; exit 1; }

seed() {  # corpus folders: the fixtures, copied (libFuzzer adds to the corpus folder)
  local c=$OUT/corpus; mkdir -p $c/netlink $c/restore $c/piranha
  local i=0
  for f in Tests/Fixtures/golden/*.txt; do
    while read -r hex; do
      i=$((i+1)); printf '%s' "$hex" | xxd -r -p > $c/netlink/golden-$i.bin
    done < <(sed -n 's/^hex: //p' "$f")
  done
  cp Tests/Fixtures/piranha/*.conf Scripts/install/lvsctl.conf.example $c/restore/
  # ipvsadm-save lines, the other format restore reads.
  printf '%s\n' '-A -t 192.0.2.1:80 -s rr -p 60 -M 255.255.255.0' '-a -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 1' \
    '-A -f 80 -s wlc' '-a -f 80 -r 198.51.100.3:0 -m -w 2' '-A -u [2001:db8::1]:53 -s sh -b sh-port' > $c/restore/ipvsadm-save.txt
  cp Tests/Fixtures/piranha/*.cf $c/piranha/
}
seed
rc=0
for t in "${TARGETS[@]}"; do
  mkdir -p $OUT/crashes/$t
  log=$OUT/fuzz-$t.log
  echo "fuzz-$t: $SECS s, corpus $(ls $OUT/corpus/$t | wc -l) files"
  start=$(date +%s)
  if ! $OUT/debug/fuzz-$t -max_total_time=$SECS -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix=$OUT/crashes/$t/ $OUT/corpus/$t > $log 2>&1; then
    rc=1; echo "fuzz-$t: FAILED, see $log and $OUT/crashes/$t/"; grep -E "ERROR|SUMMARY|Test unit written" $log | head -5
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' $log | tail -1)
  echo "fuzz-$t: ${execs:-?} executions in $(( $(date +%s) - start )) s, corpus now $(ls $OUT/corpus/$t | wc -l) files"
done
exit $rc

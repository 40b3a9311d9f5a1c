#!/usr/bin/env bash
# Tests/run-steps.sh: what `make test` runs, step by step, timing each step.
#
#   setup            Debian packages, the TCG VM cache (Debian's kernel + initramfs), user-mode Linux
#   debug build      swift build --build-tests (the unit tests' build and the firewall XCTest bundle the VM runs)
#   unit tests       swift test
#   release build    the static release binary: the kernel tests run it, and the install check installs it
#   install check    Tests/install-check.sh (make install DESTDIR=..., man pages, completions, uninstall)
#   kernel tests     Tests/Kernel/run-parallel.sh: every Tests/Kernel/t-*.sh in user-mode Linux instances, and the
#                    smoke subset on Debian's own x86 kernel under qemu TCG, at the same time (and NOLEGACY_FILES,
#                    once one exists, on that kernel without legacy x_tables); the table names each file's VM
#                    (UML U1, TCG T, TCG-nolegacy N)
#   asan, tsan       the unit tests under AddressSanitizer and ThreadSanitizer
#
# Every step runs even when an earlier one failed (a later step that needs a failed build fails quickly), so one
# log names every problem. At the end: one table of the steps and the kernel files with their seconds, longest
# first, the failed steps, and the closing lines: the kernel tests' "kernel tests: N passed, N failed" and
# "make test: N steps passed, N failed". Exit status 0 only when every step passed.
#
# Environment: TEST_TIMES=FILE keeps the step table (default: .build/test-times.txt).
set -u
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
mkdir -p .build
TIMES=${TEST_TIMES:-.build/test-times.txt}
KTIMES=.build/kernel-times.txt
: > "$TIMES"; : > "$KTIMES"
FAILED=()
T0=$(date +%s)

# step NAME COMMAND...: run it, print its duration, remember it.
step() {
  local name=$1; shift
  echo "::: step: $name"
  local s; s=$(date +%s.%N)
  "$@"
  local rc=$?
  local secs; secs=$(printf '%.0f' "$(echo "$(date +%s.%N) - $s" | bc)")
  printf '%s\t%s\t%s\n' "$secs" "$name" "$rc" >> "$TIMES"
  echo "::: step: $name: $([ $rc = 0 ] && echo passed || echo "FAILED (exit $rc)") in ${secs} s"
  [ $rc = 0 ] || FAILED+=("$name")
  return $rc
}

unit_tests() { $SWIFT test --skip-build 2>&1 | tee .build/unit-test.log; return "${PIPESTATUS[0]}"; }
sanitizer() { # address|thread
  local s=$1 dir=.build-${1:0:1}san
  $SWIFT build --build-tests --sanitize="$s" --scratch-path "$dir" || return
  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1 \
    $SWIFT test --skip-build --sanitize="$s" --scratch-path "$dir"
}
kernel_tests() { KERNEL_TIMES=$KTIMES Tests/Kernel/run-parallel.sh 2>&1 | tee .build/kernel-test.log; return "${PIPESTATUS[0]}"; }

step "setup (packages, VM caches)" make -s deps vm-setup
step "debug build" $SWIFT build --build-tests
step "unit tests" unit_tests
step "release build" make -s release
step "install check" Tests/install-check.sh
step "kernel tests (all VMs, wall time)" kernel_tests
step "asan: build + unit tests" sanitizer address
step "tsan: build + unit tests" sanitizer thread

total=$(( $(date +%s) - T0 ))
echo
echo "Where the time went (seconds, longest first; kernel files run at the same time in several VMs):"
{
  awk -F'\t' '{ printf "%6d  %s%s\n", $1, $2, ($3 == 0 ? "" : "  (FAILED)") }' "$TIMES"
  awk -F'\t' '{ printf "%6d    kernel file %s\n", $1, $2 }' "$KTIMES"
} | sort -rn
printf '%6d  make test, in all\n' "$total"
[ ${#FAILED[@]} = 0 ] || printf 'failed step: %s\n' "${FAILED[@]}"
grep -a '^kernel tests: [0-9]* passed' .build/kernel-test.log | tail -1
n=$(wc -l < "$TIMES")
echo "make test: $((n - ${#FAILED[@]})) steps passed, ${#FAILED[@]} failed"
[ ${#FAILED[@]} = 0 ]

# Shared helpers for the kernel tests. Sourced by each Tests/Kernel/t-*.sh inside the IPVS VM.
# Every test works in its own fresh network namespace, so IPVS and firewall state never leak between tests.
set -u
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LVSCTL=${LVSCTL:-$REPO/.build/debug/lvsctl}
PASS=0; FAIL=0; FAILED_NAMES=()
NS_LIST=()

# new_ns NAME: a fresh namespace with lo up; removed at exit.
new_ns() { ip netns add "$1" && ip -n "$1" link set lo up && NS_LIST+=("$1"); }
cleanup_ns() { for n in "${NS_LIST[@]:-}"; do [ -n "$n" ] && ip netns del "$n" 2>/dev/null; done; }
trap cleanup_ns EXIT

# nsx NS CMD...: run in a namespace.
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

ok()   { PASS=$((PASS+1)); echo "ok   - $1"; }
bad()  { FAIL=$((FAIL+1)); FAILED_NAMES+=("$1"); echo "FAIL - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/       /'; }

# same NAME EXPECTED ACTUAL: pass when the two strings are identical; show a diff otherwise.
same() {
  if [ "$2" == "$3" ]; then ok "$1"; return; fi
  # The guest has no /dev/fd, so no process substitution: diff two temporary files.
  local e a; e=$(mktemp); a=$(mktemp)
  printf '%s\n' "$2" > "$e"; printf '%s\n' "$3" > "$a"
  bad "$1" "$(diff "$e" "$a" | head -40)"; rm -f "$e" "$a"
}

# expect_rc NAME RC CMD...: the command exits with RC.
expect_rc() {
  local name=$1 want=$2; shift 2
  local out; out=$("$@" 2>&1); local rc=$?
  if [ "$rc" == "$want" ]; then ok "$name"; else bad "$name" "exit $rc, wanted $want: $out"; fi
}

summary() {
  echo "# ${BASH_SOURCE[1]##*/}: $PASS passed, $FAIL failed"
  [ -n "${RESULTS:-}" ] && echo "$PASS $FAIL" >> "$RESULTS"
  [ "$FAIL" == 0 ]
}

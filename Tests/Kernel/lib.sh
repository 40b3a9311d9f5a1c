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

# The firewall backend under test: LVSCTL_FIREWALL, which lvsctl reads too (unset: iptables-legacy, as lvsctl's auto
# picks on a kernel with legacy x_tables). Files that read rules back branch on it.
FW=${LVSCTL_FIREWALL:-iptables-legacy}

# nft_ruleset NS: the namespace's whole nft ruleset from `nft -j list ruleset`, without handles and metainfo (they
# change on every rewrite), one object per line, sorted; the elements of each set or map sorted too (a set has no order).
nft_ruleset() {
  local out; out=$(nsx "$1" nft -j list ruleset 2>&1) || { echo "nft -j list ruleset failed: $out"; return 1; }
  python3 -c '
import json, sys
def strip(o):
    if isinstance(o, dict): return {k: strip(v) for k, v in o.items() if k != "handle"}
    if isinstance(o, list): return [strip(v) for v in o]
    return o
out = []
for x in json.load(sys.stdin)["nftables"]:
    if "metainfo" in x: continue
    x = strip(x)
    for kind in ("set", "map"):
        if "elem" in x.get(kind, {}): x[kind]["elem"].sort(key=lambda e: json.dumps(e, sort_keys=True))
    out.append(json.dumps(x, sort_keys=True))
print("\n".join(sorted(out)))' <<< "$out"
}

# nft_elems NS set|map FAMILY TABLE NAME: the elements of an nft set or map from `nft -j list set|map`, one per line in
# nft's own syntax, sorted (C order): `192.0.2.10 . tcp . 80 comment "bundle web" : 80` (a port range as 8000-8010, a
# mark in decimal). Nothing when the table or the set does not exist.
nft_elems() {
  nsx "$1" nft -j list "$2" "$3" "$4" "$5" 2>/dev/null | python3 -c '
import json, sys
text = sys.stdin.read()
def val(v):
    if isinstance(v, dict) and "concat" in v: return " . ".join(val(p) for p in v["concat"])
    if isinstance(v, dict) and "range" in v: return "%s-%s" % tuple(v["range"])
    if isinstance(v, dict) and "prefix" in v: return "%s/%s" % (v["prefix"]["addr"], v["prefix"]["len"])
    return str(v)
out = []
for x in (json.loads(text)["nftables"] if text.strip() else []):
    s = x.get("map") or x.get("set") or {}
    for e in s.get("elem", []):
        k, v = (e[0], e[1]) if isinstance(e, list) else (e, None)
        c = ""
        if isinstance(k, dict) and "elem" in k: c = k["elem"].get("comment", ""); k = k["elem"]["val"]
        out.append(val(k) + (" comment \"%s\"" % c if c else "") + ("" if v is None else " : " + val(v)))
print("\n".join(sorted(out)))' | sed '/^$/d'
}

# With KTIME=1 each check line ends with the seconds since the previous check (where a file's time goes).
_KT=${EPOCHREALTIME/./}
_KTS=
_kt() {
  [ "${KTIME:-}" = 1 ] || return 0
  local now=${EPOCHREALTIME/./}
  printf -v _KTS ' [%d.%01d s]' $(( (now - _KT) / 1000000 )) $(( (now - _KT) / 100000 % 10 )); _KT=$now
}
ok()   { PASS=$((PASS+1)); _kt; echo "ok   - $1$_KTS"; }
bad()  { FAIL=$((FAIL+1)); FAILED_NAMES+=("$1"); _kt; echo "FAIL - $1$_KTS"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/       /'; }

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

# run_demo LABEL: runs Scripts/demo.sh (the seed scenario with live traffic); each of its "ok:" and "FAILED" lines
# becomes a check named "LABEL: ...", plus one for its exit status. Its output is left in $DEMO_OUT.
run_demo() {
  local rc l
  DEMO_OUT=$(bash "$REPO/Scripts/demo.sh" 2>&1); rc=$?
  while IFS= read -r l; do
    case "$l" in
      *"  ok: "*) ok "$1: ${l#*ok: }" ;;
      *"FAILED"*) bad "$1: ${l#*FAILED: }" ;;
    esac
  done <<< "$DEMO_OUT"
  [ $rc -eq 0 ] && ok "$1: demo script exit 0" || bad "$1: demo script exit $rc" "$(tail -20 <<< "$DEMO_OUT")"
}

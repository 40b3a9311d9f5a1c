#!/bin/sh
# Kernel check of lvsctl's libiptc firewall layer, safe to run on a host: everything happens in two
# throw-away network namespaces, removed on exit.
#
#   Tests/Kernel/firewall-host-check.sh [--bench]
#
# It builds the tests outside the namespaces, then runs the FirewallTests/FirewallKernelTests XCTest cases inside
# namespace lvsfw<pid> with LVSCTL_FIREWALL_NETNS_TEST=1; the reference iptables-legacy commands run in namespace
# lvsfwref<pid> (LVSCTL_FIREWALL_REF_NETNS), and the iptables-legacy-save outputs of both are compared.
# --bench also times 1000 MARK rules written in one libiptc commit vs 1000 iptables-legacy invocations.
# Needs root, iptables-legacy, ip6tables-legacy and iproute2. Environment: SCRATCH (default .build-fw).
set -eu

cd "$(dirname "$0")/../.."
SCRATCH=${SCRATCH:-.build-fw}
BENCH=0
for a in "$@"; do
    case $a in
        --bench) BENCH=1 ;;
        *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
    esac
done

[ "$(id -u)" = 0 ] || { echo "firewall-host-check: needs root" >&2; exit 2; }
for t in iptables-legacy ip6tables-legacy iptables-legacy-save ip6tables-legacy-save ip; do
    command -v "$t" >/dev/null 2>&1 || { echo "firewall-host-check: $t not found" >&2; exit 2; }
done

swift build --scratch-path "$SCRATCH" --build-tests

NS=lvsfw$$
REF=lvsfwref$$
cleanup() {
    ip netns del "$NS" 2>/dev/null || true
    ip netns del "$REF" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip netns add "$REF"

status=0
ip netns exec "$NS" env LVSCTL_FIREWALL_NETNS_TEST=1 LVSCTL_FIREWALL_NETNS="$NS" LVSCTL_FIREWALL_REF_NETNS="$REF" LVSCTL_FIREWALL_BENCH="$BENCH" \
    swift test --scratch-path "$SCRATCH" --skip-build --filter 'LVSCoreTests.Firewall' 2>&1 |
    tee "/tmp/firewall-host-check.$$.log" | grep -E 'error:|skipped|BENCH|CONCURRENT|Executed' || true
grep -q ' error: ' "/tmp/firewall-host-check.$$.log" && status=1
grep -q 'Executed .* tests*, with 0 failures' "/tmp/firewall-host-check.$$.log" || status=1
# Only the benchmark may be skipped (when --bench is not given).
skipped=$(grep -c 'FirewallKernelTests.*: Test skipped' "/tmp/firewall-host-check.$$.log" || true)
if [ "$skipped" -ne $((1 - BENCH)) ]; then
    echo "firewall-host-check: $skipped kernel test(s) skipped" >&2; status=1
fi
rm -f "/tmp/firewall-host-check.$$.log"
[ $status = 0 ] && echo "firewall-host-check: OK" || echo "firewall-host-check: FAILED" >&2
exit $status

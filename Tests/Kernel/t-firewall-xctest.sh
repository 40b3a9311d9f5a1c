#!/usr/bin/env bash
# The firewall layer's kernel XCTests (Tests/LVSCoreTests/FirewallTests.swift), run inside the VM from the
# prebuilt test bundle: lvsctl's libiptc rules vs the iptables-legacy reference in a second namespace, IPv4 and
# IPv6, ownership, no-op commits, lock timeout. Outside a named namespace these tests skip themselves; here they run.
source "$(dirname "$0")/lib.sh"
XCT=$REPO/.build/debug/lvsctlPackageTests.xctest
new_ns lvsfwk; new_ns lvsfwkref
out=$(ip netns exec lvsfwk env LVSCTL_FIREWALL_NETNS_TEST=1 LVSCTL_FIREWALL_NETNS=lvsfwk LVSCTL_FIREWALL_REF_NETNS=lvsfwkref \
      "$XCT" LVSCoreTests.FirewallKernelTests 2>&1); rc=$?
# The one unit test that needs an unprivileged user runs as nobody.
out+=$'\n'$(ip netns exec lvsfwk setpriv --reuid 65534 --regid 65534 --clear-groups \
      "$XCT" LVSCoreTests.FirewallTests/testNonRootErrorMessage 2>&1) || rc=1
echo "$out" | grep -E "Test Case .*(passed|failed|skipped)" | sed 's/^/  /'
n_pass=$(echo "$out" | grep -c "Test Case .* passed")
n_skip=$(echo "$out" | grep -c "Test Case .* skipped")
[ $rc -eq 0 ] && ok "firewall XCTests in the VM: exit 0 ($n_pass passed)" || bad "firewall XCTests in the VM" "$(echo "$out" | grep -E "error|failed" | head -20)"
same "firewall XCTests in the VM: none skipped" "0" "$n_skip"
summary

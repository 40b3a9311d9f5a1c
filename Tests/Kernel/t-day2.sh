#!/usr/bin/env bash
# Day-2 operations (issue #20) against the real kernel: `apply FILE --check` as a drift check (0 when the kernel
# matches the file, 3 when it differs, with the plan that would align them; nothing changed), read back with
# ipvsadm -Sn and the firewall's own listing.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
N=day2
T=$(mktemp -d)
trap 'cleanup_ns; rm -rf "$T"' EXIT
new_ns $N
# UML lanes: the iptables-legacy backend (the nftables backend's apply is covered by t-nft.sh).
rules() { nsx $N iptables-legacy-save -t mangle | grep -- '^-A'; }

cat > "$T/f.conf" <<'EOF'
bundle add web --vip 192.0.2.10 --ports 80,443 -s rr -p 60
rs add --bundle web -r 192.0.2.11 -g -w 5
rs add --bundle web -r 192.0.2.12 -g -w 5
vs add -u 192.0.2.20:53 -s wrr
rs add -u 192.0.2.20:53 -r 192.0.2.21:53 -m -w 2
EOF
expect_rc "apply --check on an empty namespace: exit 3 (differs)" 3 nsx $N $L apply "$T/f.conf" --check
same "apply --check changed nothing" "" "$(nsx $N ipvsadm -Sn)"
expect_rc "apply" 0 nsx $N $L apply "$T/f.conf"
out=$(nsx $N $L apply "$T/f.conf" --check 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "no changes" ] && ok "apply --check on a matching table: exit 0, no changes" || bad "apply --check matching (exit $rc)" "$out"

# A weight changed by hand: exit 3, the plan names the change, and nothing is changed.
nsx $N ipvsadm -e -f 1 -r 192.0.2.11 -g -w 7
before=$(nsx $N ipvsadm -Sn)
out=$(nsx $N $L apply "$T/f.conf" --check 2>&1); rc=$?
[ $rc = 3 ] && grep -q "192.0.2.11" <<< "$out" && grep -q -- "-w 5" <<< "$out" \
  && ok "after ipvsadm -e -w 7: exit 3, the plan sets weight 5 again" || bad "after ipvsadm -e (exit $rc)" "$out"
same "apply --check left the hand change alone" "$before" "$(nsx $N ipvsadm -Sn)"
nsx $N $L apply "$T/f.conf" > /dev/null
expect_rc "after apply: in sync again" 0 nsx $N $L apply "$T/f.conf" --check

# A bundle rule deleted by hand: exit 3, the plan adds it back.
rules_before=$(rules)
r=$(nsx $N iptables-legacy-save -t mangle | grep -m1 -- 'bundle web' | sed 's/^-A /-D /')
eval "nsx $N iptables-legacy -t mangle $r"
[ "$(rules)" != "$rules_before" ] && ok "a bundle rule deleted by hand" || bad "could not delete a bundle rule" "$(rules)"
out=$(nsx $N $L apply "$T/f.conf" --check 2>&1); rc=$?
[ $rc = 3 ] && grep -q "^+ .*443" <<< "$out" && ok "after a hand-deleted rule: exit 3, the plan adds it back" || bad "hand-deleted rule (exit $rc)" "$out"
nsx $N $L apply "$T/f.conf" > /dev/null
same "apply puts the rule back" "$rules_before" "$(rules)"
expect_rc "and --check is 0 again" 0 nsx $N $L apply "$T/f.conf" --check

# Bad input keeps its meaning: exit 2.
echo "rs add -t 192.0.2.99:80 -r 192.0.2.1" > "$T/bad.conf"
expect_rc "apply --check of a bad file: exit 2" 2 nsx $N $L apply "$T/bad.conf" --check
summary

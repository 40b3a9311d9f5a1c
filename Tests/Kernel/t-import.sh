#!/usr/bin/env bash
# lvsctl import piranha: the converted Piranha fixtures, loaded with lvsctl restore into a fresh namespace,
# give the same IPVS table, timeouts and daemons as the ipvsadm commands piranha's lvsd and nanny ran
# (every real server healthy), applied with ipvsadm in another namespace. nanny's health checks become check and
# sorry lines, which restore and apply leave to lvsctl monitor (one note). Bad files: exit 2, one line.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
FX=$REPO/Tests/Fixtures/piranha

# What piranha ran for lvs.cf: lvsd's --set, -A per active virtual, nanny's -a per active server, pulse's daemon.
LVS_CF_IPVSADM=(
  "--set 900 120 300"
  "-A -t 192.0.2.10:80 -s wlc -p 300 -M 255.255.255.0"
  "-a -t 192.0.2.10:80 -r 198.51.100.11:80 -g -w 1"
  "-a -t 192.0.2.10:80 -r 198.51.100.12:80 -g -w 2"
  "-A -f 80 -s rr -p 600"
  "-a -f 80 -r 198.51.100.11:80 -g -w 1"
  "-a -f 80 -r 198.51.100.12:80 -g -w 3"
  "--start-daemon master --mcast-interface eth1 --syncid 7"
)
NAT_CF_IPVSADM=(
  "-A -u 192.0.2.20:53 -s wrr"
  "-a -u 192.0.2.20:53 -r 198.51.100.31:53 -m -w 5"
  "-a -u 192.0.2.20:53 -r 198.51.100.32:5353 -m -w 0"
  "-A -t 192.0.2.21:80 -s sh -p 60"
  "-a -t 192.0.2.21:80 -r 198.51.100.41:8080 -m -w 1"
)

# quirks.cf: web's 'port = 8080' comes after its server blocks, so nanny gave app1 the port the virtual had at
# its 'server' line (80); the full pmask is ipvsadm's default; the inactive vpn443 (no address) is not loaded.
QUIRKS_CF_IPVSADM=(
  "-A -t 192.0.2.30:8080 -s wlc"
  "-a -t 192.0.2.30:8080 -r 198.51.100.51:80 -m -w 1"
  "-a -t 192.0.2.30:8080 -r 198.51.100.52:8081 -m -w 2"
  "-A -t 192.0.2.31:143 -s lc -p 300 -M 255.255.255.255"
  "-a -t 192.0.2.31:143 -r 198.51.100.61:143 -m -w 1"
)

# nanny.cf: the health-check shapes; the check and sorry lines change nothing in the table.
NANNY_CF_IPVSADM=(
  "-A -t 192.0.2.40:80 -s wlc"
  "-a -t 192.0.2.40:80 -r 198.51.100.11:80 -m -w 100"
  "-a -t 192.0.2.40:80 -r 198.51.100.12:80 -m -w 0"
  "-A -t 192.0.2.41:8080 -s wlc"
  "-a -t 192.0.2.41:8080 -r 198.51.100.21:8080 -m -w 1"
  "-A -t 192.0.2.42:80 -s rr"
  "-a -t 192.0.2.42:80 -r 198.51.100.14:80 -m -w 3"
  "-A -t 192.0.2.43:25 -s wlc"
  "-a -t 192.0.2.43:25 -r 198.51.100.31:25 -m -w 1"
  "-A -t 192.0.2.44:22 -s wlc"
  "-a -t 192.0.2.44:22 -r 198.51.100.41:22 -m -w 1"
  "-A -u 192.0.2.45:53 -s wlc"
  "-a -u 192.0.2.45:53 -r 198.51.100.51:53 -m -w 1"
  "-A -f 443 -s wlc"
  "-a -f 443 -r 198.51.100.61:443 -m -w 2"
)

state() { nsx "$1" ipvsadm -Sn; nsx "$1" ipvsadm -L --timeout; nsx "$1" ipvsadm -L --daemon; }

n=0
for f in lvs nat quirks nanny; do
  n=$((n+1))
  A=ia$n; B=ib$n
  new_ns $A; new_ns $B
  for ns in $A $B; do nsx $ns ip link add eth1 type dummy; nsx $ns ip link set eth1 multicast on up; done
  case $f in
    lvs) cmds=("${LVS_CF_IPVSADM[@]}") ;; nat) cmds=("${NAT_CF_IPVSADM[@]}") ;;
    quirks) cmds=("${QUIRKS_CF_IPVSADM[@]}") ;; *) cmds=("${NANNY_CF_IPVSADM[@]}") ;;
  esac
  errs=""
  for c in "${cmds[@]}"; do
    # shellcheck disable=SC2086
    nsx $B ipvsadm $c 2>&1 || errs+="ipvsadm $c failed; "
  done
  [ -z "$errs" ] || bad "$f.cf: ipvsadm accepts piranha's commands" "$errs"
  out=$($L import piranha "$FX/$f.cf" -o /tmp/import-$f.conf 2>&1); rc=$?
  if [ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ]; then ok "$f.cf: import exits 0 with one note line: $out"
  else bad "$f.cf: import exits 0 with one note line" "rc=$rc: $out"; fi
  same "$f.cf: -o writes what stdout shows" "$($L import piranha "$FX/$f.cf" 2>/dev/null)" "$(cat /tmp/import-$f.conf)"
  if out=$(nsx $A $L restore /tmp/import-$f.conf 2>&1); then
    ok "$f.cf: restore of the converted file"
    same "$f.cf: table, timeouts, daemons == piranha's ipvsadm commands" "$(state $B)" "$(state $A)"
    # A 'daemon start' without --sync-maxlen/--mcast-* matches the kernel's filled-in defaults: no restart planned.
    # The check and sorry lines (nanny's health checks) change nothing here: one note on stderr says so.
    nchk=$(grep -c -e '^check ' -e '^sorry ' /tmp/import-$f.conf)
    [ "$nchk" -eq 1 ] && lines_word=line || lines_word=lines
    same "$f.cf: apply of the converted file plans no change (daemons included)" \
      "lvsctl: note: $nchk check and sorry $lines_word take effect under lvsctl monitor
no changes" "$(nsx $A $L apply --dry-run /tmp/import-$f.conf 2>&1)"
  else
    bad "$f.cf: restore of the converted file" "$out"
  fi
  ip netns del $A; ip netns del $B; NS_LIST=()
done

# The inactive server and virtual, uncommented, load too (the commented lines are valid commands).
new_ns iu
nsx iu ip link add eth1 type dummy; nsx iu ip link set eth1 multicast on up
sed -e 's/^# \(vs add \)/\1/' -e 's/^# \(rs add \)/\1/' /tmp/import-lvs.conf > /tmp/import-uncommented.conf
if out=$(nsx iu $L restore /tmp/import-uncommented.conf 2>&1); then
  same "uncommented inactive lines: 3 services, 6 real servers" "3 6" \
    "$(nsx iu ipvsadm -Sn | grep -c '^-A') $(nsx iu ipvsadm -Sn | grep -c '^-a')"
else
  bad "uncommented inactive lines load" "$out"
fi

# Bad input: exit 2 and exactly one stderr line naming FILE:LINE; nothing written.
for c in "bad-weight.cf|:9: invalid weight '-3'" "bad-unclosed.cf|:2: virtual 'web' is not closed" "bad-network.cf|:2: invalid network 'bridge'"; do
  f=${c%%|*}; want=${c#*|}
  rm -f /tmp/import-bad.conf
  err=$($L import piranha "$FX/$f" -o /tmp/import-bad.conf 2>&1 >/dev/null); rc=$?
  lines=$(printf '%s\n' "$err" | grep -c .)
  case "$err" in
    *"$FX/$f$want"*) [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -e /tmp/import-bad.conf ] && ok "bad $f: exit 2, one line: $err" || bad "bad $f" "rc=$rc lines=$lines: $err" ;;
    *) bad "bad $f names FILE:LINE" "rc=$rc: $err" ;;
  esac
done
expect_rc "unknown import kind: exit 2" 2 $L import foo "$FX/lvs.cf"
err=$($L import foo "$FX/lvs.cf" 2>&1)
same "unknown import kind wording" "lvsctl: unknown import kind 'foo' (expected piranha)" "$err"
expect_rc "import of a directory: exit 2" 2 $L import piranha "$FX"
expect_rc "import of a missing file: exit 2" 2 $L import piranha /tmp/no-such-lvs.cf

summary

#!/usr/bin/env bash
# Bad input: exit 2, exactly one stderr line naming the value, and the kernel tables unchanged.
# Kernel refusals: exit 1 with per-operation words. A refusal in the middle of a restore rolls back.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
new_ns bi
nsx bi ipvsadm -A -t 192.0.2.1:80 -s rr
nsx bi ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.2 -g
nsx bi iptables-legacy -t mangle -A PREROUTING -p udp --dport 53 -j MARK --set-mark 5
snap() { nsx bi ipvsadm -Sn; nsx bi ipvsadm -Ln --thresholds; nsx bi iptables-legacy-save -t mangle | grep -v '^#'; nsx bi ipvsadm -L --timeout; }
before=$(snap)
printf 'vs add -t 192.0.2.9:80\r\nrs add -t 192.0.2.9:80 -r 198.51.100.9 -w 99999\r\n' > /tmp/crlf.conf
printf 'vs add -t 192.0.2.9:80 -s rr\n\x00\x01\x02binary' > /tmp/bin.conf
mkdir -p /tmp/adir
{ for i in $(seq 1 999); do echo "vs add -t 192.0.2.$((i % 250 + 1)):$((i + 1000)) -s rr"; done; } > /tmp/big.conf
sed -i '500s/.*/vs add -t 192.0.2.77:0/' /tmp/big.conf
long=$(head -c 4096 /dev/zero | tr '\0' a)
cases=(
  "port out of range|vs add -t 192.0.2.2:65536"
  "no port|vs add -t 192.0.2.2"
  "bad address|vs add -t 192.0.2.300:80"
  "unbracketed v6 with port|vs add -t 2001:db8::1:80:80"
  "scope id|vs add -t [fe80::1%eth0]:80"
  "v4-mapped v6|vs add -t [::ffff:192.0.2.1]:80"
  "multicast VIP|vs add -t 224.0.0.1:80"
  "broadcast VIP|vs add -t 255.255.255.255:80"
  "unspecified VIP|vs add -t 0.0.0.0:80"
  "port 0 without persistence|vs add -t 192.0.2.2:0"
  "fwmark 0|vs add -f 0"
  "fwmark hex too big|vs add -f 0x100000000"
  "fwmark negative|vs add -f -5"
  "-6 without -f|vs add -t 192.0.2.2:80 -6"
  "two services|vs add -t 192.0.2.2:80 -u 192.0.2.2:53"
  "-M without -p|vs add -t 192.0.2.2:80 -M 255.255.255.0"
  "bad v4 netmask|vs add -t 192.0.2.2:80 -p 60 -M 255.0.255.0"
  "bad v6 prefix|vs add -t [2001:db8::1]:80 -p 60 -M 129"
  "sh flag with rr|vs add -t 192.0.2.2:80 -s rr -b sh-port"
  "unknown sched flag|vs add -t 192.0.2.2:80 -b turbo"
  "ops on tcp|vs add -t 192.0.2.2:80 -o"
  "persistence 0|vs add -t 192.0.2.2:80 -p 0"
  "persistence too long|vs add -t 192.0.2.2:80 -p 2678401"
  "scheduler with shell chars|vs add -t 192.0.2.2:80 -s 'rr;reboot'"
  "4 KiB scheduler|vs add -t 192.0.2.2:80 -s $long"
  "weight too big|rs add -t 192.0.2.1:80 -r 198.51.100.3 -w 65536"
  "weight negative|rs add -t 192.0.2.1:80 -r 198.51.100.3 -w -1"
  "weight octal-looking|rs add -t 192.0.2.1:80 -r 198.51.100.3 -w 0x10"
  "lower above upper|rs add -t 192.0.2.1:80 -r 198.51.100.3 -x 5 -y 10"
  "two forwarding methods|rs add -t 192.0.2.1:80 -r 198.51.100.3 -g -m"
  "tunnel option without -i|rs add -t 192.0.2.1:80 -r 198.51.100.3 --tun-type gue"
  "gue without port|rs add -t 192.0.2.1:80 -r 198.51.100.3 -i --tun-type gue"
  "gre remcsum|rs add -t 192.0.2.1:80 -r 198.51.100.3 -i --tun-type gre --tun-remcsum"
  "mixed family without tunnel|rs add -t 192.0.2.1:80 -r 2001:db8::3"
  "real server multicast|rs add -t 192.0.2.1:80 -r 239.1.1.1"
  "timeout out of range|timeout set --tcp 9999999"
  "daemon role|daemon start leader --mcast-interface lo"
  "syncid range|daemon start master --mcast-interface lo --syncid 256"
  "unknown option|vs add -t 192.0.2.2:80 --frobnicate"
  "restore: bad line among 1000|restore /tmp/big.conf"
  "restore: CRLF file with a bad weight|restore /tmp/crlf.conf"
  "restore: binary data|restore /tmp/bin.conf"
  "restore: a directory|restore /tmp/adir"
  "restore: missing file|restore /tmp/does-not-exist"
  "apply: command not allowed in files|apply /tmp/notallowed.conf"
)
echo "clear" > /tmp/notallowed.conf
for c in "${cases[@]}"; do
  name=${c%%|*}; args=${c#*|}
  err=$(eval "nsx bi $L $args" 2>&1 >/dev/null); rc=$?
  lines=$(printf '%s\n' "$err" | grep -c .)
  if [ $rc -eq 2 ] && [ "$lines" -eq 1 ]; then ok "bad input ($name): ${err:0:150}"; else bad "bad input ($name)" "rc=$rc lines=$lines: ${err:0:300}"; fi
done
err=$(nsx bi $L restore /tmp/big.conf 2>&1)
case "$err" in *"/tmp/big.conf:500:"*) ok "restore names FILE:LINE of the bad line";; *) bad "restore names FILE:LINE of the bad line" "$err";; esac
same "bad input changed nothing (IPVS, thresholds, mangle, timeouts)" "$before" "$(snap)"

# Kernel refusals: exit 1, clear words, nothing changed.
expect_rc "duplicate service: exit 1" 1 nsx bi $L vs add -t 192.0.2.1:80
err=$(nsx bi $L vs add -t 192.0.2.1:80 2>&1)
same "duplicate service wording" "lvsctl: add service -t 192.0.2.1:80: service already exists" "$err"
err=$(nsx bi $L vs add -t 192.0.2.3:80 -s nosuch 2>&1)
same "unknown scheduler wording" "lvsctl: add service -t 192.0.2.3:80: scheduler 'nosuch' not available (module ip_vs_nosuch missing?)" "$err"
err=$(nsx bi $L rs delete -t 192.0.2.1:80 -r 198.51.100.99 2>&1)
same "missing destination wording" "lvsctl: delete real server 198.51.100.99:80 from -t 192.0.2.1:80: no such destination" "$err"
err=$(nsx bi $L vs delete -t 192.0.2.99:80 2>&1)
same "missing service wording" "lvsctl: delete service -t 192.0.2.99:80: no such service" "$err"
# Lookups of a missing service name what was asked (list), not a request that was never sent.
err=$(nsx bi $L list -t 192.0.2.99:80 2>&1); rc=$?
same "list of a missing service: exit 1 and its wording" "1 lvsctl: list -t 192.0.2.99:80: no such service" "$rc $err"
err=$(nsx bi $L vs edit -t 192.0.2.99:80 -s rr 2>&1); rc=$?
same "edit of a missing service: exit 1 and its wording" "1 lvsctl: edit service -t 192.0.2.99:80: no such service" "$rc $err"
err=$(nsx bi $L persistence set -t 192.0.2.99:80 --timeout 60 2>&1); rc=$?
same "persistence set of a missing service: exit 1 and its wording" "1 lvsctl: edit service -t 192.0.2.99:80: no such service" "$rc $err"
same "refusals changed nothing" "$before" "$(snap)"

# A kernel refusal at line 500 of a 1000-line restore rolls back to exactly the state found.
{ for i in $(seq 1 999); do echo "vs add -t 192.0.2.$((i % 250 + 1)):$((i + 1000)) -s rr"; done; } > /tmp/big2.conf
sed -i '500s/-s rr/-s nosuchsched/' /tmp/big2.conf
out=$(nsx bi $L restore /tmp/big2.conf 2>&1); rc=$?
same "refusal mid-restore: exit 1" "1" "$rc"
case "$out" in *"/tmp/big2.conf:500:"*"rolled back"*) ok "refusal mid-restore names line 500 and says rolled back";; *) bad "refusal mid-restore message" "$out";; esac
same "refusal mid-restore: IPVS and mangle exactly as before" "$before" "$(snap)"

# Without CAP_NET_ADMIN: a clear message and exit 1.
if command -v setpriv >/dev/null; then
  out=$(nsx bi setpriv --reuid 65534 --regid 65534 --clear-groups $L list 2>&1); rc=$?
  case "$out" in *"needs CAP_NET_ADMIN (run as root)"*) [ $rc -eq 1 ] && ok "unprivileged list: needs CAP_NET_ADMIN, exit 1" || bad "unprivileged exit" "$rc $out";; *) bad "unprivileged list message" "rc=$rc $out";; esac
fi
summary

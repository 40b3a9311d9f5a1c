#!/usr/bin/env bash
# Every kernel-facing command run without CAP_NET_ADMIN, two ways:
#   nobody: setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all (an unprivileged user);
#   root-cap: root with CAP_NET_ADMIN removed from the bounding set before exec (setpriv --bounding-set=-net_admin),
#             so file permissions are no obstacle and only the missing capability is.
# Each run: exit 1, exactly one stderr line, containing "needs CAP_NET_ADMIN (run as root)"; and the namespace's
# IPVS table, iptables/ip6tables rules, arp sysctls and addresses are unchanged afterwards.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
NS=nocap
new_ns $NS
nsx $NS ip link add d0 type dummy && nsx $NS ip link set d0 up
nsx $NS ip addr add 192.0.2.1/24 dev d0
nsx $NS ipvsadm -A -t 192.0.2.1:80 -s rr
nsx $NS ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.2 -m -w 3
nsx $NS $L bundle add web --vip 192.0.2.10 --ports 80,443 -s rr >/dev/null
nsx $NS $L dr setup --vip 192.0.2.20 >/dev/null
nsx $NS ipvsadm --start-daemon master --mcast-interface d0

snap() {
  ip netns exec $NS bash -c '
  ipvsadm -Sn; ipvsadm -Ln --thresholds; ipvsadm -L --timeout; ipvsadm -L --daemon
  iptables-legacy-save | grep -v "^#" | sed "s/ \[[0-9]*:[0-9]*\]\$//"
  ip6tables-legacy-save | grep -v "^#" | sed "s/ \[[0-9]*:[0-9]*\]\$//"
  grep . /proc/sys/net/ipv4/conf/*/arp_ignore /proc/sys/net/ipv4/conf/*/arp_announce /proc/sys/net/ipv4/vs/*
  ip -o addr'
}
before=$(snap); orig=$before
D=/tmp/nocap; rm -rf $D; mkdir -p $D; chmod 755 $D
printf 'vs add -t 192.0.2.9:80 -s rr\nrs add -t 192.0.2.9:80 -r 198.51.100.9 -m\n' > $D/new.conf
chmod 644 $D/new.conf

cmds=(
  "vs add -t 192.0.2.2:80 -s rr"
  "vs edit -t 192.0.2.1:80 -s wlc"
  "vs delete -t 192.0.2.1:80"
  "rs add -t 192.0.2.1:80 -r 198.51.100.3 -m"
  "rs edit -t 192.0.2.1:80 -r 198.51.100.2 -m -w 5"
  "rs delete -t 192.0.2.1:80 -r 198.51.100.2"
  "list"
  "list --json"
  "zero"
  "zero -t 192.0.2.1:80"
  "clear"
  "timeout show"
  "timeout set --tcp 100"
  "sysctl show"
  "sysctl set expire_nodest_conn=1"
  "daemon start backup --mcast-interface d0"
  "daemon stop master"
  "daemon show"
  "connections"
  "info"
  "bundle add api --vip 192.0.2.11 --ports 8080"
  "bundle delete web"
  "bundle list"
  "persistence set -t 192.0.2.1:80 --timeout 60"
  "persistence clear -t 192.0.2.1:80"
  "persistence show"
  "save"
  "save --format ipvsadm"
  "restore $D/new.conf"
  "restore --no-flush $D/new.conf"
  "apply $D/new.conf"
  "dr setup --vip 192.0.2.30"
  "dr teardown --vip 192.0.2.20"
  "dr status"
)
modes=(
  "nobody|setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
  "root-cap|setpriv --bounding-set=-net_admin --inh-caps=-net_admin"
)
for c in "${cmds[@]}"; do
  for m in "${modes[@]}"; do
    mode=${m%%|*}; pre=${m#*|}
    err=$(ip netns exec $NS $pre $L $c 2>&1 >/dev/null </dev/null); rc=$?
    if [ "$mode $c" == "root-cap dr status" ]; then
      # By design: dr status only reads sysctls, addresses and lvsctl's state file, all readable by root without
      # CAP_NET_ADMIN (as user nobody it cannot open lvsctl's lock and is refused like the rest).
      [ $rc -eq 0 ] && [ -z "$err" ] && ok "$mode: $c: read-only, succeeds without CAP_NET_ADMIN" || bad "$mode: $c" "rc=$rc $err"
      continue
    fi
    lines=$(printf '%s' "$err" | grep -c '')
    if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && [[ $err == *"needs CAP_NET_ADMIN (run as root)"* ]]; then ok "$mode: $c: $err"
    else bad "$mode: $c" "rc=$rc lines=$lines: ${err:0:400}"; fi
  done
  after=$(snap)
  if [ "$after" != "$before" ]; then same "without CAP_NET_ADMIN, '$c' changed nothing" "$before" "$after"; before=$after; fi
done
echo "# ${#cmds[@]} commands x ${#modes[@]} ways"
same "without CAP_NET_ADMIN nothing changed (IPVS, daemons, iptables/ip6tables, arp sysctls, addresses)" "$orig" "$(snap)"
rm -rf $D
# Stop the sync daemon and empty the namespace before it is deleted, so its teardown is quick (t-zz-nomodule, after
# this file, needs every ip_vs module free).
nsx $NS ipvsadm --stop-daemon master; nsx $NS $L bundle delete web >/dev/null; nsx $NS ipvsadm -C
summary

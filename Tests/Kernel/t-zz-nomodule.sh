#!/usr/bin/env bash
# IPVS not loaded and not loadable (issue #9): every command that needs IPVS exits 1 with one line saying so, and
# changes nothing. The ip_vs modules are unloaded for the test and loaded again at its end; the file name sorts it
# last in its VM, after every other test of that VM.
. "$(dirname "$0")/lib.sh"

unload_ipvs() {  # rmmod every ip_vs module, dependants first; netns cleanup is asynchronous, so retry for a while
  # (up to 2 minutes: under a slow VM the namespaces earlier tests deleted may still be being torn down)
  local i
  for i in $(seq 1 240); do
    # ip_vs, its schedulers and helpers, and every module using ip_vs (xt_ipvs)
    local mods; mods=$(awk '$1 ~ /^ip_vs/ {print $1} $1 == "ip_vs" {n=split($4, u, ","); for (i = 1; i <= n; i++) if (u[i] != "" && u[i] != "-") print u[i]}' /proc/modules)
    [ -z "$mods" ] && return 0
    for m in $mods; do rmmod "$m" 2>/dev/null; done
    sleep 0.5
  done
  return 1
}
loaded=$(awk '$1 ~ /^ip_vs/ || $1 == "xt_ipvs" {print $1}' /proc/modules)
if unload_ipvs; then ok "ip_vs and its modules unloaded"
else
  bad "ip_vs and its modules unloaded" "$(grep ip_vs /proc/modules; echo "IPVS connections in the root namespace: $(($(wc -l < /proc/net/ip_vs_conn 2>/dev/null || echo 1) - 1))"; ip netns list)"
  summary; exit 1
fi

new_ns nomod
# Nothing can load IPVS: the kernel's own request_module (a generic-netlink family lookup asks for
# net-pf-16-proto-16-family-IPVS) runs /proc/sys/kernel/modprobe, set to /bin/false for the test, and lvsctl's
# `modprobe ip_vs` runs in a private mount namespace where /bin/false stands in for modprobe.
kernel_modprobe=$(cat /proc/sys/kernel/modprobe)
echo /bin/false > /proc/sys/kernel/modprobe
modprobe_bin=$(readlink -f /sbin/modprobe)
nomod() { nsx nomod unshare -m sh -c 'mount --bind /bin/false "$0" && exec "$@"' "$modprobe_bin" "$@"; }
printf 'vs add -t 192.0.2.1:80 -s rr\n' > /tmp/nomod.conf
before=$(nsx nomod iptables-legacy-save 2>/dev/null | grep -v '^#')
for cmd in "list" "list --json" "vs add -t 192.0.2.1:80 -s rr" "rs add -t 192.0.2.1:80 -r 198.51.100.2" "save" \
           "save --format ipvsadm" "restore /tmp/nomod.conf" "apply /tmp/nomod.conf" "timeout show" "info" "zero" "clear" \
           "daemon show" "connections" "persistence show" "bundle add web --vip 192.0.2.10 --ports 80,443" "bundle list" \
           "sysctl show" "sysctl set expire_nodest_conn=1"; do
  out=$(nomod "$LVSCTL" $cmd 2>&1 >/dev/null); rc=$?
  if [ "$rc" == 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" == 1 ] && [[ $out == lvsctl:*"IPVS is not available"* ]]; then
    ok "no IPVS: lvsctl $cmd: exit 1, one line"
  else
    bad "no IPVS: lvsctl $cmd: exit 1, one line" "exit $rc: $out"
  fi
done
grep -q '^ip_vs ' /proc/modules && bad "modprobe was not run for real" "ip_vs is loaded again" || ok "ip_vs stayed unloaded (modprobe failed)"
same "no IPVS: the firewall tables are unchanged" "$before" "$(nsx nomod iptables-legacy-save 2>/dev/null | grep -v '^#')"

# Load everything again for whatever runs after.
echo "$kernel_modprobe" > /proc/sys/kernel/modprobe
modprobe ip_vs
for m in $loaded; do modprobe "$m" 2>/dev/null; done
grep -q '^ip_vs ' /proc/modules && ok "ip_vs loaded again" || bad "ip_vs loaded again"
nsx nomod "$LVSCTL" list > /dev/null && ok "lvsctl works again once ip_vs is back" || bad "lvsctl works again once ip_vs is back"
summary

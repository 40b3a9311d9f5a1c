#!/usr/bin/env bash
# Two directors, one VIP (issue #20, Documentation/high-availability.md, end to end): keepalived (Debian's package)
# for VRRP only, lvsctl for the IPVS table from ONE shared file on both directors, and the kernel's connection sync
# daemon (master and backup on both) so an established connection survives the failover. Five namespaces on one
# bridge: a client, two directors, two direct-routing real servers. The client holds one TCP connection to the VIP
# through the master and sends a line every 0.2 s; the master's keepalived is stopped; the backup takes the VIP, the
# same connection keeps working and reaches the same real server, and new connections are balanced by the backup.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
T=$(mktemp -d)
SRV="python3 $REPO/Tests/Kernel/monitor-server.py"
VIP=192.0.2.10
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  cleanup_ns; rm -rf "$T"
}
trap cleanup EXIT
command -v keepalived > /dev/null || { bad "keepalived is not installed (make deps installs it)"; summary; exit 1; }

new_ns ha-sw
nsx ha-sw ip link add br0 type bridge
nsx ha-sw ip link set br0 up
i=0
for n in c d1 d2 r1 r2; do
  new_ns ha-$n
  ip link add v-$n netns ha-sw type veth peer name eth0 netns ha-$n
  nsx ha-sw ip link set v-$n master br0 up
  nsx ha-$n ip link set eth0 up
done
nsx ha-c ip addr add 192.0.2.100/24 dev eth0
nsx ha-d1 ip addr add 192.0.2.2/24 dev eth0
nsx ha-d2 ip addr add 192.0.2.3/24 dev eth0
nsx ha-r1 ip addr add 192.0.2.11/24 dev eth0
nsx ha-r2 ip addr add 192.0.2.12/24 dev eth0

# bg NS CMD...: a background process whose PID is its own (no subshell).
bg() { local n=$1; shift; ip netns exec "$n" "$@" & PIDS+=($!); }
waitfile() { for _ in $(seq 1 100); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# The real servers: accept the VIP, never answer ARP for it; answer every line with their name.
for r in 1 2; do
  expect_rc "rs$r: dr setup --vip $VIP" 0 $L --netns ha-r$r dr setup --vip $VIP
  bg ha-r$r $SRV name 0.0.0.0 80 rs$r > "$T/r$r.out"
  waitfile "$T/r$r.out" || bad "rs$r server did not start"
done

# One file for both directors: the service, its real servers, and both sync daemons (each director sends the
# connections it handles and receives the other's).
cat > "$T/lvsctl.conf" <<EOF
vs add -t $VIP:80 -s rr
rs add -t $VIP:80 -r 192.0.2.11:80 -g
rs add -t $VIP:80 -r 192.0.2.12:80 -g
daemon start master --mcast-interface eth0 --syncid 51
daemon start backup --mcast-interface eth0 --syncid 51
EOF
for d in 1 2; do
  expect_rc "d$d: lvsctl restore of the shared file" 0 $L --netns ha-d$d restore "$T/lvsctl.conf"
done
same "both directors: the same table" "$(nsx ha-d1 ipvsadm -Sn)" "$(nsx ha-d2 ipvsadm -Sn)"
grep -q "master sync daemon" <<< "$(nsx ha-d2 ipvsadm -L --daemon)" && grep -q "backup sync daemon" <<< "$(nsx ha-d2 ipvsadm -L --daemon)" \
  && ok "sync daemons: master and backup on eth0, syncid 51" || bad "sync daemons" "$(nsx ha-d2 ipvsadm -L --daemon)"

# keepalived for VRRP only (-P): d1 MASTER priority 150, d2 BACKUP priority 100, one VIP.
for d in 1 2; do
  cat > "$T/k$d.conf" <<EOF
global_defs {
    router_id director$d
}
vrrp_instance VI_1 {
    state $([ $d = 1 ] && echo MASTER || echo BACKUP)
    interface eth0
    virtual_router_id 51
    priority $([ $d = 1 ] && echo 150 || echo 100)
    advert_int 1
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
}
EOF
  bg ha-d$d keepalived -n -l -P -f "$T/k$d.conf" -p "$T/k$d.pid" -r "$T/k$d-vrrp.pid" --no-syslog > "$T/k$d.log" 2>&1
  eval "K$d=\$!"
  sleep 0.2
done
has_vip() { nsx "$1" ip -4 addr show dev eth0 | grep -q " $VIP/"; }
for _ in $(seq 1 100); do has_vip ha-d1 && break; sleep 0.1; done
has_vip ha-d1 && ! has_vip ha-d2 && ok "VRRP: d1 holds the VIP" || bad "VRRP: d1 should hold the VIP" "$(nsx ha-d1 ip -4 addr; nsx ha-d2 ip -4 addr)"

# The client's connection through d1.
bg ha-c $SRV client $VIP 80 "$T/client.log" "$T/stop" > "$T/c.out"
waitfile "$T/c.out" && ok "client: connected to $VIP:80 through d1" || bad "client did not connect"
sleep 3   # a few lines, and the sync daemon's flush (every 2 s at the latest)
first=$(head -1 "$T/client.log")
case "$first" in rs1|rs2) ok "client: answered by $first";; *) bad "client: first answer '$first'";; esac
nsx ha-d2 ipvsadm -Lnc | grep -q "192.0.2.100:.* $VIP:80 .*192.0.2.1[12]:80" \
  && ok "d2 (backup) holds the client's connection, synced from d1" || bad "d2 has no synced connection" "$(nsx ha-d2 ipvsadm -Lnc)"

# Failover: stop the master's keepalived.
lines_before=$(wc -l < "$T/client.log")
kill -TERM "$K1"; wait "$K1" 2>/dev/null
for _ in $(seq 1 100); do has_vip ha-d2 && break; sleep 0.1; done
has_vip ha-d2 && ! has_vip ha-d1 && ok "failover: d2 took the VIP" || bad "failover: VIP not on d2" "$(nsx ha-d1 ip -4 addr; nsx ha-d2 ip -4 addr)"
sleep 3
touch "$T/stop"; sleep 0.5
after=$(tail -n +"$((lines_before + 1))" "$T/client.log")
n_after=$(grep -c . <<< "$after")
if [ "$n_after" -ge 5 ] && ! grep -qv "^$first$" <<< "$after"; then
  ok "the same connection kept working after the failover ($n_after more answers, all from $first)"
else
  bad "the connection after the failover" "$(tail -20 "$T/client.log")"
fi
nsx ha-d2 ipvsadm -Ln --stats | awk '/^  -> 192.0.2.1/ {p+=$4} END {exit p>0 ? 0 : 1}' \
  && ok "d2 forwarded the connection's packets after the failover" || bad "d2 forwarded nothing" "$(nsx ha-d2 ipvsadm -Ln --stats)"

# New connections are balanced by d2.
got=""
for _ in 1 2 3 4; do got+="$(nsx ha-c timeout 5 bash -c "exec 3<>/dev/tcp/$VIP/80; echo x >&3; head -1 <&3" 2>/dev/null) "; done
[[ $got == *rs1* && $got == *rs2* ]] && ok "new connections through d2 reach both real servers: $got" || bad "new connections through d2: '$got'"
summary

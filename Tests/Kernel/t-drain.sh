#!/usr/bin/env bash
# lvsctl rs drain / rs undrain (issue #20) against the real kernel, with live traffic through a NAT director:
# namespaces c (client 192.0.2.100), d (director, VIP 192.0.2.10, 198.51.100.1 on a bridge) and r1, r2 (real servers
# 198.51.100.11/.12, echo servers on TCP 80 and 8080 and UDP 53, python). Cases, run side by side where they can:
# TCP connections held open (drain waits; once they close, exit 0), a UDP flow (with --remove), a persistence
# template (the drain outlives the connection until the template expires), --timeout (exit 1, weight 0 left, counts
# named), SIGINT, save while drained, undrain, bad input, a missing server, rs delete dropping the record, and a
# running monitor that keeps a drained server at 0 though its check passes until it is undrained.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
T=$(mktemp -d)
VIP=192.0.2.10
R1=198.51.100.11; R2=198.51.100.12
export LVSCTL_DRAIN_STATE=$T/drain.json LVSCTL_MONITOR_STATE=$T/monitor.json
PIDS=()
MONPID=

cleanup() {
  [ -n "$MONPID" ] && kill -9 "$MONPID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  cleanup_ns; rm -rf "$T"
}
trap cleanup EXIT

# --- the lab -----------------------------------------------------------------------------------------------
for n in c d r1 r2; do new_ns $n; done
ip link add veth-c type veth peer name eth0 netns c
ip link set veth-c netns d
nsx d ip link add br0 type bridge
nsx d ip link set br0 up
nsx d ip addr add 198.51.100.1/24 dev br0
for n in r1 r2; do
  ip link add veth-$n type veth peer name eth0 netns $n
  ip link set veth-$n netns d
  nsx d ip link set veth-$n master br0 up
  nsx $n ip link set eth0 up
done
nsx d ip addr add 192.0.2.1/24 dev veth-c
nsx d ip addr add $VIP/32 dev veth-c
nsx d ip link set veth-c up
nsx d sysctl -qw net.ipv4.ip_forward=1
nsx c ip addr add 192.0.2.100/24 dev eth0
nsx c ip link set eth0 up
nsx r1 ip addr add $R1/24 dev eth0; nsx r1 ip route add default via 198.51.100.1
nsx r2 ip addr add $R2/24 dev eth0; nsx r2 ip route add default via 198.51.100.1

cat > "$T/server.py" <<'PY'
# Echo servers: TCP 80 and 8080 (each connection held until the client ends it), UDP 53.
import socket, threading
def serve(c):
    try:
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(d)
    except OSError: pass
    c.close()
def tcp(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("", port)); s.listen(64)
    while True:
        c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("", port))
    while True:
        d, a = s.recvfrom(4096); s.sendto(d, a)
for f, p in ((tcp, 80), (tcp, 8080), (udp, 53)): threading.Thread(target=f, args=(p,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
PY
cat > "$T/hold.py" <<'PY'
# hold.py tcp PORT N STOPFILE: N connections to the VIP, each echoing once, held until STOPFILE exists, then reset
# (RST: the kernel's entry goes to CLOSE, 10 s, rather than TIME_WAIT, 2 minutes).
# hold.py udp PORT 1 STOPFILE: one UDP flow (one source port), a datagram every 0.3 s until STOPFILE exists.
import os, socket, struct, sys, time
kind, port, n, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if kind == "tcp":
    socks = []
    for _ in range(n):
        s = socket.create_connection(("192.0.2.10", port), timeout=5); s.sendall(b"hi"); assert s.recv(16) == b"hi"
        socks.append(s)
    print("ready", flush=True)
    while not os.path.exists(stop): time.sleep(0.05)
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); s.connect(("192.0.2.10", port))
    first = True
    while not os.path.exists(stop):
        s.send(b"x")
        try:
            s.recv(16)
            if first: print("ready", flush=True); first = False
        except socket.timeout: pass
        time.sleep(0.3)
print("closed", flush=True)
PY
for n in r1 r2; do
  ip netns exec $n python3 "$T/server.py" > "$T/$n.out" 2>&1 &
  PIDS+=($!)
done

# Services: the drained server r1 carries all the traffic (r2 at weight 0 where it is present).
cat > "$T/lab.conf" <<EOF
vs add -t $VIP:80 -s rr
rs add -t $VIP:80 -r $R1 -m -w 5
rs add -t $VIP:80 -r $R2 -m -w 0
vs add -t $VIP:8080 -s rr -p 20
rs add -t $VIP:8080 -r $R1 -m -w 2
vs add -u $VIP:53 -s rr
rs add -u $VIP:53 -r $R1 -m -w 1
timeout set --udp 2
EOF
nsx d $L restore "$T/lab.conf"

# wait_for DESC SECONDS CMD...: polls every 0.1 s until CMD succeeds.
wait_for() {
  local desc=$1 limit=$2; shift 2
  local t0=$EPOCHREALTIME
  while ! "$@" > /dev/null 2>&1; do
    if (( $(echo "$EPOCHREALTIME - $t0 > $limit" | bc) )); then bad "$desc (not within ${limit}s)"; return 1; fi
    sleep 0.1
  done
  ok "$desc ($(printf '%.1f' "$(echo "$EPOCHREALTIME - $t0" | bc)")s)"
}
w_of() { nsx d ipvsadm -Sn | awk -v s="$1" -v r="$2" '$3==s && $5==r {print $NF}'; }
is_w() { [ "$(w_of "$1" "$2")" = "$3" ]; }
running() { kill -0 "$1" 2>/dev/null; }
ready_file() { grep -q ready "$1" 2>/dev/null; }
servers_ready() { ready_file "$T/r1.out" && ready_file "$T/r2.out"; }
recorded() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(sorted(s["service"].replace(" ","")+"/"+s["server"]+"="+str(s["weight"]) for s in d["servers"])))' "$LVSCTL_DRAIN_STATE" 2>/dev/null; }
# conn_lines SERVICE_PORT: the connection-table lines of r1 for VIP:PORT (ipvsadm -Lnc).
conn_lines() { nsx d ipvsadm -Lnc | awk -v v="$VIP:$1" -v r="$R1:" '$5==v && index($6, r)==1'; }
# A template has client port 0 (its state is NONE or ASSURED).
templates() { conn_lines "$1" | awk '$4 ~ /:0$/' | wc -l; }
tpl_only() { local l; l=$(conn_lines 8080); [ -n "$l" ] && [ "$(wc -l <<< "$l")" = "$(templates 8080)" ]; }
wait_for "real servers listening" 10 servers_ready

# --- live traffic, then three drains side by side -------------------------------------------------------
ip netns exec c python3 "$T/hold.py" tcp 80 2 "$T/stop80" > "$T/h80.out" 2>&1 & PIDS+=($!)
ip netns exec c python3 "$T/hold.py" tcp 8080 1 "$T/stop8080" > "$T/h8080.out" 2>&1 & PIDS+=($!)
ip netns exec c python3 "$T/hold.py" udp 53 1 "$T/stop53" > "$T/h53.out" 2>&1 & PIDS+=($!)
wait_for "client: 2 TCP connections to :80, 1 to :8080 (persistent), a UDP flow to :53" 10 \
  bash -c "grep -q ready '$T/h80.out' && grep -q ready '$T/h8080.out' && grep -q ready '$T/h53.out'"
same "connection table: 2 ESTABLISHED to r1 on :80" "2" "$(conn_lines 80 | grep -c ESTABLISHED)"
same "connection table: a connection and its template on :8080" "1 1" \
  "$(conn_lines 8080 | grep -c ESTABLISHED) $(templates 8080)"
same "ipvsadm -Ln: the UDP flow is not active (0 ActiveConn)" "0" \
  "$(nsx d ipvsadm -Ln -u $VIP:53 | awk -v r="$R1:53" '$2==r {print $5}')"

ip netns exec d $L rs drain -t $VIP:80 -r $R1 > "$T/d80.out" 2>&1 & D80=$!; PIDS+=($D80)
ip netns exec d $L rs drain -t $VIP:8080 -r $R1 > "$T/d8080.out" 2>&1 & D8080=$!; PIDS+=($D8080)
ip netns exec d $L rs drain -u $VIP:53 -r $R1 --remove > "$T/d53.out" 2>&1 & D53=$!; PIDS+=($D53)
# --timeout: exit 1, the remaining counts named on one line, the server left at weight 0.
out=$(nsx d $L rs drain -t $VIP:8080 -r $R1 --timeout 0.5 2>&1); rc=$?
same "--timeout 0.5, persistent service: the template is counted" \
  "1 lvsctl: rs $R1:8080 of -t $VIP:8080 not drained after 0.5 s: 1 active, 1 persistence template" "$rc $out"
# The :8080 connection closes now (reset: its entry goes to CLOSE, 10 s). Its template, created with the
# connection, expires 20 s (-p 20) after it, as its connection is gone by then: the drain outlives the connection.
# (A template whose timeout passes while a connection is still open is given 60 s more by the kernel.)
touch "$T/stop8080"
t8080=$EPOCHREALTIME
# Watch, beside the rest, for the drain waiting on the template alone.
( while running $D8080; do tpl_only && running $D8080 && echo yes > "$T/tpl-seen"; sleep 0.2; done ) & PIDS+=($!)
wait_for "drain: weight 0 at once, on all three" 3 \
  bash -c "[ \"\$(ip netns exec d ipvsadm -Sn | grep -c -- '-r $R1:[0-9]* -m -w 0')\" = 3 ]"
wait_for "drain: the weights recorded in the drain state file" 3 \
  bash -c "[ \"\$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))[\"servers\"]))' $LVSCTL_DRAIN_STATE 2>/dev/null)\" = 3 ]"
same "drain state: service, server, weight before" "-t192.0.2.10:80/$R1:80=5 -t192.0.2.10:8080/$R1:8080=2 -u192.0.2.10:53/$R1:53=1" "$(recorded)"

out=$(nsx d $L rs drain -t $VIP:80 -r $R1 --timeout 1 2>&1); rc=$?
same "--timeout 1 with 2 connections open: exit 1 and the counts" \
  "1 lvsctl: rs $R1:80 of -t $VIP:80 not drained after 1 s: 2 active" "$rc $out"
# On a terminal (script(1) gives it one): a progress line rewritten in place, then the same message.
out=$(script -qec "ip netns exec d $L rs drain -t $VIP:80 -r $R1 --timeout 0.6" /dev/null | tr '\r' '|'; exit "${PIPESTATUS[0]}"); rc=$?
grep -qF "|draining rs $R1:80 of -t $VIP:80: 2 active (0 s of 0.6)" <<< "$out" && grep -qF "not drained after 0.6 s: 2 active" <<< "$out" \
  && [ $rc = 1 ] && ok "on a terminal: a progress line with the counts, updated in place" || bad "progress on a terminal (exit $rc)" "$out"
out=$(nsx d $L rs drain -u $VIP:53 -r $R1 --timeout 0 2>&1); rc=$?
same "--timeout 0 on the UDP service: the flow is counted" "1 lvsctl: rs $R1:53 of -u $VIP:53 not drained after 0 s: 1 UDP flow" "$rc $out"
is_w $VIP:80 $R1:80 0 && ok "--timeout: weight 0 left" || bad "--timeout: weight $(w_of $VIP:80 $R1:80)"
same "--timeout: the recorded weight kept (a second drain does not record 0)" "5" \
  "$(python3 -c 'import json,sys; print([s["weight"] for s in json.load(open(sys.argv[1]))["servers"] if s["server"]==sys.argv[2]][0])' "$LVSCTL_DRAIN_STATE" $R1:80)"

# SIGINT while waiting: exit 130, left drained.
# (A background job of this shell starts with SIGINT ignored: wait until lvsctl has blocked it for its signalfd,
# from which it reads it all the same.)
ip netns exec d $L rs drain -t $VIP:80 -r $R1 > "$T/dint.out" 2>&1 & DINT=$!
sig_blocked() { local m; m=$(awk '/^SigBlk/ {print $2}' "/proc/$1/status") && (( 0x$m & 2 )); }
wait_for "SIGINT: the drain has blocked SIGINT (it reads it from a signalfd)" 5 sig_blocked $DINT
kill -INT $DINT
for _ in $(seq 1 30); do running $DINT || break; sleep 0.1; done
running $DINT && { kill -TERM $DINT; echo "(SIGINT did not end it; SIGTERM sent)" >> "$T/dint.out"; }
wait $DINT; rc=$?
same "SIGINT while waiting: exit 130, one line saying it is left drained" \
  "130 lvsctl: interrupted: rs $R1:80 of -t $VIP:80 left drained at weight 0 (2 active); 'lvsctl rs undrain' puts it back" \
  "$rc $(cat "$T/dint.out")"

# save while drained (no monitor): the recorded weights, not the kernel's 0s.
saved=$(nsx d $L save 2>&1)
grep -q -- "^rs add -t $VIP:80 -r $R1:80 -m -w 5$" <<< "$saved" && grep -q -- "^rs add -t $VIP:8080 -r $R1:8080 -m -w 2$" <<< "$saved" \
  && ok "save while drained: the recorded weights" || bad "save while drained" "$saved"
grep -q -- "-r $R2:80 -m -w 0$" <<< "$saved" && ok "save: a server at weight 0 by hand stays 0" || bad "save: r2" "$saved"
same "save --format ipvsadm: what the kernel holds" "0" "$(nsx d $L save --format ipvsadm | awk -v r="$R1:80" '$5==r {print $NF}')"

running $D80 && running $D53 && ok "the :80 and UDP drains still wait while traffic flows" \
  || bad "a drain ended early" "$(cat "$T"/d*.out)"
[ ! -s "$T/d80.out" ] && ok "no progress line on a pipe" || bad "output on a pipe" "$(cat "$T/d80.out")"

# The UDP flow stops: its entry expires (udp timeout 2 s), the drain ends and --remove deletes the server. The :80
# connections close at the same time (reset: CLOSE, 10 s in the kernel's table).
touch "$T/stop53" "$T/stop80"
t0=$EPOCHREALTIME; t80=$t0
wait $D53; rc=$?
el=$(echo "$EPOCHREALTIME - $t0" | bc)
[ $rc = 0 ] && ok "UDP flow stopped: drain exit 0 after its entry expired ($(printf '%.1f' $el)s)" || bad "UDP drain: exit $rc" "$(cat "$T/d53.out")"
(( $(echo "$el > 1.5" | bc) )) && ok "UDP: it waited for the entry to expire" || bad "UDP: ended after ${el}s, before the entry could expire"
[ -z "$(nsx d ipvsadm -Sn | grep -- "^-a -u $VIP:53 ")" ] && ok "--remove: the server is deleted" || bad "--remove" "$(nsx d ipvsadm -Sn)"
grep -q "$R1:53" "$LVSCTL_DRAIN_STATE" && bad "--remove: record left" "$(cat "$LVSCTL_DRAIN_STATE")" || ok "--remove: its record dropped"

# The :80 drain ends once the closed connections' entries expire; the :8080 one once the template has gone too.
e80=; e8080=
while running $D80 || running $D8080; do
  [ -z "$e80" ] && ! running $D80 && e80=$(echo "$EPOCHREALTIME - $t80" | bc)
  [ -z "$e8080" ] && ! running $D8080 && e8080=$(echo "$EPOCHREALTIME - $t8080" | bc)
  (( $(echo "$EPOCHREALTIME - $t80 > 90" | bc) )) && break
  sleep 0.2
done
[ -z "$e80" ] && e80=$(echo "$EPOCHREALTIME - $t80" | bc)
[ -z "$e8080" ] && e8080=$(echo "$EPOCHREALTIME - $t8080" | bc)
wait $D80; rc80=$?; wait $D8080; rc8080=$?
[ $rc80 = 0 ] && ok "TCP connections closed: drain exit 0 ($(printf '%.1f' $e80)s after the close)" || bad "TCP drain: exit $rc80" "$(cat "$T/d80.out")"
(( $(echo "$e80 > 8" | bc) )) && ok "TCP: it waited for the closed connections' entries (CLOSE, 10 s)" || bad "TCP: ended ${e80}s after the close"
[ $rc8080 = 0 ] && ok "persistent service: drain exit 0 ($(printf '%.1f' $e8080)s after the close)" || bad "persistent drain: exit $rc8080" "$(cat "$T/d8080.out")"
[ -e "$T/tpl-seen" ] && ok "persistent service: still waiting while only the template was left" \
  || bad "persistent service: never saw the drain wait on the template alone"
same "drained: nothing of r1 left in the connection table" "" "$(conn_lines 80; conn_lines 8080)"
is_w $VIP:80 $R1:80 0 && is_w $VIP:8080 $R1:8080 0 && ok "drained without --remove: left at weight 0" \
  || bad "drained: weights" "$(nsx d ipvsadm -Sn)"
same "drained without --remove: still recorded" "-t192.0.2.10:80/$R1:80=5 -t192.0.2.10:8080/$R1:8080=2" "$(recorded)"

# undrain: the recorded weight back, the record dropped; a second undrain is refused.
expect_rc "undrain :80: exit 0" 0 nsx d $L rs undrain -t $VIP:80 -r $R1
is_w $VIP:80 $R1:80 5 && ok "undrain: weight 5 back" || bad "undrain: weight $(w_of $VIP:80 $R1:80)"
out=$(nsx d $L rs undrain -t $VIP:80 -r $R1 2>&1); rc=$?
same "undrain again: exit 1, not drained" "1 lvsctl: rs $R1:80 of -t $VIP:80 is not drained" "$rc $out"
expect_rc "undrain :8080 (port from the service): exit 0" 0 nsx d $L rs undrain -t $VIP:8080 -r $R1
is_w $VIP:8080 $R1:8080 2 && ok "undrain :8080: weight 2 back" || bad "undrain :8080: weight $(w_of $VIP:8080 $R1:8080)"
[ ! -e "$LVSCTL_DRAIN_STATE" ] && ok "nothing drained: no state file" || bad "state file left" "$(cat "$LVSCTL_DRAIN_STATE")"

# Bad input: exit 2, nothing changed. Missing service or server: exit 1, nothing changed.
before=$(nsx d ipvsadm -Sn)
expect_rc "bad --timeout: exit 2" 2 nsx d $L rs drain -t $VIP:80 -r $R1 --timeout soon
expect_rc "bad address: exit 2" 2 nsx d $L rs drain -t $VIP:80 -r 198.51.100.300
expect_rc "no service given: exit 2" 2 nsx d $L rs drain -r $R1
out=$(nsx d $L rs drain -t $VIP:80 -r 198.51.100.99 2>&1); rc=$?
same "a server that does not exist: exit 1" "1 lvsctl: rs drain -t $VIP:80: no real server 198.51.100.99" "$rc $out"
out=$(nsx d $L rs drain -t $VIP:81 -r $R1 2>&1); rc=$?
same "a service that does not exist: exit 1" "1 lvsctl: rs drain -t $VIP:81: no such service" "$rc $out"
expect_rc "undrain of a server that does not exist: exit 1" 1 nsx d $L rs undrain -t $VIP:80 -r 198.51.100.99
same "bad input and missing servers: nothing changed" "$before" "$(nsx d ipvsadm -Sn)"
[ ! -e "$LVSCTL_DRAIN_STATE" ] && ok "... and nothing recorded" || bad "recorded" "$(cat "$LVSCTL_DRAIN_STATE")"

# A drain with nothing to wait for ends at once; rs delete drops the record.
expect_rc "drain with nothing to wait for: exit 0 at once" 0 nsx d $L rs drain -t $VIP:8080 -r $R1
nsx d $L rs delete -t $VIP:8080 -r $R1
[ ! -e "$LVSCTL_DRAIN_STATE" ] && ok "rs delete of a drained server drops its record" || bad "rs delete: record left" "$(cat "$LVSCTL_DRAIN_STATE")"

# --- a running monitor honours the drain ------------------------------------------------------------------
cat > "$T/m.conf" <<EOF
vs add -t $VIP:80 -s rr
rs add -t $VIP:80 -r $R1 -m -w 5
rs add -t $VIP:80 -r $R2 -m -w 3
check -t $VIP:80 -r $R2 --type tcp --interval 0.3 --timeout 0.5
EOF
ip netns exec d $L monitor "$T/m.conf" 2>> "$T/mon.log" & MONPID=$!
mon_ready() { python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["ready"] else 1)' "$LVSCTL_MONITOR_STATE"; }
wait_for "monitor: ready" 5 mon_ready
wait_for "monitor: r2's check passes: weight 3" 3 is_w $VIP:80 $R2:80 3
out=$(nsx d $L rs drain -t $VIP:80 -r $R2 --remove 2>&1); rc=$?
[ $rc = 1 ] && grep -qF "the monitor running here (pid $MONPID" <<< "$out" && is_w $VIP:80 $R2:80 3 && [ ! -e "$LVSCTL_DRAIN_STATE" ] \
  && ok "--remove of a server the monitor owns: refused, exit 1, nothing changed" || bad "--remove under the monitor: exit $rc" "$out"
expect_rc "drain under the monitor: exit 0 (no connections)" 0 nsx d $L rs drain -t $VIP:80 -r $R2
sleep 1.5  # more than one reconcile: the monitor would have put weight 3 back as drift by now
is_w $VIP:80 $R2:80 0 && ok "monitor: the drained server stays at 0 though its check passes" || bad "monitor: weight $(w_of $VIP:80 $R2:80)" "$(tail -5 "$T/mon.log")"
grep -q "rs $R2:80 of -t $VIP:80: drained (lvsctl rs drain): weight 0 until undrained" "$T/mon.log" \
  && ok "monitor: logs the drain" || bad "monitor: log" "$(tail -5 "$T/mon.log")"
st=$(nsx d $L monitor status 2>&1)
grep "$R2:80" <<< "$st" | grep -q drained && ok "monitor status: reason drained" || bad "monitor status" "$st"
grep -q -- "^rs add -t $VIP:80 -r $R2:80 -m -w 3$" <<< "$(nsx d $L save)" && ok "save under the monitor: the configured weight" \
  || bad "save under the monitor" "$(nsx d $L save)"
out=$(nsx d $L rs undrain -t $VIP:80 -r $R2 2>&1); rc=$?
[ $rc = 0 ] && grep -qF "the monitor (pid $MONPID) puts it back" <<< "$out" && ok "undrain under the monitor: exit 0, left to the monitor" \
  || bad "undrain under the monitor: exit $rc" "$out"
wait_for "monitor: undrained: weight 3 back" 2.5 is_w $VIP:80 $R2:80 3
kill -TERM $MONPID; wait $MONPID; MONPID=
summary

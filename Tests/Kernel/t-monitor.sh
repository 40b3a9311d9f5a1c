#!/usr/bin/env bash
# lvsctl monitor (issue #19) against the real kernel: real servers are python processes listening on addresses of a
# dummy interface in the test's namespace (the director's), so the checks cross the namespace's own stack; the table
# is read back with ipvsadm -Sn. Check kinds up and down with `monitor once`; the daemon: quiesce within
# interval x fall + timeout + 1 s of a death, back after rise, slow start in steps, --on-fail remove, a sorry server in
# and out, a bundle with checks on 80 and 443 where only 443 dies, drift put back, SIGHUP (good and bad file),
# kill -9 and restart, save while it runs, status and events against their schema, SIGTERM, bad check lines.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
N=mon
T=$(mktemp -d)
SRV="python3 $REPO/Tests/Kernel/monitor-server.py"
export LVSCTL_MONITOR_STATE=$T/state.json
declare -A PIDS
MONPID=

cleanup() {
  [ -n "$MONPID" ] && kill -9 "$MONPID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  cleanup_ns; rm -rf "$T"
}
trap cleanup EXIT

new_ns $N
nsx $N ip link add dummy0 type dummy
nsx $N ip link set dummy0 up
for a in 10 11 12 13 99; do nsx $N ip addr add 192.0.2.$a/32 dev dummy0; done
nsx $N ip addr add 2001:db8::11/128 dev dummy0 nodad

# start NAME KIND ARGS...: a server in the namespace, waited for until it listens.
start() {
  local name=$1; shift
  ip netns exec $N $SRV "$@" > "$T/$name.out" 2> "$T/$name.err" &
  PIDS[$name]=$!
  for _ in $(seq 1 100); do grep -q ready "$T/$name.out" 2>/dev/null && return 0; sleep 0.05; done
  echo "server $name did not start: $(cat "$T/$name.err")"; return 1
}
stop() { kill "${PIDS[$1]}" 2>/dev/null; wait "${PIDS[$1]}" 2>/dev/null; unset "PIDS[$1]"; }

# A self-signed certificate for web.example.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=web.example -addext subjectAltName=DNS:web.example \
  -keyout "$T/key.pem" -out "$T/cert.pem" > /dev/null 2>&1 || echo "openssl failed"

start h11 http 192.0.2.11 80
start h12 http 192.0.2.12 80
start bad13 http 192.0.2.13 80 503
start s11 https 192.0.2.11 443 "$T/cert.pem" "$T/key.pem" web.example
start u11 udp 192.0.2.11 53 ping pong
start t6 tcp 2001:db8::11 80

# --- monitor once: every kind, up and down ---------------------------------------------------------------
cat > "$T/once.conf" <<'EOF'
vs add -t 192.0.2.10:80 -s rr
rs add -t 192.0.2.10:80 -r 192.0.2.11:80 -m
rs add -t 192.0.2.10:80 -r 192.0.2.12:80 -m
rs add -t 192.0.2.10:80 -r 192.0.2.13:80 -m
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type tcp --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type http --path /health --body '^ok$' --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type https --port 443 --host web.example --insecure --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type udp --port 53 --send ping --receive '^pong$' --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type exec --exec '/usr/bin/test %h:%p = 192.0.2.11:80' --timeout 1
vs add -t [2001:db8::10]:80
rs add -t [2001:db8::10]:80 -r [2001:db8::11]:80 -m
check -t [2001:db8::10]:80 -r [2001:db8::11]:80 --type tcp --timeout 1
EOF
out=$(nsx $N $L monitor once "$T/once.conf" 2>&1); rc=$?
[ $rc = 0 ] && ok "monitor once: every kind up, exit 0" || bad "monitor once: every kind up (exit $rc)" "$out"
for k in "tcp connect to port 80" "http GET /health on port 80: status 200" "https GET / on port 443: status 200" \
         "udp on port 53" "exec /usr/bin/test" "rs [2001:db8::11]:80"; do
  grep "^up " <<< "$out" | grep -qF "$k" && ok "monitor once: up: $k" || bad "monitor once: up: $k" "$out"
done
same "monitor once changed nothing in the kernel" "" "$(nsx $N ipvsadm -Sn)"

cat > "$T/down.conf" <<'EOF'
vs add -t 192.0.2.10:80
rs add -t 192.0.2.10:80 -r 192.0.2.11:80 -m
rs add -t 192.0.2.10:80 -r 192.0.2.13:80 -m
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type tcp --port 81 --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.13:80 --type http --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type http --body '^nope$' --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type https --port 443 --host web.example --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type https --port 443 --host other.example --insecure --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type udp --port 53 --send ping --receive '^nope$' --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type udp --port 54 --send ping --receive pong --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type exec --exec '/usr/bin/test %h = 192.0.2.12' --timeout 1
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type exec --exec '/bin/sleep 5' --timeout 0.5
EOF
t0=$EPOCHREALTIME
out=$(nsx $N $L monitor once "$T/down.conf" --json 2>&1); rc=$?
el=$(echo "$EPOCHREALTIME - $t0" | bc)
[ $rc = 1 ] && ok "monitor once: failures exit 1" || bad "monitor once: failures exit 1 (exit $rc)" "$out"
n_fail=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(not c["passed"] for c in d["checks"]), len(d["checks"]))' <<< "$out" 2>&1)
same "monitor once --json: 9 checks, 9 failed" "9 9" "$n_fail"
for k in "port 81: connection refused" "status 503 (expected 200-399)" "body did not match" "https GET / on port 443: certificate" \
         "udp on port 53: reply did not match" "udp on port 54: connection refused" "exit status 1" "timeout after 0.5 s"; do
  grep -qF "$k" <<< "$out" && ok "monitor once: down: $k" || bad "monitor once: down: $k" "$out"
done
grep -q '"detail" : "https GET / on port 443: .*' <<< "$out" | true
(( $(echo "$el < 3" | bc) )) && ok "monitor once: a hanging exec is cut at its timeout (${el}s for all)" || bad "monitor once took ${el}s"

# --- the daemon -------------------------------------------------------------------------------------------
weights() { nsx $N ipvsadm -Sn | grep -- '^-a' | sed 's/ -[gmi] / /' ; }
w_of() { nsx $N ipvsadm -Sn | awk -v s="$1" '$5==s {print $NF}'; }
# wait_for DESC SECONDS CMD...: polls every 0.1 s until CMD succeeds; reports the time it took.
wait_for() {
  local desc=$1 limit=$2; shift 2
  local t0=$EPOCHREALTIME
  while ! "$@" > /dev/null 2>&1; do
    if (( $(echo "$EPOCHREALTIME - $t0 > $limit" | bc) )); then bad "$desc (not within ${limit}s)" "$(tail -5 "$T/mon.log")"; return 1; fi
    sleep 0.1
  done
  ok "$desc ($(printf '%.1f' "$(echo "$EPOCHREALTIME - $t0" | bc)")s)"
}
is_w() { [ "$(w_of "$1")" = "$2" ]; }
absent() { ! nsx $N ipvsadm -Sn | grep -q -- "-r $1 "; }
start_monitor() {
  ip netns exec $N $L monitor "$@" 2>> "$T/mon.log" &
  MONPID=$!
}
ready() { python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["ready"] else 1)' "$LVSCTL_MONITOR_STATE"; }

cat > "$T/m.conf" <<'EOF'
vs add -t 192.0.2.10:80 -s wrr
rs add -t 192.0.2.10:80 -r 192.0.2.11:80 -m -w 5
rs add -t 192.0.2.10:80 -r 192.0.2.12:80 -m -w 3
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type http --interval 0.5 --timeout 0.5 --fall 2 --rise 2
check -t 192.0.2.10:80 -r 192.0.2.12:80 --type http --interval 0.5 --timeout 0.5 --fall 2 --rise 2
sorry -t 192.0.2.10:80 -r 192.0.2.99:80 -m -w 1
EOF
expect_rc "monitor status: no monitor runs: exit 1" 1 $L monitor status
start_monitor "$T/m.conf" --events "$T/events.json" --on-change "/bin/sh -c 'echo \$LVSCTL_SERVER \$LVSCTL_NEW >> $T/changes'"
wait_for "monitor: ready after its first round" 6 ready
same "monitor: configured weights after the first round" "-a -t 192.0.2.10:80 -r 192.0.2.11:80 -w 5
-a -t 192.0.2.10:80 -r 192.0.2.12:80 -w 3" "$(weights)"
out=$($L monitor status 2>&1) && ok "monitor status: exit 0 while it runs" || bad "monitor status while running" "$out"
grep -q "192.0.2.11:80 .* up" <<< "$out" && ok "monitor status: lists the checks" || bad "monitor status: lists the checks" "$out"

# A death: quiesced within interval x fall + timeout + 1 s = 2.5 s.
stop h11
wait_for "kill rs .11: quiesced (weight 0) within 2.5 s" 2.5 is_w 192.0.2.11:80 0
grep -q "rs 192.0.2.11:80 of -t 192.0.2.10:80 down: http GET / on port 80: .*connection refused (2 of 2 failed)" "$T/mon.log" \
  && ok "log: one line for the state change" || bad "log: one line for the state change" "$(cat "$T/mon.log")"
# With .11 at weight 0, IPVS sends every new connection to .12 (a client in the same namespace goes through IPVS's
# local-output hook): the per-server connection counters tell.
conns() { nsx $N ipvsadm -Ln --stats | awk -v s="$1" '$2==s {print $3}'; }
c11=$(conns 192.0.2.11:80); c12=$(conns 192.0.2.12:80)
for _ in 1 2 3 4 5 6; do nsx $N timeout 3 bash -c 'exec 3<>/dev/tcp/192.0.2.10/80; printf "GET / HTTP/1.0\r\n\r\n" >&3; cat <&3' > /dev/null 2>&1; done
# The kernel's estimator updates these counters every 2 s: wait for the six to show.
for _ in $(seq 1 50); do [ "$(conns 192.0.2.12:80)" -ge $((c12 + 6)) ] && break; sleep 0.1; done
[ "$(conns 192.0.2.11:80)" = "$c11" ] && [ "$(conns 192.0.2.12:80)" -ge $((c12 + 6)) ] \
  && ok "quiesced: 6 new connections to the VIP all went to .12" || bad "quiesced: connections .11 $c11 -> $(conns 192.0.2.11:80), .12 $c12 -> $(conns 192.0.2.12:80)"
start h11 http 192.0.2.11 80
wait_for "rs .11 back: weight 5 after rise" 6 is_w 192.0.2.11:80 5

# Drift: a weight changed by hand is put back within a second or so, and logged.
nsx $N ipvsadm -e -t 192.0.2.10:80 -r 192.0.2.12:80 -m -w 7
wait_for "drift: ipvsadm -e -w 7 put back to 3" 6 is_w 192.0.2.12:80 3
grep -q "corrected drift: weight 7 set by hand -> 3" "$T/mon.log" && ok "drift: logged" || bad "drift: logged" "$(tail "$T/mon.log")"
nsx $N ipvsadm -d -t 192.0.2.10:80 -r 192.0.2.12:80
wait_for "drift: a server deleted by hand is added again" 6 is_w 192.0.2.12:80 3

# Both down: the sorry server comes in; one back: it goes.
stop h11; stop h12
wait_for "both down: sorry server 192.0.2.99 added" 6 is_w 192.0.2.99:80 1
start h12 http 192.0.2.12 80
wait_for "one back: sorry server removed" 6 absent 192.0.2.99:80
is_w 192.0.2.12:80 3 && ok "one back: its weight 3" || bad "one back: weight of .12 is $(w_of 192.0.2.12:80)"

# save while the monitor runs: configured weights (not the quiesced 0), and the check and sorry lines.
saved=$(nsx $N $L save 2>&1)
grep -q -- "-r 192.0.2.11:80 -m -w 5" <<< "$saved" && ok "save while monitoring: configured weight of the quiesced server" \
  || bad "save while monitoring: configured weight" "$saved"
[ "$(grep -c '^check ' <<< "$saved")" = 2 ] && grep -q '^sorry -t 192.0.2.10:80 -r 192.0.2.99:80 -m' <<< "$saved" \
  && ok "save while monitoring: check and sorry lines kept" || bad "save while monitoring: check and sorry lines" "$saved"
echo "$saved" > "$T/saved.conf"
expect_rc "save while monitoring: the saved file parses (apply --dry-run)" 0 nsx $N $L apply --dry-run "$T/saved.conf"

# SIGHUP with a bad file: refused, the running configuration kept.
cp "$T/m.conf" "$T/m.good"
echo "check -t 192.0.2.10:80 -r 192.0.2.11:80 --type http --interval 0" >> "$T/m.conf"
before=$(weights)
kill -HUP $MONPID; sleep 1
grep -q "reload refused, keeping the running configuration: .*m.conf:7: .*interval" "$T/mon.log" \
  && ok "SIGHUP, bad file: refused with its line" || bad "SIGHUP, bad file: refused" "$(tail -3 "$T/mon.log")"
kill -0 $MONPID && ok "SIGHUP, bad file: still running" || bad "SIGHUP, bad file: monitor died"
same "SIGHUP, bad file: table unchanged" "$before" "$(weights)"

# SIGHUP: .13 (which answers 503) added with a check, on-fail remove for .11, slow start for .12.
cat > "$T/m.conf" <<'EOF'
vs add -t 192.0.2.10:80 -s wrr
rs add -t 192.0.2.10:80 -r 192.0.2.11:80 -m -w 5
rs add -t 192.0.2.10:80 -r 192.0.2.12:80 -m -w 9
rs add -t 192.0.2.10:80 -r 192.0.2.13:80 -m -w 2
check -t 192.0.2.10:80 -r 192.0.2.11:80 --type http --interval 0.5 --timeout 0.5 --fall 2 --rise 2 --on-fail remove
check -t 192.0.2.10:80 -r 192.0.2.12:80 --type http --interval 0.5 --timeout 0.5 --fall 2 --rise 1 --slow-start 4
check -t 192.0.2.10:80 -r 192.0.2.13:80 --type http --interval 0.5 --timeout 0.5
EOF
kill -HUP $MONPID
wait_for "SIGHUP: a new server that fails its first check is in at weight 0" 6 is_w 192.0.2.13:80 0
wait_for "SIGHUP: --on-fail remove takes the dead .11 out" 6 absent 192.0.2.11:80
wait_for "SIGHUP: .12 gets its new weight 9" 6 is_w 192.0.2.12:80 9
# Slow start: .12 dies and comes back; its weight climbs 1 .. 9 over 4 s.
stop h12
wait_for ".12 down: weight 0" 6 is_w 192.0.2.12:80 0
start h12 http 192.0.2.12 80
seen=""
for _ in $(seq 1 100); do w=$(w_of 192.0.2.12:80); [[ " $seen " == *" $w "* ]] || seen+=" $w"; [ "$w" = 9 ] && break; sleep 0.1; done
n=$(wc -w <<< "$seen")
[ "$w" = 9 ] && [ "$n" -ge 4 ] && ok "slow start: the weight climbed in steps:$seen" || bad "slow start: weights seen:$seen"
start h11 http 192.0.2.11 80
wait_for "remove: .11 back in after rise" 6 is_w 192.0.2.11:80 5

# kill -9, a weight left at 0 by hand, restart: converges; the state file was never half-written.
kill -9 $MONPID; wait $MONPID 2>/dev/null
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$LVSCTL_MONITOR_STATE" && ok "kill -9: the state file is whole JSON" \
  || bad "kill -9: state file" "$(head -c 300 "$LVSCTL_MONITOR_STATE")"
out=$($L monitor status 2>&1); rc=$?
[ $rc = 1 ] && grep -q "has ended" <<< "$out" && ok "status after kill -9: no monitor runs (stale state file named)" || bad "status after kill -9" "exit $rc: $out"
nsx $N ipvsadm -e -t 192.0.2.10:80 -r 192.0.2.11:80 -m -w 0
start_monitor "$T/m.conf"
wait_for "restart after kill -9: the up server at weight 0 is back to 5" 6 is_w 192.0.2.11:80 5
is_w 192.0.2.13:80 0 && ok "restart: the failing .13 stays at 0" || bad "restart: .13 at $(w_of 192.0.2.13:80)"

# status --json and the events stream against their schema.
out=$($L monitor status --json)
python3 - "$out" <<'PY' && ok "status --json: schema" || bad "status --json: schema" "$out"
import json, sys
d = json.loads(sys.argv[1])
assert d["schema"] == 1 and d["running"] is True
s = d["state"]
for k, t in [("pid", int), ("file", str), ("started", str), ("updated", str), ("ready", bool), ("checks", list), ("servers", list), ("lines", list)]:
    assert isinstance(s[k], t), k
for c in s["checks"]:
    for k in ("service", "server", "target", "type", "state", "since", "interval", "timeout", "rise", "fall", "on_fail", "passes", "failures"):
        assert k in c, k
    assert c["state"] in ("up", "down", "unknown")
for v in s["servers"]:
    for k in ("service", "server", "health", "present", "weight", "configured_weight", "reason", "sorry"):
        assert k in v, k
PY
python3 - "$T/events.json" <<'PY' && ok "events: every line a JSON object with its fields" || bad "events: schema" "$(head -5 "$T/events.json")"
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line); n += 1
    assert e["event"] in ("state", "correction") and "time" in e and "message" in e
    if e["event"] == "state":
        for k in ("service", "server", "target", "type", "old", "new", "detail", "passes", "failures"):
            assert k in e, k
assert n >= 6, n
PY
grep -q "192.0.2.11:80 down" "$T/changes" 2>/dev/null && ok "--on-change: ran with LVSCTL_SERVER and LVSCTL_NEW" || bad "--on-change" "$(cat "$T/changes" 2>&1)"

# SIGTERM: exit 0, the table left as it is, the state file removed.
before=$(weights)
kill -TERM $MONPID; wait $MONPID; rc=$?; MONPID=
[ $rc = 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc"
same "SIGTERM: table left as it is" "$before" "$(weights)"
[ ! -e "$LVSCTL_MONITOR_STATE" ] && ok "SIGTERM: state file removed" || bad "SIGTERM: state file left"

# A bundle with checks on 80 and 443 where only 443 dies: the server is quiesced.
nsx $N ipvsadm -C
cat > "$T/b.conf" <<EOF
bundle add web --vip 192.0.2.10 --ports 80,443 -s rr
rs add --bundle web -r 192.0.2.11 -m -w 4
check --bundle web -r 192.0.2.11 --type http --port 80 --interval 0.5 --timeout 0.5 --fall 2
check --bundle web -r 192.0.2.11 --type https --port 443 --host web.example --insecure --interval 0.5 --timeout 0.5 --fall 2
EOF
start_monitor "$T/b.conf" --restore-on-exit
wait_for "bundle: ready" 6 ready
is_w 192.0.2.11:0 4 && ok "bundle: both checks up: weight 4" || bad "bundle: weight $(w_of 192.0.2.11:0)" "$(nsx $N ipvsadm -Sn)"
stop s11
wait_for "bundle: only 443 dies: the server is quiesced" 6 is_w 192.0.2.11:0 0
grep -q "rs 192.0.2.11:443 of -f [0-9]* down: https" "$T/mon.log" && ok "bundle: the log names the 443 check" || bad "bundle: log" "$(tail -3 "$T/mon.log")"
kill -INT $MONPID; wait $MONPID; rc=$?; MONPID=
[ $rc = 0 ] && is_w 192.0.2.11:0 4 && ok "SIGINT with --restore-on-exit: exit 0, weight 4 back" || bad "--restore-on-exit: exit $rc, weight $(w_of 192.0.2.11:0)"

# Only tcp checks: libcurl is not loaded; an http check added by SIGHUP loads it and runs.
nsx $N ipvsadm -C
cat > "$T/t.conf" <<'EOF'
vs add -t 192.0.2.10:80 -s rr
rs add -t 192.0.2.10:80 -r 192.0.2.12:80 -m -w 3
rs add -t 192.0.2.10:80 -r 192.0.2.13:80 -m -w 2
check -t 192.0.2.10:80 -r 192.0.2.12:80 --type tcp --interval 0.5 --timeout 0.5
EOF
start_monitor "$T/t.conf"
wait_for "tcp checks only: ready" 6 ready
grep -q libcurl "/proc/$MONPID/maps" && bad "tcp checks only: libcurl loaded" || ok "tcp checks only: libcurl not loaded"
echo "check -t 192.0.2.10:80 -r 192.0.2.13:80 --type http --interval 0.5 --timeout 0.5" >> "$T/t.conf"
kill -HUP $MONPID
wait_for "SIGHUP adds an http check: .13 (503) quiesced" 6 is_w 192.0.2.13:80 0
grep -q "rs 192.0.2.13:80 of -t 192.0.2.10:80 down: http GET / on port 80: status 503" "$T/mon.log" && grep -q libcurl "/proc/$MONPID/maps" \
  && ok "SIGHUP adds an http check: libcurl loaded then, the check runs" || bad "http check after SIGHUP" "$(tail -3 "$T/mon.log")"
kill -TERM $MONPID; wait $MONPID; MONPID=

# Bad check lines: exit 2, one line naming the line and the value, nothing changed.
before=$(nsx $N ipvsadm -Sn)
bad_line() {
  local name=$1 line=$2 want=$3
  printf 'vs add -t 192.0.2.20:80\nrs add -t 192.0.2.20:80 -r 192.0.2.11:80 -m\n%s\n' "$line" > "$T/bad.conf"
  local out; out=$(nsx $N $L monitor "$T/bad.conf" 2>&1); local rc=$?
  if [ $rc = 2 ] && [ "$(wc -l <<< "$out")" = 1 ] && grep -qF "bad.conf:3" <<< "$out" && grep -qF -- "$want" <<< "$out"; then ok "bad check line: $name"
  else bad "bad check line: $name" "exit $rc: $out"; fi
}
bad_line "unknown type" "check -t 192.0.2.20:80 -r 192.0.2.11:80 --type icmp" "'icmp'"
bad_line "interval 0" "check -t 192.0.2.20:80 -r 192.0.2.11:80 --type tcp --interval 0" "'0'"
bad_line "server not defined" "check -t 192.0.2.20:80 -r 192.0.2.12:80 --type tcp" "192.0.2.12"
bad_line "--path on tcp" "check -t 192.0.2.20:80 -r 192.0.2.11:80 --type tcp --path /x" "--path"
bad_line "relative exec" "check -t 192.0.2.20:80 -r 192.0.2.11:80 --type exec --exec 'probe %h'" "probe"
bad_line "bad regex" "check -t 192.0.2.20:80 -r 192.0.2.11:80 --type http --body '('" "'('"
same "bad check lines: nothing changed in the kernel" "$before" "$(nsx $N ipvsadm -Sn)"
summary

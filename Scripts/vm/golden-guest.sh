# Guest half of Scripts/vm/capture-golden (runs inside the VM via Scripts/vm/run).
# For each case: fresh network namespace, run the setup ipvsadm commands,
# then run the case's command under strace, saving the raw trace and a
# metadata file under $JOB/golden/. Scripts/vm/golden.py turns them into
# Tests/Fixtures/golden/*.txt on the host.
#
# Case table: NAME|SETUP (';'-separated ipvsadm argument lists, or empty)|COMMAND|MODE
#   MODE "sent": keep the messages ipvsadm sent;
#   MODE "both": also keep what it received (dumps / GET replies).
set -u
set -f   # no globbing: [2001:db8::1]:443 must stay literal

OUT=$JOB/golden
rm -rf "$OUT"
mkdir -p "$OUT"

SVC=192.0.2.1:80
CASES='
add-tcp-rr||-A -t 192.0.2.1:80 -s rr|sent
add-udp-persistent-netmask||-A -u 192.0.2.2:53 -s wrr -p 300 -M 255.255.255.0|sent
add-fwmark-wlc-persistent||-A -f 80 -s wlc -p 60|sent
add-fwmark6-persistent-prefix||-A -f 1 -6 -p -M 64|sent
add-tcp6-sh-flags||-A -t [2001:db8::1]:443 -s sh -b sh-fallback,sh-port|sent
add-sctp-mh-port||-A --sctp-service 192.0.2.3:9 -s mh -b mh-port|sent
add-udp-pe-sip||-A -u 192.0.2.4:5060 -s rr -p 60 --pe sip|sent
add-udp-one-packet||-A -u 192.0.2.5:53 -s rr -o|sent
edit-service|-A -t 192.0.2.1:80 -s rr|-E -t 192.0.2.1:80 -s wlc -p 120|sent
del-service|-A -t 192.0.2.1:80 -s rr|-D -t 192.0.2.1:80|sent
add-dest-gate|-A -t 192.0.2.1:80 -s rr|-a -t 192.0.2.1:80 -r 198.51.100.2:80 -g|sent
add-dest-masq-weight-thresholds|-A -t 192.0.2.1:80 -s rr|-a -t 192.0.2.1:80 -r 198.51.100.3:8080 -m -w 5 -x 100 -y 10|sent
add-dest-tun-gue-nocsum|-A -t 192.0.2.1:80 -s rr|-a -t 192.0.2.1:80 -r 198.51.100.4 -i --tun-type gue --tun-port 6080 --tun-nocsum|sent
add-dest-tun-gue-remcsum|-A -t 192.0.2.1:80 -s rr|-a -t 192.0.2.1:80 -r 198.51.100.5 -i --tun-type gue --tun-port 6080 --tun-remcsum|sent
add-dest-tun-gre-csum|-A -t 192.0.2.1:80 -s rr|-a -t 192.0.2.1:80 -r 198.51.100.6 -i --tun-type gre --tun-csum|sent
add-dest-fwmark-gate|-A -f 80 -s wlc|-a -f 80 -r 198.51.100.7 -g -w 2|sent
add-dest6-masq|-A -t [2001:db8::1]:443 -s rr|-a -t [2001:db8::1]:443 -r [2001:db8::2]:8443 -m -w 2|sent
edit-dest|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2:80 -g|-e -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 7|sent
del-dest|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2:80 -g|-d -t 192.0.2.1:80 -r 198.51.100.2:80|sent
flush|-A -t 192.0.2.1:80 -s rr;-A -u 192.0.2.2:53 -s wrr|-C|sent
zero-all|-A -t 192.0.2.1:80 -s rr|-Z|sent
zero-service|-A -t 192.0.2.1:80 -s rr|-Z -t 192.0.2.1:80|sent
set-timeouts||--set 100 20 30|sent
start-daemon-master||--start-daemon master --mcast-interface lo --syncid 5|sent
start-daemon-backup-options||--start-daemon backup --mcast-interface lo --syncid 7 --sync-maxlen 1400 --mcast-group 239.1.1.1 --mcast-port 8849 --mcast-ttl 2|sent
stop-daemon-master|--start-daemon master --mcast-interface lo --syncid 5|--stop-daemon master|sent
list-empty||-Ln|both
list-services-dests|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m -w 3;-a -t 192.0.2.1:80 -r 198.51.100.3:80 -m -w 1;-A -u 192.0.2.2:53 -s wrr -p 300 -M 255.255.255.0;-A -f 80 -s wlc -p 60;-a -f 80 -r 198.51.100.7 -g -w 2;-A -t [2001:db8::1]:443 -s sh -b sh-fallback,sh-port;-a -t [2001:db8::1]:443 -r [2001:db8::2]:8443 -m -w 2|-Ln|both
list-stats|-A -t 192.0.2.1:80 -s rr;-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m -w 3;-A -u 192.0.2.2:53 -s wrr -p 300|-Ln --stats|both
list-timeouts|--set 100 20 30|-L --timeout|both
list-daemon|--start-daemon master --mcast-interface lo --syncid 5;--start-daemon backup --mcast-interface lo --syncid 7|-L --daemon|both
'

uname -r > "$OUT/kernel"
ipvsadm -v > "$OUT/ipvsadm-version" 2>&1
n=0
while IFS='|' read -r -u 3 name setup cmd mode; do
    [ -n "$name" ] || continue
    n=$((n + 1))
    ns=golden$n
    ip netns add "$ns" || { echo "cannot create netns $ns" >&2; exit 1; }
    ip -n "$ns" link set lo up
    setup_ok=0
    IFS=';' read -r -a steps <<< "$setup"
    for s in "${steps[@]}"; do
        [ -n "$s" ] || continue
        # shellcheck disable=SC2086
        ip netns exec "$ns" ipvsadm $s >> "$OUT/$name.setup-log" 2>&1 || setup_ok=$?
    done
    # shellcheck disable=SC2086
    ip netns exec "$ns" strace -f -xx -s 65536 \
        -e trace=sendmsg,sendto,recvmsg,recvfrom -e write=all -e read=all \
        -o "$OUT/$name.strace" ipvsadm $cmd > "$OUT/$name.stdout" 2> "$OUT/$name.stderr"
    rc=$?
    {
        printf 'index=%s\n' "$n"
        printf 'name=%s\n' "$name"
        printf 'setup=%s\n' "$setup"
        printf 'command=ipvsadm %s\n' "$cmd"
        printf 'mode=%s\n' "$mode"
        printf 'rc=%s\n' "$rc"
        printf 'setup_rc=%s\n' "$setup_ok"
    } > "$OUT/$name.meta"
    [ "$rc" = 0 ] || echo "case $name: ipvsadm exited $rc: $(tr '\n' ' ' < "$OUT/$name.stderr")" >&2
    [ "$setup_ok" = 0 ] || echo "case $name: setup failed: $(tr '\n' ' ' < "$OUT/$name.setup-log")" >&2
    # stop sync daemons before deleting the namespace
    ip netns exec "$ns" ipvsadm --stop-daemon master > /dev/null 2>&1
    ip netns exec "$ns" ipvsadm --stop-daemon backup > /dev/null 2>&1
    ip netns exec "$ns" ipvsadm -C > /dev/null 2>&1
    ip netns del "$ns"
done 3<<< "$CASES" < /dev/null
echo "captured $n cases"

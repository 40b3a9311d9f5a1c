#!/usr/bin/env bash
# Table-driven bad input across every command and the restore/apply/import file formats.
# Each case: exit 2, exactly one stderr line, the line names the offending value (the case's EXPECT text), and
# the whole network state of the namespace is byte-identical before and after: ipvsadm -Sn, thresholds and
# timeouts, iptables-legacy-save (every loaded table: mangle, nat, filter), ip6tables-legacy-save, arptables,
# the arp_ignore/arp_announce sysctls of every interface, and ip -o addr.
# Not covered by construction: a NUL byte cannot be passed in an argv string (execve ends the string there), so
# NUL bytes are tested through files only.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
NS=bit
new_ns $NS
nsx $NS ip link add d0 type dummy && nsx $NS ip link set d0 up
nsx $NS ip addr add 192.0.2.1/24 dev d0
# Something in every table the snapshot covers, so "unchanged" means something.
nsx $NS ipvsadm -A -t 192.0.2.1:80 -s rr
nsx $NS ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.2 -g -w 3
nsx $NS ipvsadm -A -t [2001:db8::1]:80 -s wlc
nsx $NS $L bundle add web --vip 192.0.2.10 --ports 80,443 -s rr -p 60 >/dev/null
nsx $NS $L dr setup --vip 192.0.2.20 --method sysctl >/dev/null
nsx $NS $L dr setup --vip 192.0.2.21 --method redirect --ports 8080 >/dev/null
nsx $NS iptables-legacy -t nat -A POSTROUTING -s 198.51.100.0/24 -j MASQUERADE
nsx $NS ip6tables-legacy -t mangle -A PREROUTING -p tcp --dport 25 -j MARK --set-mark 25
nsx $NS $L timeout set --tcp 900 --tcpfin 120 --udp 300

# One namespace entry per snapshot (process start-up is the cost under TCG).
snap() {
  ip netns exec $NS bash -c '
  ipvsadm -Sn; ipvsadm -Ln --thresholds; ipvsadm -L --timeout
  # Chain packet counters move with the namespace'"'"'s own traffic (IPv6 DAD, MLD); rules and policies must not.
  iptables-legacy-save | sed -e "/^#/d" -e "s/ \[[0-9]*:[0-9]*\]\$//"
  ip6tables-legacy-save | sed -e "/^#/d" -e "s/ \[[0-9]*:[0-9]*\]\$//"
  arptables-legacy -L -n 2>&1
  grep . /proc/sys/net/ipv4/conf/*/arp_ignore /proc/sys/net/ipv4/conf/*/arp_announce
  ip -o addr'
}
before=$(snap)
if [[ $before == *"--set-xmark"* && $before == *MASQUERADE* && $before == *REDIRECT* && $before == *"192.0.2.20/32"* \
      && $before == *"all/arp_ignore:1"* && $before == *"-A -f "* ]]; then
  ok "setup: the snapshot holds IPVS services, bundle MARK rules, nat rules, the DR VIP and its arp sysctls"
else bad "setup: the snapshot lacks some of the state it should cover" "$before"; fi

D=/tmp/bit; rm -rf $D; mkdir -p $D/adir
long=$(head -c 4096 /dev/zero | tr '\0' a)
# Files.
printf 'vs add -t 192.0.2.9:80 -s rr\r\nrs add -t 192.0.2.9:80 -r 198.51.100.9 -w 70000\r\n' > $D/crlf.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nrs add -t 192.0.2.9:80 -r 198.51.100.9 -x 9 -y 10' > $D/nonl.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s \x00rr\n' > $D/nul.conf
head -c 3000 /dev/urandom > $D/random.bin; printf '\x00' >> $D/random.bin
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s %s\n' "$long" > $D/longtok.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s rr; reboot\n' > $D/semi.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s $(reboot)\n' > $D/subst.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s r\x1br\n' > $D/ctl.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s "rr\n' > $D/quote.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nbundle add "w;b" --vip 192.0.2.31 --ports 80\n' > $D/bname.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:080x -s rr\n' > $D/port.conf
printf '\xef\xbb\xbfvs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s rr -p 0x3c\n' > $D/bom.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s rr \xff\xfe\n' > $D/latin1.conf
printf '%s\n' '-A -t 192.0.2.9:80 -s rr' '-a -t 192.0.2.9:80 -r 198.51.100.9:80 -g -w 70000' > $D/ipvsadm-w.conf
printf '%s\n' '-A -t 192.0.2.9:80 -s rr' '-A -t 192.0.2.8:80 -s rr -Z' > $D/ipvsadm-opt.conf
printf '%s\r\n' '-A -t 192.0.2.9:80 -s rr' '-A -u [::ffff:192.0.2.8]:53 -s rr' > $D/ipvsadm-crlf.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nclear\n' > $D/clear.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s rr' > $D/ok-nonl.conf   # valid, for the unreadable case
cp $D/ok-nonl.conf $D/unreadable.conf; chmod 000 $D/unreadable.conf
printf 'vs add -t 192.0.2.9:80 -s rr\nvs add -t 192.0.2.8:80 -s rr -p 60 -M 255.0.255.0\n' > $D/apply-mask.conf
# Piranha lvs.cf files.
P=$REPO/Tests/Fixtures/piranha
good=$(ls $P/*.cf 2>/dev/null | head -1)
printf 'service = lvs\nvirtual web {\n  address = 192.0.2.300 eth0:1\n  port = 80\n  protocol = tcp\n}\n' > $D/p-addr.cf
printf 'service = lvs\nvirtual web {\r\n  address = 192.0.2.40 eth0:1\r\n  port = 99999\r\n}\r\n' > $D/p-crlf.cf
printf 'service = lvs\nvirtual web {\n  address = 192.0.2.40 eth0:1\n  port = 80\n' > $D/p-open.cf
printf 'service = lvs\nvirtual web {\n  address = 192.0.2.40 eth0:1\n  port = 80\n  server a {\n    address = 198.51.100.5\n    weight = -3\n  }\n}' > $D/p-weight.cf
printf 'service = lvs\nvirtual web {\n  address = 192.0.2.40 eth0:1\n  port = 80\n  scheduler = r\x07r\n}\n' > $D/p-ctl.cf
printf 'service = lvs\nvirtual web {\n  address = 192.0.2.40 eth0:1\n  port = 80\n  persistent = 060\n}\n' > $D/p-hex.cf
printf 'service = lvs\nvirtual web {\n  address = 192.0.2.40 eth0:1\n  fwmark = 4294967296\n}\n' > $D/p-mark.cf
printf 'service = lvs\nvirtual web {\n  address = 192.0.2.40 eth0:1\n  send_program = "check-web %%h"\n}\n' > $D/p-prog.cf

# NAME|EXPECT|ARGS: ARGS is evaluated by bash (so $'..' and $long work); EXPECT must appear in the one stderr line.
# ARGS starting with @nodac run as root with CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH removed (root bypasses file modes).
cases=(
  # vs
  "vs: hex port|0x50|vs add -t 192.0.2.2:0x50"
  "vs: negative port|-1|vs add -t 192.0.2.2:-1"
  "vs: sctp port out of range|70000|vs add --sctp-service 192.0.2.2:70000"
  "vs: short IPv4 form|192.0.2|vs add -t 192.0.2:80"
  "vs: hex IPv4 address|0x7f000001|vs add -t 0x7f000001:80"
  "vs: octal-looking IPv4 octet|010.0.2.1|vs add -t 010.0.2.1:80"
  "vs: v6 scope id (numeric)|%1|vs add -t [2001:db8::1%1]:80"
  "vs: v6 unspecified VIP|::|vs add -u [::]:53"
  "vs: v6 multicast VIP|ff02::1|vs add -t [ff02::1]:80"
  "vs: v4 multicast VIP (udp)|239.255.0.1|vs add -u 239.255.0.1:53"
  "vs: subnet broadcast-looking VIP 255.x|255.255.255.255|vs add -u 255.255.255.255:53"
  "vs: 4 KiB address|aaaaaaaa|vs add -t $long:80"
  "vs: escape sequence in scheduler|\\x1b|vs add -t 192.0.2.2:80 -s \$'rr\\x1b[31m'"
  "vs: control byte in --pe|\\x01|vs add -t 192.0.2.2:80 -p 60 --pe \$'sip\\x01'"
  "vs: negative persistence|-1|vs add -t 192.0.2.2:80 -p -1"
  "vs: hex persistence|0x10|vs add -t 192.0.2.2:80 -p 0x10"
  "vs: persistence overflows Int64|99999999999999999999|vs add -t 192.0.2.2:80 -p 99999999999999999999"
  "vs: fwmark overflows u32|4294967296|vs add -f 4294967296"
  "vs: v4 prefix 33|33|vs add -t 192.0.2.2:80 -p 60 -M 33"
  "vs: unknown flag among good ones|bogus|vs edit -t 192.0.2.1:80 -b sh-port,bogus"
  "vs: delete with port out of range|99999|vs delete -t 192.0.2.1:99999"
  "vs: scheduler with shell substitution|\$(reboot)|vs add -t 192.0.2.2:80 -s '\$(reboot)'"
  # rs
  "rs: hex real-server port|0x50|rs add -t 192.0.2.1:80 -r 198.51.100.3:0x50 -m"
  "rs: real-server port 65536|65536|rs add -t 192.0.2.1:80 -r 198.51.100.3:65536 -m"
  "rs: weight overflows u32|4294967296|rs add -t 192.0.2.1:80 -r 198.51.100.3 -w 4294967296"
  "rs: negative upper threshold|-1|rs add -t 192.0.2.1:80 -r 198.51.100.3 -x -1"
  "rs: hex lower threshold|0x10|rs add -t 192.0.2.1:80 -r 198.51.100.3 -y 0x10"
  "rs: unspecified real server|0.0.0.0|rs add -t 192.0.2.1:80 -r 0.0.0.0"
  "rs: broadcast real server|255.255.255.255|rs add -t 192.0.2.1:80 -r 255.255.255.255"
  "rs: v4-mapped real server on a v6 service|::ffff:198.51.100.3|rs add -t [2001:db8::1]:80 -r [::ffff:198.51.100.3]:80"
  "rs: link-local with scope id|%lo|rs add -t [2001:db8::1]:80 -r [fe80::1%lo]:80"
  "rs: unknown tunnel type|vxlan|rs add -t 192.0.2.1:80 -r 198.51.100.3 -i --tun-type vxlan"
  "rs: tunnel port out of range|70000|rs add -t 192.0.2.1:80 -r 198.51.100.3 -i --tun-type gue --tun-port 70000"
  "rs: 4 KiB real-server address|aaaaaaaa|rs edit -t 192.0.2.1:80 -r $long"
  "rs: delete with negative port|-1|rs delete -t 192.0.2.1:80 -r 198.51.100.2:-1"
  # list, zero
  "list: letters as port|abc|list -t 192.0.2.1:abc"
  "list: fwmark 0|0|list -f 0"
  "list: unknown option|--frobnicate|list --frobnicate"
  "zero: bad address|999.0.2.1|zero -t 999.0.2.1:80"
  "zero: negative fwmark|-1|zero -f -1"
  # timeout
  "timeout: negative|-1|timeout set --tcp -1"
  "timeout: hex|0x10|timeout set --udp 0x10"
  "timeout: above 31 days|2678401|timeout set --tcpfin 2678401"
  # daemon
  "daemon: 4 KiB interface name|aaaaaaaa|daemon start master --mcast-interface $long"
  "daemon: interface name with shell chars and a space|lo; reboot|daemon start master --mcast-interface 'lo; reboot'"
  "daemon: mcast port out of range|70000|daemon start master --mcast-interface lo --mcast-port 70000"
  "daemon: mcast ttl 0|0|daemon start master --mcast-interface lo --mcast-ttl 0"
  "daemon: unicast mcast group|192.0.2.1|daemon start master --mcast-interface lo --mcast-group 192.0.2.1"
  "daemon: negative maxlen|-5|daemon start master --mcast-interface lo --sync-maxlen -5"
  "daemon: stop unknown role|primary|daemon stop primary"
  # connections, info
  "connections: unknown option|--bogus|connections --bogus"
  "info: extra argument|extra|info extra"
  # bundle
  "bundle: name with ;|web;rm -rf /|bundle add 'web;rm -rf /' --vip 192.0.2.30 --ports 80"
  "bundle: name with \$()|\$(reboot)|bundle add '\$(reboot)' --vip 192.0.2.30 --ports 80"
  "bundle: name with backticks|\`id\`|bundle add 'x\`id\`' --vip 192.0.2.30 --ports 80"
  "bundle: name with newline|\\x0a|bundle add \$'web\\nx' --vip 192.0.2.30 --ports 80"
  "bundle: 4 KiB name|aaaaaaaa|bundle add $long --vip 192.0.2.30 --ports 80"
  "bundle: port 70000|70000|bundle add web2 --vip 192.0.2.30 --ports 80,70000"
  "bundle: reversed range|90:80|bundle add web2 --vip 192.0.2.30 --ports 90:80"
  "bundle: protocol icmp|icmp|bundle add web2 --vip 192.0.2.30 --ports 80 --proto icmp"
  "bundle: mark 0|0|bundle add web2 --vip 192.0.2.30 --ports 80 --mark 0"
  "bundle: mark overflows u32|0x100000000|bundle add web2 --vip 192.0.2.30 --ports 80 --mark 0x100000000"
  "bundle: mixed families|2001:db8::30|bundle add web2 --vip 192.0.2.30 --vip 2001:db8::30 --ports 80"
  "bundle: multicast VIP|224.0.0.5|bundle add web2 --vip 224.0.0.5 --ports 80"
  "bundle: delete with a bell in the name|\\x07|bundle delete \$'we\\ab'"
  # persistence
  "persistence: timeout 0|0|persistence set -t 192.0.2.1:80 --timeout 0"
  "persistence: timeout above 31 days|2678401|persistence set -t 192.0.2.1:80 --timeout 2678401"
  "persistence: non-contiguous netmask|255.255.0.255|persistence set -t 192.0.2.1:80 --timeout 60 --netmask 255.255.0.255"
  "persistence: bundle name with backticks|\`id\`|persistence set --bundle 'x\`id\`' --timeout 60"
  "persistence: escape in --pe|\\x1b|persistence set -t 192.0.2.1:80 --timeout 60 --pe \$'\\x1b'"
  "persistence: clear with a bad address|192.0.2.1.5|persistence clear -t 192.0.2.1.5:80"
  # save
  "save: unknown format|xml|save --format xml"
  "save: a directory as FILE|$D/adir|save $D/adir"
  # restore
  "restore: CRLF file, weight 70000 (line 2)|crlf.conf:2|restore $D/crlf.conf"
  "restore: no final newline, lower above upper on the last line|nonl.conf:2|restore $D/nonl.conf"
  "restore: NUL byte inside a line|nul.conf|restore $D/nul.conf"
  "restore: random binary data|random.bin|restore $D/random.bin"
  "restore: 4 KiB token|longtok.conf:2|restore $D/longtok.conf"
  "restore: ; in a line (no shell)|semi.conf:2|restore $D/semi.conf"
  "restore: \$(..) in a line (no shell)|subst.conf:2|restore $D/subst.conf"
  "restore: escape byte in a line|ctl.conf:2|restore $D/ctl.conf"
  "restore: unterminated quote|quote.conf:2|restore $D/quote.conf"
  "restore: bundle name with ; in a file|bname.conf:2|restore $D/bname.conf"
  "restore: port 080x|080x|restore $D/port.conf"
  "restore: hex persistence after a UTF-8 BOM|bom.conf:2|restore $D/bom.conf"
  "restore: invalid UTF-8|latin1.conf|restore $D/latin1.conf"
  "restore: ipvsadm format, weight 70000|ipvsadm-w.conf:2|restore $D/ipvsadm-w.conf"
  "restore: ipvsadm format, unknown option|ipvsadm-opt.conf:2|restore $D/ipvsadm-opt.conf"
  "restore: ipvsadm format, CRLF and a v4-mapped VIP|ipvsadm-crlf.conf:2|restore $D/ipvsadm-crlf.conf"
  "restore: a character device|/dev/zero|restore /dev/zero"
  "restore: --wait negative|-1|restore --wait -1 $D/ok-nonl.conf"
  "restore: unreadable file (root without DAC override)|unreadable.conf|@nodac restore $D/unreadable.conf"
  # apply
  "apply: a directory|$D/adir|apply $D/adir"
  "apply: binary data|random.bin|apply $D/random.bin"
  "apply: clear is not allowed in files|clear.conf:2|apply $D/clear.conf"
  "apply: bad netmask on the last line|apply-mask.conf:2|apply $D/apply-mask.conf"
  "apply: missing file|$D/nope.conf|apply $D/nope.conf"
  "apply: unreadable file (root without DAC override)|unreadable.conf|@nodac apply $D/unreadable.conf"
  # import piranha
  "import: bad address|192.0.2.300|import piranha $D/p-addr.cf"
  "import: CRLF file with port 99999|99999|import piranha $D/p-crlf.cf"
  "import: unterminated virtual block|p-open.cf|import piranha $D/p-open.cf"
  "import: negative weight|-3|import piranha $D/p-weight.cf"
  "import: control byte in scheduler|\\x07|import piranha $D/p-ctl.cf"
  "import: octal-looking persistent (piranha reads 0.. as octal)|060|import piranha $D/p-hex.cf"
  "import: fwmark overflows u32|4294967296|import piranha $D/p-mark.cf"
  "import: nanny send_program not an absolute path|check-web %h|import piranha $D/p-prog.cf"
  "import: a directory|$D/adir|import piranha $D/adir"
  "import: binary data|random.bin|import piranha $D/random.bin"
  "import: unknown kind|keepalived|import keepalived $D/p-addr.cf"
  # dr
  "dr setup: bad VIP|192.0.2.300|dr setup --vip 192.0.2.300"
  "dr setup: unknown method|magic|dr setup --vip 192.0.2.40 --method magic"
  "dr setup: 4 KiB interface|aaaaaaaa|dr setup --vip 192.0.2.40 --interface $long"
  "dr setup: redirect port 0|0|dr setup --vip 192.0.2.40 --method redirect --ports 0"
  "dr setup: redirect protocol icmp|icmp|dr setup --vip 192.0.2.40 --method redirect --ports 80 --proto icmp"
  "dr setup: multicast VIP|224.0.0.9|dr setup --vip 224.0.0.9"
  "dr setup: unspecified VIP|0.0.0.0|dr setup --vip 0.0.0.0"
  "dr setup: --ports without redirect|--ports|dr setup --vip 192.0.2.40 --ports 80"
  "dr teardown: v4-mapped VIP|::ffff:192.0.2.20|dr teardown --vip ::ffff:192.0.2.20"
  "dr status: unknown option|--fix|dr status --fix"
  # global
  "--netns: path traversal|../../proc/1/ns/net|--netns ../../proc/1/ns/net list"
  "--netns: control byte|\\x01|--netns \$'x\\x01' list"
)
nodac="setpriv --bounding-set=-dac_override,-dac_read_search"
for c in "${cases[@]}"; do
  name=${c%%|*}; rest=${c#*|}; want=${rest%%|*}; args=${rest#*|}
  pre=""
  if [[ $args == "@nodac "* ]]; then pre=$nodac; args=${args#@nodac }; fi
  err=$(eval "ip netns exec $NS $pre $L $args" 2>&1 >/dev/null </dev/null); rc=$?
  # Lines of stderr (as grep -c '' counts them), without starting a process.
  if [ -z "$err" ]; then lines=0; else nl=${err//[!$'\n']/}; lines=$(( ${#nl} + 1 )); fi
  after=$(snap)
  if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && [[ $err == *"$want"* ]] && [ "$after" == "$before" ]; then ok "$name: ${err:0:140}"
  else
    e=$(mktemp); a=$(mktemp); printf '%s\n' "$before" > $e; printf '%s\n' "$after" > $a
    bad "$name" "rc=$rc lines=$lines want '$want': ${err:0:400}
state diff: $(diff $e $a | head -20)"
    rm -f $e $a; before=$after
  fi
done
echo "# ${#cases[@]} cases, each checked for exit 2, one stderr line naming the value, and an unchanged state"
rm -rf $D
summary

#!/usr/bin/env bash
# Conformance with ipvsadm 1.31 in both directions, on the real IPVS kernel.
# For each configuration: ipvsadm writes it in one namespace, lvsctl writes the equivalent in another.
#  - what lvsctl wrote, ipvsadm reads back identically (ipvsadm -Sn / -Ln and their variants);
#  - what ipvsadm wrote, lvsctl reads back identically (lvsctl list / save --format ipvsadm / timeout / daemon).
source "$(dirname "$0")/lib.sh"

# ipvsadm arguments -> lvsctl arguments (the short flags are shared on purpose).
to_lvsctl() {
  case "$1" in
    -A) shift; echo vs add "$@" ;;
    -E) shift; echo vs edit "$@" ;;
    -a) shift; echo rs add "$@" ;;
    -e) shift; echo rs edit "$@" ;;
    --set) echo timeout set --tcp "$2" --tcpfin "$3" --udp "$4" ;;
    --start-daemon) local r=$2; shift 2; echo daemon start "$r" "$@" ;;
    *) echo "UNMAPPED $*" ;;
  esac
}

CONFIGS=(
  "tcp-rr|-A -t 192.0.2.1:80 -s rr"
  "udp-wrr-masq|-A -u 192.0.2.1:53 -s wrr;-a -u 192.0.2.1:53 -r 198.51.100.2:53 -m -w 5;-a -u 192.0.2.1:53 -r 198.51.100.3:5353 -m -w 2"
  "sctp-lc|-A --sctp-service 192.0.2.1:9 -s lc;-a --sctp-service 192.0.2.1:9 -r 198.51.100.2 -g"
  "fwmark-persist|-A -f 80 -s wlc -p 60;-a -f 80 -r 198.51.100.2 -g;-a -f 80 -r 198.51.100.3 -g -w 3"
  "fwmark6-prefix|-A -f 1 -6 -s rr -p 120 -M 64;-a -f 1 -6 -r 2001:db8::2 -g"
  "v6-sh-flags|-A -t [2001:db8::1]:443 -s sh -b sh-fallback,sh-port;-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -g;-a -t [2001:db8::1]:443 -r [2001:db8::3]:443 -m -w 4"
  "sctp-mh-port|-A --sctp-service 192.0.2.3:9 -s mh -b mh-port"
  "mh-fallback|-A -t 192.0.2.3:80 -s mh -b mh-fallback,mh-port"
  "udp-pe-sip|-A -u 192.0.2.4:5060 -s rr -p 60 --pe sip;-a -u 192.0.2.4:5060 -r 198.51.100.4:5060 -m"
  "udp-ops|-A -u 192.0.2.5:53 -s rr -o"
  "fwmark-ops|-A -f 7 -s rr -o"
  "sched-lblc|-A -t 192.0.2.10:80 -s lblc"
  "sched-lblcr|-A -t 192.0.2.11:80 -s lblcr"
  "sched-dh|-A -t 192.0.2.12:80 -s dh"
  "sched-sed|-A -t 192.0.2.13:80 -s sed"
  "sched-nq|-A -t 192.0.2.14:80 -s nq"
  "sched-fo|-A -t 192.0.2.15:80 -s fo;-a -t 192.0.2.15:80 -r 198.51.100.15 -g -w 10;-a -t 192.0.2.15:80 -r 198.51.100.16 -g -w 20"
  "sched-ovf|-A -t 192.0.2.16:80 -s ovf;-a -t 192.0.2.16:80 -r 198.51.100.16 -g -w 3"
  "persist-mask4|-A -t 192.0.2.6:80 -s wlc -p 300 -M 255.255.255.0;-a -t 192.0.2.6:80 -r 198.51.100.6 -g"
  "persist-port0|-A -t 192.0.2.7:0 -s rr -p 600;-a -t 192.0.2.7:0 -r 198.51.100.7 -g"
  "flags-generic|-A -t 192.0.2.8:80 -s rr -b flag-1,flag-3"
  "masq-thresholds|-A -t 192.0.2.9:80 -s wlc;-a -t 192.0.2.9:80 -r 198.51.100.9:8080 -m -w 5 -x 100 -y 10;-a -t 192.0.2.9:80 -r 198.51.100.10:8080 -m -x 7"
  "weights-edge|-A -t 192.0.2.17:80 -s wrr;-a -t 192.0.2.17:80 -r 198.51.100.17 -g -w 0;-a -t 192.0.2.17:80 -r 198.51.100.18 -g -w 65535"
  "tun-ipip|-A -t 192.0.2.18:80 -s rr;-a -t 192.0.2.18:80 -r 198.51.100.18 -i"
  "tun-gue-nocsum|-A -t 192.0.2.19:80 -s rr;-a -t 192.0.2.19:80 -r 198.51.100.19 -i --tun-type gue --tun-port 6080 --tun-nocsum"
  "tun-gue-remcsum|-A -t 192.0.2.20:80 -s rr;-a -t 192.0.2.20:80 -r 198.51.100.20 -i --tun-type gue --tun-port 5555 --tun-remcsum"
  "tun-gue-csum|-A -u 192.0.2.21:53 -s rr;-a -u 192.0.2.21:53 -r 198.51.100.21 -i --tun-type gue --tun-port 7000 --tun-csum"
  "tun-gre-csum|-A -t 192.0.2.22:80 -s rr;-a -t 192.0.2.22:80 -r 198.51.100.22 -i --tun-type gre --tun-csum"
  "tun-gre-nocsum|-A -t 192.0.2.23:80 -s rr;-a -t 192.0.2.23:80 -r 198.51.100.23 -i --tun-type gre --tun-nocsum"
  "mixed-family-tunnel|-A -t 192.0.2.24:80 -s rr;-a -t 192.0.2.24:80 -r 2001:db8::24 -i"
  "v6-udp-persist|-A -u [2001:db8::10]:53 -s wrr -p 30 -M 48;-a -u [2001:db8::10]:53 -r [2001:db8::11]:53 -m -w 7 -x 10 -y 2"
  "timeouts|--set 100 20 30"
  "timeouts-partial|--set 0 45 0"
  "daemon-master|--start-daemon master --mcast-interface d0 --syncid 5"
  "daemon-backup-full|--start-daemon backup --mcast-interface d0 --syncid 7 --sync-maxlen 1400 --mcast-group 239.1.1.1 --mcast-port 8849 --mcast-ttl 2"
  "daemon-v6-group|--start-daemon master --mcast-interface d0 --syncid 9 --mcast-group ff02::1:2"
  "many-services|-A -t 192.0.2.30:80 -s rr;-A -t 192.0.2.30:443 -s rr;-A -u 192.0.2.30:53 -s rr;-A -t 198.51.100.30:80 -s wlc;-A -f 300 -s rr;-A -f 2 -6 -s rr;-a -t 192.0.2.30:443 -r 203.0.113.5 -g;-a -t 192.0.2.30:443 -r 203.0.113.4 -g;-a -t 192.0.2.30:443 -r 198.51.100.200 -g"
)

# Three namespaces serve every configuration: ipvsadm writes in ca, lvsctl in cb, and cc receives the restore of
# lvsctl's save. Between configurations each is put back to a new namespace's IPVS state (no services, default
# timeouts, no sync daemon), and that is checked against a namespace made fresh for the purpose, so a leftover
# cannot pass for a result. (Creating and deleting three namespaces per configuration cost more than the checks.)
A=ca; B=cb; C=cc
for ns in $A $B $C fresh; do new_ns $ns; nsx $ns ip link add d0 type dummy; nsx $ns ip link set d0 multicast on up; done
# readall NS 'COMMAND' ...: runs the bash command lines inside NS in one process tree (one namespace entry, not one
# per reading: process starts are the cost in a VM); R[i] is the standard output of command i with its trailing
# newlines removed, as $(...) gives it, and RC[i] its exit status. Standard error goes to the log, as before.
readall() {
  local ns=$1 script="" c line cur="" i=0; shift
  for c in "$@"; do script+="$c"$'\n''rc=$?; echo; echo "@@readall@@ $rc"'$'\n'; done
  R=(); RC=()
  while IFS= read -r line; do
    if [[ $line == "@@readall@@ "* ]]; then
      while [[ $cur == *$'\n' ]]; do cur=${cur%$'\n'}; done
      R[i]=$cur; RC[i]=${line#@@readall@@ }; i=$((i+1)); cur=""
    else cur+="$line"$'\n'; fi
  done <<< "$(ip netns exec "$ns" bash -c "$script")"
}
# drop1 TEXT: TEXT without its first line (tail -n +2).
drop1() { [[ $1 == *$'\n'* ]] && printf '%s' "${1#*$'\n'}"; return 0; }
STATE="ipvsadm -Sn; ipvsadm -L --timeout; ipvsadm -L --daemon"
readall fresh "$STATE"
FRESH=${R[0]}
ip netns del fresh
reset_ns() { # one namespace entry puts a namespace back and reads it back
  local ns
  for ns in $A $B $C; do
    readall $ns "ipvsadm -C; ipvsadm --set 900 120 300
      ipvsadm -L --daemon | grep -q master && ipvsadm --stop-daemon master
      ipvsadm -L --daemon | grep -q backup && ipvsadm --stop-daemon backup; true" "$STATE"
    [ "${R[1]}" == "$FRESH" ] || bad "$name: namespace $ns back to a new namespace's IPVS state" "${R[1]}"
  done
}

ran=0
# CONF_ONLY=NAME,NAME...: only these configurations. KERNEL_SMOKE=1 (the smoke subset on Debian's x86 kernel under
# TCG) runs one block: a persistent fwmark service with DR real servers, and an IPv6 service with scheduler flags.
[ -n "${KERNEL_SMOKE:-}" ] && : "${CONF_ONLY:=fwmark-persist,v6-sh-flags}"
n=0
for c in "${CONFIGS[@]}"; do
  n=$((n+1))
  name=${c%%|*}; body=${c#*|}
  [ -z "${CONF_ONLY:-}" ] || [[ ,$CONF_ONLY, == *",$name,"* ]] || continue
  ran=$((ran+1))
  IFS=';' read -ra cmds <<< "$body"
  errs=""
  for cmd in "${cmds[@]}"; do
    # shellcheck disable=SC2086
    nsx $A ipvsadm $cmd 2>&1 || errs+="ipvsadm $cmd failed; "
    # shellcheck disable=SC2046
    out=$(nsx $B $LVSCTL $(to_lvsctl $cmd) 2>&1) || errs+="lvsctl $(to_lvsctl $cmd) failed: $out; "
  done
  if [ -n "$errs" ]; then bad "$name: both tools accept the commands" "$errs"; reset_ns; continue; fi
  # Every reading of a namespace is taken in one process tree (readall), once, and compared as often as needed.
  readall $A "ipvsadm -Sn" "ipvsadm -Ln --thresholds" "ipvsadm -L --timeout" "ipvsadm -L --daemon" \
    "ipvsadm -Ln --tun-info" "ipvsadm -Ln" "ipvsadm -Ln --persistent-conn" "ipvsadm -Ln --stats --exact" \
    "ipvsadm -Ln --rate" "$LVSCTL list" "$LVSCTL list --thresholds" "$LVSCTL list --persistent-conn" \
    "$LVSCTL list --tun-info" "$LVSCTL list --stats --exact" "$LVSCTL list --rate" "$LVSCTL save --format ipvsadm" \
    "$LVSCTL timeout show" "$LVSCTL daemon show" "$LVSCTL save > /tmp/conf-$n.conf"
  aS=${R[0]} aT=${R[1]} aTO=${R[2]} aD=${R[3]} aTun=${R[4]}
  declare -A aL=([plain]=${R[5]} [--persistent-conn]=${R[6]} ["--stats --exact"]=${R[7]} [--rate]=${R[8]} [--thresholds]=$aT [--tun-info]=$aTun)
  declare -A lL=([plain]=${R[9]} [--thresholds]=${R[10]} [--persistent-conn]=${R[11]} [--tun-info]=${R[12]} ["--stats --exact"]=${R[13]} [--rate]=${R[14]})
  lSave=${R[15]} lTO=${R[16]} lD=${R[17]}
  readall $B "ipvsadm -Sn" "ipvsadm -Ln --thresholds" "ipvsadm -Ln --tun-info" "ipvsadm -L --timeout" "ipvsadm -L --daemon"
  # lvsctl wrote it -> ipvsadm reads the same as what ipvsadm wrote.
  same "$name: ipvsadm -Sn of lvsctl's table == of ipvsadm's" "$aS" "${R[0]}"
  same "$name: ipvsadm -Ln --thresholds, lvsctl's == ipvsadm's" "$(drop1 "$aT")" "$(drop1 "${R[1]}")"
  same "$name: ipvsadm -Ln --tun-info, lvsctl's == ipvsadm's" "$(drop1 "$aTun")" "$(drop1 "${R[2]}")"
  same "$name: timeouts, lvsctl's == ipvsadm's" "$aTO" "${R[3]}"
  same "$name: daemons, lvsctl's == ipvsadm's" "$aD" "${R[4]}"
  # ipvsadm wrote it -> lvsctl reads it back exactly.
  same "$name: lvsctl list == ipvsadm -Ln" "${aL[plain]}" "${lL[plain]}"
  for v in --thresholds --persistent-conn --tun-info "--stats --exact" --rate; do
    same "$name: lvsctl list $v == ipvsadm -Ln $v" "${aL[$v]}" "${lL[$v]}"
  done
  same "$name: lvsctl save --format ipvsadm == ipvsadm -Sn" "$aS" "$lSave"
  same "$name: lvsctl timeout show == ipvsadm -L --timeout" "$aTO" "$lTO"
  same "$name: lvsctl daemon show == ipvsadm -L --daemon" "$aD" "$lD"
  # The lvsctl save format round-trips through restore into the third namespace.
  readall $C "$LVSCTL restore /tmp/conf-$n.conf" "ipvsadm -Sn" "ipvsadm -Ln --thresholds" "ipvsadm -L --daemon" \
    "ipvsadm -L --timeout" "$LVSCTL apply /tmp/conf-$n.conf 2>&1"
  if [ "${RC[0]}" = 0 ]; then
    same "$name: save -> restore round trip (ipvsadm -Sn)" "$aS" "${R[1]}"
    same "$name: save -> restore round trip (thresholds)" "$(drop1 "$aT")" "$(drop1 "${R[2]}")"
    same "$name: save -> restore round trip (daemons, timeouts)" "$([ -n "$aD" ] && echo "$aD"; echo "$aTO")" \
      "$([ -n "${R[3]}" ] && echo "${R[3]}"; echo "${R[4]}")"
    same "$name: apply of the saved file is an empty plan" "no changes" "${R[5]}"
  else
    bad "$name: restore of the saved file" "$(cat /tmp/conf-$n.conf)"
  fi
  reset_ns
done
echo "# $ran of $n configurations"

# JSON carries thresholds (ipvsadm -Sn drops them) and 64-bit counters.
new_ns js
nsx js ipvsadm -A -t 192.0.2.40:80 -s rr
nsx js ipvsadm -a -t 192.0.2.40:80 -r 198.51.100.40 -m -x 123 -y 45
j=$(nsx js $LVSCTL list --json)
python3 - "$j" <<'PY' && ok "list --json carries thresholds and schema" || bad "list --json carries thresholds and schema" "$j"
import json, sys
d = json.loads(sys.argv[1])
rs = d["services"][0]["real_servers"][0]
assert d["schema"] == 1 and rs["upper_threshold"] == 123 and rs["lower_threshold"] == 45 and rs["forwarding"] == "masq"
assert d["services"][0]["spec"] == "-t 192.0.2.40:80"
PY
summary

#!/usr/bin/env bash
# The IPVS sysctls (issue #20) against the real kernel: `sysctl show` lists every knob of /proc/sys/net/ipv4/vs with
# its value; `sysctl set` round-trips every knob (read back with cat), refuses bad values (exit 2) and knobs the
# kernel lacks (exit 1) with nothing written, and acts on the --netns namespace only; `save` writes the changed
# knobs as `sysctl set` lines, `restore` and `apply` set them in a fresh namespace (and put them back when a later
# step fails), and `apply --check` sees a knob changed by hand.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
V=/proc/sys/net/ipv4/vs
T=$(mktemp -d)
trap 'cleanup_ns; rm -rf "$T"' EXIT

# values NS: every knob as NAME=VALUE, read with cat (blanks collapsed: sync_threshold is "3<TAB>50").
values() { nsx "$1" bash -c 'cd '$V' && for f in *; do printf "%s=%s\n" "$f" "$(tr -s "\t " "  " < "$f")"; done'; }
# knob NS NAME: one knob's value, read with cat.
knob() { nsx "$1" cat "$V/$2" | tr -s '\t ' '  '; }
# json_values NS [NAME...]: what `sysctl show --json` says, as NAME=VALUE.
json_values() {
  local n=$1; shift
  nsx "$n" $L sysctl show --json "$@" | python3 -c 'import json,sys; [print(k["name"] + "=" + k["value"]) for k in json.load(sys.stdin)["sysctls"]]'
}

new_ns sa
nsx sa ipvsadm -Ln > /dev/null   # IPVS loaded in the namespace (the VM loads every module at boot)

# --- show: every knob the running kernel has, with its value ----------------------------------------------------------
linux61="am_droprate amemthresh backup_only cache_bypass conn_reuse_mode drop_entry drop_packet expire_nodest_conn
expire_quiescent_template ignore_tunneled lblc_expiration lblcr_expiration nat_icmp_send pmtu_disc run_estimation
schedule_icmp secure_tcp sloppy_sctp sloppy_tcp snat_reroute sync_persist_mode sync_ports sync_qlen_max
sync_refresh_period sync_retries sync_sock_size sync_threshold sync_version"
have=$(nsx sa ls $V)
missing=""; for k in $linux61; do grep -qx "$k" <<< "$have" || missing+=" $k"; done
[ -z "$missing" ] && ok "the kernel has the 28 knobs every 6.1 build has ($(wc -l <<< "$have") in all)" || bad "6.1 knobs missing" "$missing"
out=$(nsx sa $L sysctl show 2>&1); rc=$?
[ $rc = 0 ] && ok "sysctl show: exit 0" || bad "sysctl show (exit $rc)" "$out"
same "sysctl show lists every knob of $V, in order" "$have" "$(sed 1d <<< "$out" | awk '{print $1}')"
same "sysctl show --json: every knob with the value cat reads" "$(values sa)" "$(json_values sa)"
bad_rows=""
while IFS='=' read -r k v; do grep -q "^$k  *$v  " <<< "$out" || bad_rows+=" $k=$v"; done <<< "$(values sa)"
[ -z "$bad_rows" ] && ok "sysctl show: each row has the value cat reads" || bad "sysctl show rows" "$bad_rows"$'\n'"$out"
[ "$(grep -c changed <<< "$out")" = 0 ] && ok "a fresh namespace: no knob differs from the 6.1 defaults" || bad "changed in a fresh namespace" "$out"
# The defaults lvsctl knows are this kernel's (sync_qlen_max depends on the memory).
defaults=$(nsx sa $L sysctl show --json | python3 -c '
import json, sys
for k in json.load(sys.stdin)["sysctls"]:
    if k.get("default") is not None and k["default"] != k["value"]: print(k["name"], k["value"], k["default"])')
same "every fixed default of lvsctl's table is the value of a fresh namespace" "" "$defaults"
out=$(nsx sa $L sysctl show --explain 2>&1)
n=$(grep -c '^    .* Accepts: ' <<< "$out")
[ "$n" = "$(wc -l <<< "$have")" ] && ok "sysctl show --explain: one line under every knob ($n)" || bad "--explain lines: $n" "$out"
same "sysctl show NAME: that knob" "expire_nodest_conn=0
sync_threshold=3 50" "$(json_values sa net.ipv4.vs.expire_nodest_conn sync_threshold)"
expect_rc "sysctl show of an unknown knob: exit 2" 2 nsx sa $L sysctl show nosuch_knob
expect_rc "sysctl show of a knob this kernel lacks (est_nice, 6.2+): exit 1" 1 nsx sa $L sysctl show est_nice

# --- set: a non-default valid value on every knob, read back with cat, then put back -----------------------------------
declare -A try=(
  [am_droprate]=20 [amemthresh]=2048 [backup_only]=1 [cache_bypass]=1 [conn_reuse_mode]=2 [conntrack]=1
  [drop_entry]=3 [drop_packet]=3 [expire_nodest_conn]=1 [expire_quiescent_template]=1 [ignore_tunneled]=1
  [lblc_expiration]=3600 [lblcr_expiration]=7200 [nat_icmp_send]=1 [pmtu_disc]=0 [run_estimation]=0 [schedule_icmp]=1
  [secure_tcp]=3 [sloppy_sctp]=1 [sloppy_tcp]=1 [snat_reroute]=0 [sync_persist_mode]=1 [sync_ports]=4
  [sync_qlen_max]=4096 [sync_refresh_period]=10 [sync_retries]=2 [sync_sock_size]=65536 [sync_threshold]="4 60"
  [sync_version]=0 [debug_level]=3
)
before=$(values sa)
args=(); want=""
for k in $have; do
  [ "$k" = debug_level ] && continue   # global: read-only outside the initial namespace (below)
  [ -n "${try[$k]:-}" ] || { bad "no test value for knob $k"; continue; }
  args+=("$k=${try[$k]}"); want+="$k=${try[$k]}"$'\n'
done
out=$(nsx sa $L sysctl set "${args[@]}" 2>&1); rc=$?
[ $rc = 0 ] && ok "sysctl set of ${#args[@]} knobs at once: exit 0" || bad "sysctl set of every knob (exit $rc)" "$out"
got=""; for a in "${args[@]}"; do k=${a%%=*}; got+="$k=$(knob sa "$k")"$'\n'; done
same "every knob reads back (cat) as set" "$want" "$got"
same "sysctl show --json shows the new values" "$(values sa)" "$(json_values sa)"
# sync_qlen_max has no fixed default (1/32 of the memory pages), so it is never marked.
[ "$(nsx sa $L sysctl show | grep -c changed)" = "$(( ${#args[@]} - 1 ))" ] && ok "sysctl show marks the $(( ${#args[@]} - 1 )) with a fixed default changed" || bad "changed marks" "$(nsx sa $L sysctl show)"
back=(); while IFS= read -r l; do [ "${l%%=*}" = debug_level ] || back+=("$l"); done <<< "$before"
expect_rc "sysctl set puts every knob back" 0 nsx sa $L sysctl set "${back[@]}"
same "every knob reads back as before" "$before" "$(values sa)"
# One knob at a time, in both spellings.
for k in expire_nodest_conn sync_threshold sync_ports; do
  nsx sa $L sysctl set "net.ipv4.vs.$k=${try[$k]}" && [ "$(knob sa $k)" = "${try[$k]}" ] \
    && ok "sysctl set net.ipv4.vs.$k=${try[$k]}" || bad "sysctl set net.ipv4.vs.$k" "$(knob sa $k)"
done
nsx sa $L sysctl set sync_threshold=3,50 expire_nodest_conn=0 sync_ports=1
same "sync_threshold=3,50 is '3 50'" "$before" "$(values sa)"
# debug_level is global: read-only in a namespace, settable in the initial one (the VM's, thrown away after).
if grep -qx debug_level <<< "$have"; then
  out=$(nsx sa $L sysctl set expire_nodest_conn=1 debug_level=3 2>&1); rc=$?
  [ $rc = 1 ] && grep -q "read-only in this network namespace" <<< "$out" && ok "debug_level in a namespace: exit 1, read-only" || bad "debug_level in a namespace (exit $rc)" "$out"
  same "... and expire_nodest_conn was not written" "0" "$(knob sa expire_nodest_conn)"
  d0=$(cat $V/debug_level)
  $L sysctl set debug_level=3 && [ "$(cat $V/debug_level)" = 3 ] && ok "debug_level=3 in the initial namespace" || bad "debug_level in the initial namespace"
  $L sysctl set debug_level="$d0"; same "debug_level put back" "$d0" "$(cat $V/debug_level)"
fi

# --- bad values: exit 2, nothing written; knobs the kernel lacks: exit 1, nothing written -----------------------------------
before=$(values sa)
for a in "expire_nodest_conn=2" "conn_reuse_mode=4" "sync_ports=3" "sync_ports=128" "sync_threshold=50 3" "am_droprate=0" \
         "amemthresh=-1" "sync_retries=4" "sync_version=2" "nosuch_knob=1" "expire_nodest_conn" "=1" \
         "net.ipv4.conf.all.arp_ignore=1"; do
  expect_rc "sysctl set '$a': exit 2" 2 nsx sa $L sysctl set "$a"
done
expect_rc "a good value before a bad one: exit 2" 2 nsx sa $L sysctl set expire_nodest_conn=1 sloppy_tcp=1 conn_reuse_mode=9
expect_rc "a knob given twice: exit 2" 2 nsx sa $L sysctl set expire_nodest_conn=1 net.ipv4.vs.expire_nodest_conn=0
out=$(nsx sa $L sysctl set expire_nodest_conn=1 est_nice=5 2>&1); rc=$?
[ $rc = 1 ] && grep -q "no IPVS sysctl net.ipv4.vs.est_nice" <<< "$out" && ok "a knob this kernel lacks (est_nice): exit 1, named" || bad "missing knob (exit $rc)" "$out"
same "nothing was written by any of them" "$before" "$(values sa)"

# --- --netns: another namespace than the current one --------------------------------------------------------------------
new_ns sb
nsx sb ipvsadm -Ln > /dev/null
init_before=$(cat $V/expire_nodest_conn $V/sloppy_tcp)
expect_rc "from namespace sa: sysctl set --netns sb" 0 nsx sa $L --netns sb sysctl set expire_nodest_conn=1 sloppy_tcp=1
same "sb has the new values" "1 1" "$(knob sb expire_nodest_conn) $(knob sb sloppy_tcp)"
same "sa (the current namespace) is unchanged" "$before" "$(values sa)"
same "the initial namespace is unchanged" "$init_before" "$(cat $V/expire_nodest_conn $V/sloppy_tcp)"
same "sysctl show --netns sb reads sb" "expire_nodest_conn=1" "$(nsx sa $L sysctl show --netns sb --json expire_nodest_conn | python3 -c 'import json,sys; k=json.load(sys.stdin)["sysctls"][0]; print(k["name"] + "=" + k["value"])')"

# --- save, restore, apply ----------------------------------------------------------------------------------------------
new_ns sc
nsx sc $L vs add -t 192.0.2.10:80 -s rr
nsx sc $L sysctl set expire_nodest_conn=1 expire_quiescent_template=1 conn_reuse_mode=0 'sync_threshold=4 60' sync_ports=2
nsx sc $L save "$T/s.conf"
same "save writes the changed knobs, one sysctl set line each" "sysctl set conn_reuse_mode=0
sysctl set expire_nodest_conn=1
sysctl set expire_quiescent_template=1
sysctl set sync_ports=2
sysctl set 'sync_threshold=4 60'" "$(grep '^sysctl' "$T/s.conf")"
saved="conn_reuse_mode=0 expire_nodest_conn=1 expire_quiescent_template=1 sync_ports=2 sync_threshold=4 60"
readback() { local s=""; for k in conn_reuse_mode expire_nodest_conn expire_quiescent_template sync_ports sync_threshold; do s+="$k=$(knob "$1" $k) "; done; echo "${s% }"; }

new_ns sd
out=$(nsx sd $L restore --dry-run "$T/s.conf" 2>&1)
grep -q '^~ sysctl expire_nodest_conn 0 -> 1$' <<< "$out" && grep -q "^~ sysctl sync_threshold '3 50' -> '4 60'$" <<< "$out" \
  && ok "restore --dry-run plans the sysctls" || bad "restore --dry-run" "$out"
same "restore --dry-run changed nothing" "0" "$(knob sd expire_nodest_conn)"
expect_rc "restore in a fresh namespace" 0 nsx sd $L restore "$T/s.conf"
same "restore set the saved knobs (read back from /proc)" "$saved" "$(readback sd)"
same "restore loaded the table too" "$(nsx sc ipvsadm -Sn)" "$(nsx sd ipvsadm -Sn)"
echo "vs add -t 192.0.2.20:80 -s wlc" > "$T/plain.conf"
nsx sd $L restore "$T/plain.conf"
same "a restore without sysctl lines leaves the knobs alone" "$saved" "$(readback sd)"

new_ns se
out=$(nsx se $L apply "$T/s.conf" 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^~ sysctl conn_reuse_mode 1 -> 0$' <<< "$out" && ok "apply in a fresh namespace prints the sysctl changes" || bad "apply (exit $rc)" "$out"
same "apply set the saved knobs (read back from /proc)" "$saved" "$(readback se)"
out=$(nsx se $L apply "$T/s.conf" --check 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "no changes" ] && ok "apply --check after apply: exit 0, no changes" || bad "apply --check after apply (exit $rc)" "$out"
nsx se bash -c "echo 0 > $V/expire_nodest_conn"
out=$(nsx se $L apply "$T/s.conf" --check 2>&1); rc=$?
[ $rc = 3 ] && [ "$out" = "~ sysctl expire_nodest_conn 0 -> 1" ] && ok "after echo 0 > expire_nodest_conn by hand: --check exit 3, the plan names it" || bad "apply --check after a hand change (exit $rc)" "$out"
same "apply --check changed nothing" "0" "$(knob se expire_nodest_conn)"
nsx se $L apply "$T/s.conf" > /dev/null
same "apply put expire_nodest_conn back" "1" "$(knob se expire_nodest_conn)"
expect_rc "and --check is 0 again" 0 nsx se $L apply "$T/s.conf" --check
nsx se bash -c "echo 1 > $V/sloppy_tcp"
expect_rc "a knob the file does not name is not drift (sloppy_tcp by hand): exit 0" 0 nsx se $L apply "$T/s.conf" --check
nsx se $L apply "$T/s.conf" > /dev/null
same "apply left sloppy_tcp alone" "1" "$(knob se sloppy_tcp)"
nsx se bash -c "echo 5 > $V/expire_quiescent_template"
expect_rc "a boolean set to 5 by hand means 1: no drift" 0 nsx se $L apply "$T/s.conf" --check

# --- a failure later in restore and apply puts the knobs back --------------------------------------------------------------
new_ns sf
printf '%s\n' "sysctl set expire_nodest_conn=1 sloppy_tcp=1" "vs add -t 192.0.2.30:80 -s nosuchsched" > "$T/fail.conf"
out=$(nsx sf $L restore "$T/fail.conf" 2>&1); rc=$?
[ $rc = 1 ] && ok "restore with a scheduler the kernel refuses: exit 1" || bad "restore fail.conf (exit $rc)" "$out"
same "... and the sysctls it set were put back" "0 0" "$(knob sf expire_nodest_conn) $(knob sf sloppy_tcp)"
out=$(nsx sf $L apply "$T/fail.conf" 2>&1); rc=$?
[ $rc = 1 ] && ok "apply of the same file: exit 1" || bad "apply fail.conf (exit $rc)" "$out"
same "... and the sysctls were put back" "0 0" "$(knob sf expire_nodest_conn) $(knob sf sloppy_tcp)"
printf '%s\n' "sysctl set expire_nodest_conn=1" "sysctl set est_nice=5" "vs add -t 192.0.2.30:80" > "$T/missing.conf"
out=$(nsx sf $L restore "$T/missing.conf" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "missing.conf:2: the running kernel has no IPVS sysctl net.ipv4.vs.est_nice" <<< "$out" \
  && ok "restore of a knob this kernel lacks: exit 1, FILE:LINE" || bad "restore missing.conf (exit $rc)" "$out"
same "... nothing changed" "0 " "$(knob sf expire_nodest_conn) $(nsx sf ipvsadm -Sn)"
printf '%s\n' "vs add -t 192.0.2.30:80" "sysctl set sync_ports=3" > "$T/bad.conf"
out=$(nsx sf $L restore "$T/bad.conf" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "bad.conf:2: invalid value '3' for sync_ports" <<< "$out" && ok "restore of a bad value: exit 2, FILE:LINE" || bad "restore bad.conf (exit $rc)" "$out"
summary

#!/usr/bin/env bash
# Scale: 100,000 real servers over 10,000 services, built with `lvsctl restore` in a fresh namespace.
# `lvsctl list --json` and `lvsctl save` (both formats) return every entry: exact counts, no duplicates, the
# same set as the generated file; also while a concurrent writer (ipvsadm adding and deleting an unrelated
# service in a loop) makes the kernel flag dumps NLM_F_DUMP_INTR. Peak RSS of each run is reported.
source "$(dirname "$0")/lib.sh"
L=$LVSCTL
NS=scale
new_ns $NS
D=/tmp/scale; rm -rf $D; mkdir -p $D
NSVC=${SCALE_SERVICES:-10000}; NRS=${SCALE_SERVERS:-10}
# Services 192.0.2.x / 198.51.100.x on ports 1000.., each with NRS real servers in 203.0.113.0/24, masq.
python3 - "$D/big.conf" "$D/expected" "$NSVC" "$NRS" <<'PY'
import sys
conf, exp, n, r = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(conf, "w") as f, open(exp, "w") as e:
    for i in range(n):
        vip = "%s.%d" % ("192.0.2" if i % 2 else "198.51.100", 1 + (i // 2) % 250)
        port = 1000 + i // 500
        f.write("vs add -t %s:%d -s wrr\n" % (vip, port))
        e.write("S %s:%d\n" % (vip, port))
        for j in range(r):
            f.write("rs add -t %s:%d -r 203.0.113.%d:%d -m -w %d\n" % (vip, port, 1 + j, 8000 + i % 1000, 1 + j))
            e.write("R %s:%d 203.0.113.%d:%d\n" % (vip, port, 1 + j, 8000 + i % 1000))
PY
sort -o $D/expected $D/expected
want_s=$(grep -c '^S' $D/expected); want_r=$(grep -c '^R' $D/expected)
echo "# generated $want_s services, $want_r real servers ($(wc -l < $D/big.conf) lines)"

rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

t0=$(date +%s.%N)
/usr/bin/time -v ip netns exec $NS $L restore $D/big.conf > $D/restore.out 2> $D/restore.time; rc=$?
same "restore of $want_s services / $want_r real servers: exit 0" 0 "$rc"
echo "# restore: $(awk -v a=$t0 -v b=$(date +%s.%N) 'BEGIN{printf "%.1f", b-a}') s, peak RSS $(rss $D/restore.time) KiB"
[ $rc -eq 0 ] || tail -3 $D/restore.time

# The set an lvsctl list --json holds, as sorted S/R lines; also counts duplicates.
from_json() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for s in d["services"]:
    if s["address"].startswith("192.0.2.250") and s["port"] == 9: continue  # the concurrent writer
    k = "%s:%d" % (s["address"], s["port"])
    out.append("S " + k)
    for r in s["real_servers"]:
        out.append("R %s %s:%d" % (k, r["address"], r["port"]))
print("\n".join(sorted(out)))
' "$1"
}
# The same from lvsctl-format save output (vs add / rs add lines).
from_save() {
  awk '$1=="vs" && $2=="add" {print "S " $4} $1=="rs" && $2=="add" {print "R " $4 " " $6}' "$1" \
    | sed 's/:\([0-9]*\)$/:\1/' | grep -v ' 192.0.2.250:9' | sort
}
# ipvsadm-format save output (-A / -a lines).
from_ipvsadm() {
  awk '$1=="-A" {print "S " $3} $1=="-a" {print "R " $3 " " $5}' "$1" | grep -v ' 192.0.2.250:9' | sort
}
check_set() {  # NAME FILE-WITH-SORTED-LINES
  local name=$1 f=$2
  local s r dup
  s=$(grep -c '^S' $f); r=$(grep -c '^R' $f); dup=$(uniq -d $f | wc -l)
  if [ "$s" == "$want_s" ] && [ "$r" == "$want_r" ] && [ "$dup" == 0 ] && cmp -s $f $D/expected; then
    ok "$name: $s services, $r real servers, no duplicates, exactly the file's entries"
  else bad "$name" "services $s/$want_s, real servers $r/$want_r, duplicates $dup; diff: $(diff $D/expected $f | head -5)"; fi
}

run_checks() {  # LABEL
  local label=$1
  /usr/bin/time -v ip netns exec $NS $L list --json > $D/list.json 2> $D/list.time; local rc=$?
  [ $rc -eq 0 ] || bad "$label list --json: exit $rc" "$(tail -3 $D/list.time)"
  from_json $D/list.json > $D/list.set
  check_set "$label list --json" $D/list.set
  echo "# $label list --json: peak RSS $(rss $D/list.time) KiB, $(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' $D/list.time) wall"
  /usr/bin/time -v ip netns exec $NS $L save > $D/save.conf 2> $D/save.time; rc=$?
  [ $rc -eq 0 ] || bad "$label save: exit $rc" "$(tail -3 $D/save.time)"
  from_save $D/save.conf > $D/save.set
  check_set "$label save" $D/save.set
  echo "# $label save: peak RSS $(rss $D/save.time) KiB, $(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' $D/save.time) wall"
  /usr/bin/time -v ip netns exec $NS $L save --format ipvsadm > $D/save.ipvsadm 2> $D/savei.time; rc=$?
  [ $rc -eq 0 ] || bad "$label save --format ipvsadm: exit $rc" "$(tail -3 $D/savei.time)"
  from_ipvsadm $D/save.ipvsadm > $D/savei.set
  check_set "$label save --format ipvsadm" $D/savei.set
  echo "# $label save --format ipvsadm: peak RSS $(rss $D/savei.time) KiB"
}

run_checks "quiet:"

# ipvsadm itself reads the same table (one reference dump, outside the writer loop).
ip netns exec $NS ipvsadm -Sn > $D/ipvsadm.out
from_ipvsadm $D/ipvsadm.out > $D/ipvsadm.set
check_set "reference: ipvsadm -Sn" $D/ipvsadm.set

# A concurrent writer: add and delete an unrelated service as fast as ipvsadm can, during every dump.
ip netns exec $NS bash -c 'n=0; while :; do ipvsadm -A -t 192.0.2.250:9 -s rr; ipvsadm -a -t 192.0.2.250:9 -r 203.0.113.99:9 -m; ipvsadm -D -t 192.0.2.250:9; n=$((n+1)); echo $n > /tmp/scale/writes; done' >/dev/null 2>&1 &
writer=$!
sleep 1
w0=$(cat $D/writes 2>/dev/null || echo 0)
run_checks "with a concurrent writer:"
w1=$(cat $D/writes 2>/dev/null || echo 0)
kill $writer 2>/dev/null; wait $writer 2>/dev/null
ip netns exec $NS ipvsadm -D -t 192.0.2.250:9 2>/dev/null
# The writer must have been busy during the dumps for the check to mean anything.
[ $((w1 - w0)) -gt 0 ] && ok "the concurrent writer made $((w1 - w0)) add/add-server/delete rounds during the dumps" \
  || bad "the concurrent writer did not run during the dumps" "$w0 -> $w1"
rm -rf $D
summary

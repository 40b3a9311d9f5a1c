#!/usr/bin/env bash
# The guides' examples, run: every command in a ```sh block of README.md and Documentation/*.md, and every
# 'lvsctl ...' line of the hand-written man EXAMPLES (Documentation/man/EXAMPLES-*.mdoc), in order, each guide
# in its own fresh network namespaces, asserting exit 0 (or the exit a <!-- exit: N --> marker documents).
# The convention and the markers (skip, ns, exit, setup, file, output) are described in Tests/Kernel/docs-examples.py
# and Documentation/testing.md. Blocks marked skip are reported as SKIP with their reason, never silently; an
# lvsctl example outside a ```sh block is a failure, because it would never be run. A text block marked
# <!-- output --> must equal the standard output of the command run just before it (trailing blanks aside).
#
# Each guide runs with:
#  - namespaces 'main' (the default), every <!-- ns: NAME --> and every '--netns NAME' of its commands, made
#    fresh for the guide: lo up plus two dummy interfaces eth0 and eth1 (up, multicast on), and removed after;
#  - a private mount namespace in which /etc is a writable copy of the host's /etc (the VM's root is read-only),
#    fresh per guide, so examples can write /etc/lvsctl/lvsctl.conf and /etc/ipvsadm.rules; /etc/lvsctl/ holds
#    lvsctl.conf.example, as after `make install` (lvsctl save does not create a missing directory);
#  - the working directory a fresh temporary directory, PATH starting with a directory holding only 'lvsctl'
#    (this tree's .build/debug/lvsctl), and $REPO set to the repository.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

# Re-run inside a private mount namespace, so the /etc copies never leak out of this test.
if [ -z "${T_DOCS_INNER:-}" ]; then
  T_DOCS_INNER=1 exec unshare --mount --propagation private bash "$HERE/t-docs.sh" "$@"
fi
trap - EXIT   # lib.sh's namespace cleanup: this script removes its own namespaces per guide

work=$(mktemp -d /tmp/t-docs.XXXXXX)
mkdir -p "$work/bin"; ln -s "$LVSCTL" "$work/bin/lvsctl"
export PATH="$work/bin:$PATH" REPO
cp -a /etc "$work/etc.orig"

cd "$REPO"
guides=(README.md Documentation/*.md Documentation/man/EXAMPLES-*.mdoc)
python3 "$HERE/docs-examples.py" "${guides[@]}" > "$work/plan" || { bad "docs-examples.py extracts the examples"; summary; exit 1; }
RUN=0; SKIP=0; SKIPS=()
US=$'\x1f'

ns_fresh() {  # ns_fresh NAME: a new namespace with lo, eth0, eth1 up
  ip netns del "$1" 2>/dev/null
  ip netns add "$1" && ip -n "$1" link set lo up &&
  for i in eth0 eth1; do ip -n "$1" link add $i type dummy && ip -n "$1" link set $i multicast on up; done
}

guide_begin() {  # guide_begin FILE: fresh /etc, cwd, namespaces for the guide's commands
  local g=$1 n
  mountpoint -q /etc && umount -l /etc
  rm -rf "$work/etc"; cp -a "$work/etc.orig" "$work/etc"; mount --bind "$work/etc" /etc
  # The guides assume lvsctl is installed: make install creates /etc/lvsctl/ with the example configuration.
  install -D -m 0644 "$REPO/Scripts/install/lvsctl.conf.example" /etc/lvsctl/lvsctl.conf.example
  rm -rf "$work/cwd"; mkdir "$work/cwd"
  G_NS=$( { awk -F"$US" -v g="$g" '$1==g {print $3}' "$work/plan"
            awk -F"$US" -v g="$g" '$1==g && $4=="run" {print $7}' "$work/plan" | grep -o -- '--netns [A-Za-z0-9_.-]*' | cut -d' ' -f2
          } | sort -u)
  for n in $G_NS; do ns_fresh "$n" || bad "$g: namespace $n created"; done
}

guide_end() {
  local n
  for n in ${G_NS:-}; do ip netns del "$n" 2>/dev/null; done
  G_NS=
}

current=""
while IFS="$US" read -r src line ns kind code reason cmd; do
  [ -z "$src" ] && continue
  if [ "$src" != "$current" ]; then
    [ -n "$current" ] && { guide_end; echo "#   ($current: $(( $(date +%s) - g_start )) s)"; }
    current=$src; echo "# $src"; g_start=$(date +%s); guide_begin "$src"; echo "#   (namespaces and /etc ready after $(( $(date +%s) - g_start )) s)"
  fi
  where="$src:$line"
  case $kind in
    skip)
      SKIP=$((SKIP+1)); SKIPS+=("$where: $cmd ($reason)"); echo "SKIP - $where [$ns]: $cmd  # $reason" ;;
    bad)
      bad "$where: $reason: $cmd" ;;
    setup)
      (cd "$work/cwd" && ip netns exec "$ns" bash -c "$cmd") > "$work/out" 2>&1 \
        && echo "     setup $where [$ns]: $cmd" || bad "$where: setup step failed: $cmd" "$(head -5 "$work/out")" ;;
    output)
      # Trailing blanks are not compared: ipvsadm's layout pads the last column, editors strip the padding.
      printf '%s' "$cmd" | base64 -d | sed 's/[[:blank:]]*$//' > "$work/want"
      sed 's/[[:blank:]]*$//' "$work/out.stdout" > "$work/got"
      if cmp -s "$work/want" "$work/got"; then ok "$where: the output shown is what '$last' prints"
      else bad "$where: the output shown is not what '$last' prints" "$(diff "$work/want" "$work/got" | head -20)"; fi ;;
    file)
      (cd "$work/cwd" && mkdir -p "$(dirname "$reason")" && printf '%s' "$cmd" | base64 -d > "$reason") \
        && echo "     file  $where: $reason" || bad "$where: writing $reason" ;;
    run)
      RUN=$((RUN+1))
      (cd "$work/cwd" && timeout 120 ip netns exec "$ns" bash -c "$cmd" < /dev/null) > "$work/out.stdout" 2> "$work/out.stderr"
      rc=$?; last=$cmd
      cat "$work/out.stdout" "$work/out.stderr" > "$work/out"
      if [ "$rc" == "$code" ]; then ok "$where [$ns]: $cmd"
      else bad "$where [$ns]: $cmd" "exit $rc, documented $code:
$(head -15 "$work/out")"; fi ;;
  esac
done < "$work/plan"
[ -n "$current" ] && guide_end
umount -l /etc 2>/dev/null
rm -rf "$work"

# The examples must not have shrunk to nothing (e.g. a broken extractor).
[ "$RUN" -ge 100 ] && ok "ran $RUN examples from ${#guides[@]} files (at least 100)" || bad "ran only $RUN examples"
echo "# t-docs: $RUN examples run, $SKIP skipped:"
for s in "${SKIPS[@]}"; do echo "#   SKIP $s"; done
summary

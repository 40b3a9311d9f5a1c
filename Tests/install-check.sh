#!/usr/bin/env bash
# make install DESTDIR=$(mktemp -d): every file in place (binary runs, man pages, completions, unit, example
# config, guides) with the hand-written man sections, the man pages and completions equal what the current sources
# generate (Tests/docs-check.sh), then make uninstall removes exactly those files. Prints "install check: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
P=0; F=0
ok() { P=$((P+1)); echo "ok   - $1"; }
bad() { F=$((F+1)); echo "FAIL - $1"; }
if make -s install DESTDIR="$d" PREFIX=/usr/local >"$d.log" 2>&1; then ok "make install DESTDIR exits 0"; else bad "make install DESTDIR exits 0"; tail -20 "$d.log"; fi
for f in bin/lvsctl share/man/man8/lvsctl.8 share/man/man8/lvsctl.dr.setup.8 share/man/man8/lvsctl.bundle.add.8 \
         share/bash-completion/completions/lvsctl share/zsh/vendor-completions/_lvsctl \
         share/fish/vendor_completions.d/lvsctl.fish lib/systemd/system/lvsctl.service lib/systemd/system/lvsctl-monitor.service \
         share/doc/lvsctl/direct-routing.md share/lvsctl/manifest; do
  [ -s "$d/usr/local/$f" ] && ok "installed $f" || bad "installed $f"
done
[ -s "$d/etc/lvsctl/lvsctl.conf.example" ] && ok "installed /etc/lvsctl/lvsctl.conf.example" || bad "installed /etc/lvsctl/lvsctl.conf.example"
readelf -S "$d/usr/local/bin/lvsctl" 2>/dev/null | grep -q '\.dynsym' && ! readelf -S "$d/usr/local/bin/lvsctl" | grep -q '\.symtab' && ok "the installed binary is stripped ($(( $(stat -c %s "$d/usr/local/bin/lvsctl") / 1048576 )) MiB; unstripped $(( $(stat -c %s .build/release/lvsctl) / 1048576 )) MiB)" || bad "the installed binary is stripped"
[ "$("$d/usr/local/bin/lvsctl" --version)" == "lvsctl $(sed -n 's/^let lvsctlVersion = "\(.*\)"/\1/p' Sources/lvsctl/Root.swift)" ] && ok "installed binary runs --version" || bad "installed binary runs --version"
grep -q '^ExecStart=/usr/local/bin/lvsctl restore /etc/lvsctl/lvsctl.conf$' "$d/usr/local/lib/systemd/system/lvsctl.service" && ok "unit restores /etc/lvsctl/lvsctl.conf with the installed binary" || bad "unit ExecStart"
grep -q '^Before=network-online.target' "$d/usr/local/lib/systemd/system/lvsctl.service" && ok "unit is ordered before network-online.target" || bad "unit ordering"
m="$d/usr/local/lib/systemd/system/lvsctl-monitor.service"
grep -q '^ExecStart=/usr/local/bin/lvsctl monitor /etc/lvsctl/lvsctl.conf$' "$m" && grep -q '^Type=notify$' "$m" \
  && grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$m" && ok "monitor unit: Type=notify, runs lvsctl monitor, reload is SIGHUP" || bad "monitor unit" "$(cat "$m")"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$d/usr/local/lib/systemd/system/lvsctl.service" >/dev/null 2>"$d.verify" && ok "systemd-analyze verify accepts the unit" || { grep -v -e 'not executable' -e "Command 'man " "$d.verify" | grep -q . && bad "systemd-analyze verify: $(head -1 "$d.verify")" || ok "systemd-analyze verify accepts the unit (binary path not on this host)"; }
fi
# The hand-written man sections (Documentation/man) are in the installed pages.
man8="$d/usr/local/share/man/man8"
grep -q '^\.Sh EXAMPLES$' "$man8/lvsctl.8" && grep -q '^lvsctl dr setup --vip 192.0.2.10$' "$man8/lvsctl.8" && ok "lvsctl.8 has the hand-written EXAMPLES" || bad "lvsctl.8 has the hand-written EXAMPLES"
n_ex=0; for e in Documentation/man/EXAMPLES-*.mdoc; do p=$(basename "$e" .mdoc); p=${p#EXAMPLES-}; grep -q '^\.Sh EXAMPLES$' "$man8/$p.8" 2>/dev/null && n_ex=$((n_ex+1)); done
[ "$n_ex" == "$(ls Documentation/man/EXAMPLES-*.mdoc | wc -l)" ] && ok "all $n_ex pages with hand-written EXAMPLES have them installed" || bad "only $n_ex pages have their EXAMPLES installed"
grep -q '^\.Sh FILES$' "$man8/lvsctl.8" && grep -q '^\.It Pa /etc/lvsctl/lvsctl.conf$' "$man8/lvsctl.8" && grep -q '^\.It Pa /run/lvsctl/lock$' "$man8/lvsctl.8" \
  && grep -q 'lvsctl.service$' "$man8/lvsctl.8" && grep -q '^\.Sh FILES$' "$man8/lvsctl.dr.setup.8" && ok "FILES (lvsctl.conf, /run/lvsctl lock and dr state, the unit) in lvsctl.8 and lvsctl.dr.setup.8" || bad "FILES sections installed"
# Drift: installed man pages and completions equal what the current sources generate (Tests/docs-check.sh).
if Tests/docs-check.sh "$d/usr/local" > "$d.docs" 2>&1; then ok "docs-check: $(tail -1 "$d.docs")"; else bad "docs-check: $(tail -1 "$d.docs")"; grep FAIL -A5 "$d.docs"; fi
n=$(find "$d" -type f | wc -l); m=$(wc -l < "$d/usr/local/share/lvsctl/manifest")
[ "$n" == "$m" ] && ok "manifest lists every installed file ($n)" || bad "manifest lists every installed file ($n files, $m listed)"
make -s uninstall DESTDIR="$d" PREFIX=/usr/local >/dev/null 2>&1 && ok "make uninstall exits 0" || bad "make uninstall exits 0"
left=$(find "$d" -type f | wc -l)
[ "$left" == 0 ] && ok "uninstall removed every installed file" || bad "uninstall left $left files"
rm -f "$d.log" "$d.verify" "$d.docs"
echo "install check: $P passed, $F failed"
[ $F == 0 ]

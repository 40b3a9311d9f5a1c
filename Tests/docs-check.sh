#!/usr/bin/env bash
# Tests/docs-check.sh [ROOT]: the installed man pages and shell completions under ROOT (an installed PREFIX,
# e.g. $DESTDIR/usr/local; default /usr/local) equal what the current sources generate, so they cannot drift:
#  - man pages: generate-manual run afresh on the freshly built .build/debug/lvsctl (not the installed binary),
#    completed with Documentation/man by Scripts/install/man-pages.sh, equal every installed page (ignoring the
#    .Dd date line), page for page, with no page missing or extra;
#  - every command of the binary (one --help snapshot per command in Tests/Fixtures/help) has a page;
#  - every hand-written section file names a page that exists, and the installed pages hold them;
#  - bash, zsh and fish completions equal `lvsctl --generate-completion-script SHELL` of the debug binary.
# Called by Tests/install-check.sh after `make install DESTDIR=...`. Prints "docs check: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
root=${1:-/usr/local}
P=0; F=0
ok() { P=$((P+1)); echo "ok   - $1"; }
bad() { F=$((F+1)); echo "FAIL - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/       /'; }
bin=.build/debug/lvsctl
[ -x "$bin" ] || { echo "docs-check: build first (swift build)"; exit 1; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT

# Man pages, generated afresh.
gm=$(ls .build/*/debug/generate-manual-tool .build/*/release/generate-manual-tool 2>/dev/null | head -1)
if [ -z "$gm" ]; then
  swift package --allow-writing-to-package-directory generate-manual --multi-page --section 8 >/dev/null 2>&1
  gm=$(ls .build/*/debug/generate-manual-tool .build/*/release/generate-manual-tool 2>/dev/null | head -1)
fi
mkdir -p "$t/gen"
if [ -x "$gm" ] && "$gm" "$bin" --multi-page --section 8 --authors 'lvsctl developers' --output-directory "$t/gen" >/dev/null 2>"$t/gm.err"; then
  ok "generate-manual runs on the current binary ($(ls "$t/gen" | wc -l) pages)"
else
  bad "generate-manual runs on the current binary" "$(cat "$t/gm.err" 2>/dev/null)"
fi
Scripts/install/man-pages.sh "$t/gen" "$t/man" Documentation/man && ok "man-pages.sh completes the fresh pages" || bad "man-pages.sh completes the fresh pages"
inst="$root/share/man/man8"
fresh=$(cd "$t/man" && ls *.8 2>/dev/null); have=$(cd "$inst" 2>/dev/null && ls lvsctl*.8 2>/dev/null)
same_set=1
[ "$fresh" == "$have" ] || { same_set=0; bad "installed man pages are exactly the generated set" "$(diff <(echo "$fresh") <(echo "$have"))"; }
[ $same_set == 1 ] && ok "installed man pages are exactly the generated set ($(echo "$fresh" | wc -l) pages)"
differ=()
for p in $fresh; do
  [ -f "$inst/$p" ] || continue
  if ! diff -q <(grep -v '^\.Dd ' "$t/man/$p") <(grep -v '^\.Dd ' "$inst/$p") >/dev/null; then differ+=("$p"); fi
done
if [ -z "$fresh" ]; then bad "no freshly generated pages to compare"
elif [ ${#differ[@]} == 0 ]; then ok "every installed man page equals fresh generation + hand-written sections (.Dd ignored)"
else bad "installed man pages differ from fresh generation: ${differ[*]}" "$(diff <(grep -v '^\.Dd ' "$t/man/${differ[0]}") <(grep -v '^\.Dd ' "$inst/${differ[0]}") | head -20)"; fi

# Every command has a page (the help snapshots list every command the binary has).
missing=()
for s in Tests/Fixtures/help/*.txt; do
  p=$(basename "$s" .txt); p=${p//-/.}.8
  [ -f "$t/man/$p" ] || missing+=("$p")
done
[ ${#missing[@]} == 0 ] && ok "every command with a --help snapshot has a man page ($(ls Tests/Fixtures/help/*.txt | wc -l))" || bad "commands without a man page: ${missing[*]}"

# Hand-written sections: each names an existing page, and the installed page holds it.
orphans=(); notin=()
for e in Documentation/man/EXAMPLES-*.mdoc; do
  p=$(basename "$e" .mdoc); p=${p#EXAMPLES-}
  if [ ! -f "$t/gen/$p.8" ]; then orphans+=("$e"); continue; fi
  first=$(grep -m1 '^lvsctl ' "$e")
  { grep -q '^\.Sh EXAMPLES$' "$inst/$p.8" && grep -qxF "$first" "$inst/$p.8"; } 2>/dev/null || notin+=("$p.8")
done
for p in $(sed -n 's/^\.\\" pages: //p' Documentation/man/FILES.mdoc); do
  if [ ! -f "$t/gen/$p.8" ]; then orphans+=("FILES.mdoc: $p"); continue; fi
  { grep -q '^\.Sh FILES$' "$inst/$p.8" && grep -q '^\.It Pa /etc/lvsctl/lvsctl.conf$' "$inst/$p.8" && grep -q '/run/lvsctl/lock' "$inst/$p.8"; } 2>/dev/null || notin+=("$p.8 (FILES)")
done
[ ${#orphans[@]} == 0 ] && ok "every hand-written section names an existing page" || bad "hand-written sections for pages that do not exist: ${orphans[*]}"
[ ${#notin[@]} == 0 ] && [ ${#orphans[@]} == 0 ] && ok "installed pages hold their EXAMPLES ($(ls Documentation/man/EXAMPLES-*.mdoc | wc -l)) and FILES ($(sed -n 's/^\.\\" pages: //p' Documentation/man/FILES.mdoc | wc -w)) sections" || bad "installed pages missing their hand-written sections: ${notin[*]}"
if grep -l '^\.Ex -std' "$inst"/lvsctl*.8 >/dev/null 2>&1; then bad "a page still has the generic .Ex -std exit status"; else ok "every installed page has lvsctl's exit codes (0, 1, 2) instead of .Ex -std"; fi

# Completions.
for sh in bash:share/bash-completion/completions/lvsctl zsh:share/zsh/vendor-completions/_lvsctl fish:share/fish/vendor_completions.d/lvsctl.fish; do
  s=${sh%%:*}; f=$root/${sh#*:}
  "$bin" --generate-completion-script "$s" > "$t/c.$s"
  if [ -s "$t/c.$s" ] && cmp -s "$t/c.$s" "$f"; then ok "installed $s completion equals the current binary's"
  else bad "installed $s completion differs from the current binary's" "$(diff "$t/c.$s" "$f" 2>&1 | head -10)"; fi
done
# The completions know every subcommand (so a new command cannot be missing from them).
for s in bash zsh fish; do
  miss=$(for c in $(cd Tests/Fixtures/help && ls lvsctl-*.txt | sed -n 's/^lvsctl-\([a-z]*\)\.txt$/\1/p'); do grep -qw -- "$c" "$t/c.$s" || echo "$c"; done)
  [ -z "$miss" ] && ok "$s completion names every top-level command" || bad "$s completion lacks: $miss"
done
echo "docs check: $P passed, $F failed"
[ $F == 0 ]

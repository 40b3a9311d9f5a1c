#!/usr/bin/env bash
# man-pages.sh GENERATED_DIR OUT_DIR [HAND_DIR]
# Completes the lvsctl(8) pages written by generate-manual with the hand-written sections in HAND_DIR
# (default Documentation/man): FILES.mdoc before EXIT STATUS in the pages named on its ".\" pages:" line,
# EXIT-STATUS.mdoc in place of the generated ".Ex -std", and EXAMPLES-<page>.mdoc after EXIT STATUS.
# Writes one OUT_DIR/<page>.8 per GENERATED_DIR/<page>.8. Used by install.sh and Tests/docs-check.sh.
set -euo pipefail
gen=$1; out=$2; hand=${3:-Documentation/man}
mkdir -p "$out"
ls "$gen"/*.8 >/dev/null 2>&1 || { echo "man-pages.sh: no generated pages in $gen" >&2; exit 1; }
files_pages=" $(sed -n 's/^\.\\" pages: //p' "$hand/FILES.mdoc") "
for src in "$gen"/*.8; do
  page=$(basename "$src" .8)
  files=/dev/null; examples=/dev/null
  [[ "$files_pages" == *" $page "* ]] && files="$hand/FILES.mdoc"
  [ -f "$hand/EXAMPLES-$page.mdoc" ] && examples="$hand/EXAMPLES-$page.mdoc"
  grep -qx '\.Ex -std' "$src" || { echo "man-pages.sh: $src has no '.Ex -std' line to replace" >&2; exit 1; }
  awk -v files="$files" -v exitst="$hand/EXIT-STATUS.mdoc" -v examples="$examples" '
    function cat(f,   l) { while ((getline l < f) > 0) if (l !~ /^\.\\" pages:/) print l; close(f) }
    $0 == ".Sh \"EXIT STATUS\"" { cat(files); next }
    $0 == ".Ex -std" { cat(exitst); cat(examples); next }
    { print }' "$src" > "$out/$page.8"
done

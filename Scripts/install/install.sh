#!/usr/bin/env bash
# make install / make uninstall. Usage: install.sh install|uninstall PREFIX DESTDIR
# install: the release binary (stripped), lvsctl(8) man pages (generated from the ArgumentParser definitions and completed with
# the hand-written sections in Documentation/man by man-pages.sh), bash/zsh/fish
# completions, the systemd units (lvsctl.service: restore at boot; lvsctl-monitor.service: lvsctl monitor) and an
# example config; the list of files goes to PREFIX/share/lvsctl/manifest,
# which uninstall reads, so uninstall removes exactly what install put in place.
set -euo pipefail
op=$1; PREFIX=${2:-/usr/local}; DESTDIR=${3:-}
root="$DESTDIR$PREFIX"
manifest="$root/share/lvsctl/manifest"
if [ "$op" == uninstall ]; then
  [ -f "$manifest" ] || { echo "lvsctl is not installed under $root (no $manifest)" >&2; exit 1; }
  while read -r f; do rm -f "$DESTDIR$f"; done < "$manifest"
  rm -f "$manifest"; rmdir "$root/share/lvsctl" 2>/dev/null || true
  exit 0
fi
bin=.build/release/lvsctl
[ -x "$bin" ] || { echo "build first: swift build -c release --static-swift-stdlib" >&2; exit 1; }
man=.build/plugins/GenerateManual/outputs/lvsctl
files=()
# put MODE SRC DEST [INSTALL-OPTION...]: installs one file and lists it in the manifest.
put() { install -D -m "$1" "${@:4}" "$2" "$DESTDIR$3"; files+=("$3"); }
# Stripped (install -s): symbols and debug information are three quarters of the file (12.5 MB -> 3.3 MB from a
# clean build) and are never loaded when it runs; the Swift runtime's metadata and reflection sections stay. The
# unstripped binary stays in .build/release.
put 0755 "$bin" "$PREFIX/bin/lvsctl" -s
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The generated pages, completed with the hand-written FILES, EXIT STATUS and EXAMPLES (Documentation/man).
Scripts/install/man-pages.sh "$man" "$tmp/man" Documentation/man
for p in "$tmp/man"/*.8; do put 0644 "$p" "$PREFIX/share/man/man8/$(basename "$p")"; done
"$bin" --generate-completion-script bash > "$tmp/lvsctl.bash"
"$bin" --generate-completion-script zsh > "$tmp/_lvsctl"
"$bin" --generate-completion-script fish > "$tmp/lvsctl.fish"
put 0644 "$tmp/lvsctl.bash" "$PREFIX/share/bash-completion/completions/lvsctl"
put 0644 "$tmp/_lvsctl" "$PREFIX/share/zsh/vendor-completions/_lvsctl"
put 0644 "$tmp/lvsctl.fish" "$PREFIX/share/fish/vendor_completions.d/lvsctl.fish"
sed "s|@BINDIR@|$PREFIX/bin|g" Scripts/install/lvsctl.service.in > "$tmp/lvsctl.service"
put 0644 "$tmp/lvsctl.service" "$PREFIX/lib/systemd/system/lvsctl.service"
sed -e "s|@BINDIR@|$PREFIX/bin|g" -e "s|@DOCDIR@|$PREFIX/share/doc/lvsctl|g" Scripts/install/lvsctl-monitor.service.in \
  > "$tmp/lvsctl-monitor.service"
put 0644 "$tmp/lvsctl-monitor.service" "$PREFIX/lib/systemd/system/lvsctl-monitor.service"
put 0644 Scripts/install/lvsctl.conf.example "/etc/lvsctl/lvsctl.conf.example"
for d in Documentation/*.md; do put 0644 "$d" "$PREFIX/share/doc/lvsctl/$(basename "$d")"; done
mkdir -p "$(dirname "$manifest")"
printf '%s\n' "${files[@]}" "$PREFIX/share/lvsctl/manifest" > "$manifest"
echo "installed ${#files[@]} files under ${DESTDIR:-/}; enable boot restore with: systemctl enable lvsctl" \
  "(or, on a director with check lines, the health-check daemon: systemctl enable lvsctl-monitor)"

# lvsctl — build, test, demo, bench, install.
# Every target that needs system packages installs them first (Debian 12, as root).

SWIFT        ?= swift
PREFIX       ?= /usr/local
DESTDIR      ?=
BINDIR        = $(DESTDIR)$(PREFIX)/bin
# The installed and benchmarked binary links the Swift runtime statically: no Foundation/ICU and no Swift shared
# libraries to load and relocate at every start (lvsctl --version: 3.0 ms against 7.3 ms dynamically linked).
RELEASE_BUILD = build -c release --static-swift-stdlib
BUILD_DEPS    = libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libiptc-dev libnftables-dev libcurl4-openssl-dev \
                pkg-config
RUNTIME_DEPS  = ipvsadm iptables arptables nftables iproute2 kmod libcurl4
VM_DEPS       = qemu-system-x86 busybox-static cpio xz-utils python3 strace openssl bc

.PHONY: all build deps test check unit-test kernel-test demo bench install uninstall install-check clean vm-setup \
        test-sanitize fuzz release

all: build

deps:
	@missing=""; for p in $(BUILD_DEPS) $(RUNTIME_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	@# keepalived for Tests/Kernel/t-ha.sh (VRRP between two directors inside the VM) and the monitor benchmark: installed
	@# with a policy-rc.d that keeps the package from starting it on this machine.
	@dpkg-query -W -f='$${Status}' keepalived 2>/dev/null | grep -q "ok installed" || { \
	  echo "installing: keepalived (not started here: the tests run it inside their VMs)"; own=0; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
	    chmod +x /usr/sbin/policy-rc.d; own=1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq keepalived; rc=$$?; \
	  [ $$own = 1 ] && rm -f /usr/sbin/policy-rc.d; exit $$rc; }

build: deps
	$(SWIFT) build

vm-setup: deps
	Scripts/vm/setup
	Scripts/vm/setup --uml

# The static release binary: installed, benchmarked, and run by the kernel tests.
release: deps
	$(SWIFT) $(RELEASE_BUILD)

SHELL := /bin/bash

# Every test, step by step (Tests/run-steps.sh): setup, debug build, unit tests, release build, install check, the
# kernel tests (user-mode Linux lanes + the TCG smoke subset on Debian's x86 kernel), then the unit tests under ASan
# and TSan; ends with a table of each step's seconds and the closing summary lines.
test:
	Tests/run-steps.sh

# The fast inner loop (a few minutes): unit tests, then a kernel smoke set in user-mode Linux.
CHECK_FILES ?= t-seed-scenario.sh t-bundle.sh t-ipvsadm-ops.sh
check: build vm-setup release
	$(SWIFT) test
	LVSCTL=$(CURDIR)/.build/release/lvsctl VM_PASS_ENV=LVSCTL \
	  Scripts/vm/run --uml --timeout 900 Tests/Kernel/run-all.sh $(CHECK_FILES)

unit-test: build
	$(SWIFT) test

# The unit tests under AddressSanitizer and ThreadSanitizer, each in its own scratch path so the normal .build is
# not invalidated (about 2 min to build and 30 s to run each on 2 cores). LeakSanitizer is off: its only reports
# are XCTest's own test-case objects, alive at exit (none from lvsctl code); every other ASan check is on.
test-sanitize:
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

# libFuzzer targets (Fuzz/, a separate package built into .build-fuzz) for the netlink/IPVS decoder, the
# restore-file parser and the Piranha importer, FUZZ_SECONDS each. Not part of make test.
FUZZ_SECONDS ?= 300
fuzz: deps
	Fuzz/run.sh $(FUZZ_SECONDS)

# Kernel tests: every file (or T="t-a.sh t-b.sh"), in user-mode Linux; VM=tcg runs them on Debian's x86 kernel under
# qemu TCG instead (about 3-8 times slower); VM=tcg-nolegacy on the same kernel booted without legacy x_tables (no
# ip_tables, ip6_tables, arp_tables: Scripts/vm/setup-nolegacy), for the nftables backend.
# (t-dr.sh's arptables method needs VM=tcg: user-mode Linux has no nf_tables arp family for arptables-nft.)
# Without T, each VM runs its own files: t-migrate.sh only in tcg, t-nft.sh only in tcg-nolegacy (and nothing else
# there). LVSCTL_FIREWALL=nftables with VM=tcg runs the bundle and dr tests on the nftables backend.
VM ?= uml
DR_METHODS ?= $(if $(filter uml,$(VM)),sysctl redirect,sysctl arptables redirect)
kernel-test: build vm-setup release
	LVSCTL=$(CURDIR)/.build/release/lvsctl DR_METHODS="$(DR_METHODS)" VM_PASS_ENV="LVSCTL DR_METHODS LVSCTL_FIREWALL" \
	  Scripts/vm/run --$(VM) --timeout 3600 Tests/Kernel/run-all.sh $(T)

# The seed scenario in the VM: a fwmark bundle (HTTP+HTTPS) with persistence over two DR real servers.
demo: build vm-setup
	Scripts/vm/run Scripts/demo.sh

# The benchmark suite in the VM (about 50 minutes); BENCH_ONLY=nft make bench runs only the nftables part (about 10
# minutes) and rewrites only its block of Documentation/benchmarks.md, BENCH_ONLY=monitor only the health checks
# (keepalived against lvsctl monitor, about 10 minutes) and their block (Scripts/bench/run lists the other knobs).
# keepalived is installed on the host for the VM to run (the VM sees the host's root read-only) and never started
# here: a policy-rc.d that refuses every start is in place during the install (one already there is put back
# after), and the install fails if a keepalived process runs afterwards. (Debian's unit would not start it anyway
# without /etc/keepalived/keepalived.conf, which the package does not ship.)
bench: vm-setup
	@command -v gnuplot > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y gnuplot-nox; }
	@command -v keepalived > /dev/null || { \
	  p=/usr/sbin/policy-rc.d; saved=; \
	  if [ -e $$p ]; then saved=$$(mktemp); cp -p $$p $$saved; fi; \
	  printf '#!/bin/sh\nexit 101\n' > $$p; chmod +x $$p; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y keepalived; rc=$$?; \
	  if [ -n "$$saved" ]; then cp -p $$saved $$p; rm -f $$saved; else rm -f $$p; fi; \
	  if pgrep -x keepalived > /dev/null; then echo "bench: a keepalived process runs on the host: stop it" >&2; exit 1; fi; \
	  exit $$rc; }
	$(SWIFT) $(RELEASE_BUILD)
	BENCH_NO_BUILD=1 Scripts/bench/run

# The release binary, lvsctl(8) man pages, bash/zsh/fish completions, the systemd unit, an example config and
# the guides; uninstall removes exactly the files listed in PREFIX/share/lvsctl/manifest.
install: deps
	$(SWIFT) $(RELEASE_BUILD)
	$(SWIFT) package --allow-writing-to-package-directory generate-manual --multi-page --section 8 \
	  --authors 'lvsctl developers' >/dev/null
	Scripts/install/install.sh install "$(PREFIX)" "$(DESTDIR)"

uninstall:
	Scripts/install/install.sh uninstall "$(PREFIX)" "$(DESTDIR)"

# make install DESTDIR=<temporary dir> puts every file in place, and uninstall removes exactly those.
install-check:
	Tests/install-check.sh

clean:
	rm -rf .build .build-asan .build-tsan .build-fuzz

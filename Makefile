# lvsctl — build, test, demo, bench, install.
# Every target that needs system packages installs them first (Debian 12, as root).

SWIFT        ?= swift
PREFIX       ?= /usr/local
DESTDIR      ?=
BINDIR        = $(DESTDIR)$(PREFIX)/bin
# The installed and benchmarked binary links the Swift runtime statically: no Foundation/ICU and no Swift shared
# libraries to load and relocate at every start (lvsctl --version: 3.0 ms against 7.3 ms dynamically linked).
RELEASE_BUILD = build -c release --static-swift-stdlib
BUILD_DEPS    = libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libiptc-dev pkg-config
RUNTIME_DEPS  = ipvsadm iptables arptables iproute2 kmod
VM_DEPS       = qemu-system-x86 busybox-static cpio xz-utils python3 strace

.PHONY: all build deps test unit-test kernel-test demo bench install uninstall install-check clean vm-setup \
        test-sanitize fuzz

all: build

deps:
	@missing=""; for p in $(BUILD_DEPS) $(RUNTIME_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

build: deps
	$(SWIFT) build

vm-setup: deps
	Scripts/vm/setup

# Unit tests (codec, parsing, formats) on the host, then the kernel tests inside the IPVS VM.
SHELL := /bin/bash

test: build vm-setup
	$(SWIFT) build --build-tests
	$(SWIFT) test 2>&1 | tee .build/unit-test.log; test $${PIPESTATUS[0]} -eq 0
	$(MAKE) test-sanitize
	Tests/install-check.sh
	Tests/Kernel/run-parallel.sh 4800

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

kernel-test: build vm-setup
	Scripts/vm/run --timeout 2400 Tests/Kernel/run-all.sh $(T)

# The seed scenario in the VM: a fwmark bundle (HTTP+HTTPS) with persistence over two DR real servers.
demo: build vm-setup
	Scripts/vm/run Scripts/demo.sh

bench: vm-setup
	@command -v gnuplot > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y gnuplot-nox; }
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

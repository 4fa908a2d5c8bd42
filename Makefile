# Makefile — thin wrapper around CMake.  `make demo` and `make check` are the
# two commands a new machine needs; both install what they need first.
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
TARGET     ?= fuzz_envelope
SECONDS    ?= 600
# make install: where (PREFIX), and a staging root for packaging (DESTDIR).
PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: all setup build install check check-sanitize memcheck demo bench fuzz-smoke fuzz clean format

all: build

setup:
	@scripts/setup

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# hwgwd (sbin), hwgwctl, hwsim, hwgw-registry and hwgw-counter (bin),
# libhwgw with hwgw.h and libhwgw.pc, the systemd units, udev rule, sysusers.d/tmpfiles.d entries, man pages and
# hwgwd.conf.example under PREFIX; nothing is enabled or started
# (dist/README.md lists the steps that follow).
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# Every test: unit, integration (real SoftHSM2, real sockets), fuzz corpora replay.
check: build
	ctest --test-dir $(BUILD) --output-on-failure -j2 --timeout 600

# The unit and integration tests again, built with ASan + UBSan; not the
# deploy tests (install, units, man pages: no memory of ours to check) nor
# the city (four whole counters, alone, 70 s under ASan; its gateway,
# counter and register code runs under ASan in the visit and registry
# tests, all but the counter's household step), so that CI stays within
# its 30 minutes on 2 cores.  `ctest --test-dir build-asan -L city` runs it.
# fault_card strikes at every second APDU here (every one in make check).
check-sanitize: setup
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHWG_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 FAULT_APDU_STEP=2 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j2 --timeout 900 \
			-LE 'bench|deploy|city'

# The unit and integration tests under valgrind's memcheck (slow: not in CI).
memcheck: setup
	scripts/memcheck

# One whole counter visit (scripts/demo): it builds quietly itself, showing
# the build's output only when it fails.
demo: setup
	BUILD_TYPE=$(BUILD_TYPE) scripts/demo $(BUILD)

bench: build
	scripts/bench $(BUILD)

fuzz-smoke: setup
	scripts/fuzz --smoke 30

fuzz: setup
	scripts/fuzz $(TARGET) $(SECONDS)

format:
	find common crypto drivers gateway client hw-sim registry tests -name '*.[ch]' | \
		xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz build-memcheck

# Locus: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= 2
# Every Debian package the build, the tests, the demo and the benchmarks need.
DEB_PACKAGES := build-essential cmake pkg-config ccache git \
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
  libhwloc-dev hwloc-nox libnuma-dev libboost-graph-dev libhdf5-dev hdf5-tools \
  libopenmpi-dev openmpi-bin libspdlog-dev libfmt-dev libsqlite3-dev sqlite3 \
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev \
  libgtest-dev libgmock-dev libcpp-httplib-dev libmunge-dev munge \
  zlib1g-dev python3 procps toil \
  prometheus runc umoci busybox-static etcd-server \
  esbuild libjs-chart.js chromium python3-websocket

.PHONY: deps build test demo bench clean fuzz

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing $$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all $(words $(DEB_PACKAGES)) packages present"; fi

build:
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j$(JOBS)

test: deps build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j1

demo: deps build
	bash cli/demo.sh

bench: deps build
	bash bench/throughput.sh 2000
	$(BUILD_DIR)/bin/bench_pass --pending 100000 --nodes 10000
	$(BUILD_DIR)/bin/bench_queue_memory --jobs 100000
	$(BUILD_DIR)/bin/bench_placement
	$(BUILD_DIR)/bin/bench_locality
	BUILD_DIR=$(BUILD_DIR) bash bench/mpi_launch.sh
	BUILD_DIR=$(BUILD_DIR) bash bench/preemption.sh

# libFuzzer targets of the parsers (tests/fuzz, docs/reliability.md), each run FUZZ_SECONDS on a
# copy of its seed corpus; non-zero exit when one finds something. Not part of `make test`: a
# clang build of its own with ASan/UBSan in FUZZ_BUILD_DIR, and about 15 minutes at the default.
FUZZ_SECONDS ?= 60
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_TARGETS ?=
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

fuzz: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(FUZZ_PACKAGES)"
	@cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCUS_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_C_FLAGS="$(FUZZ_FLAGS)" -DCMAKE_CXX_FLAGS="$(FUZZ_FLAGS)" >/dev/null
	@cmake --build $(FUZZ_BUILD_DIR) -j$(JOBS) --target fuzzers
	bash tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD_DIR)

# Wraps the README's commands. `make run` starts a local committee; `make check` runs the
# tests (release build, then the same suite under AddressSanitizer + UBSan).
JOBS ?= $(shell nproc)
BUILD ?= build
BUILD_SAN ?= build-san
RUN_ARGS ?=

.PHONY: all deps build build-san run check check-release check-san sweep mutate bench fuzz fuzz-run fuzz-long clean format

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-san: deps
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DALEPH_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_SAN) -j $(JOBS)

# Builds quietly (the compiler's output goes to $(BUILD)/build.log, shown only on failure),
# so the run's own output is what you see.
run: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@echo "make run: building in $(BUILD) (log: $(BUILD)/build.log)"
	@cmake --build $(BUILD) -j $(JOBS) > $(BUILD)/build.log 2>&1 || \
		{ tail -n 40 $(BUILD)/build.log; echo "make run: the build failed (all of it: $(BUILD)/build.log)"; exit 1; }
	@./$(BUILD)/aleph local $(RUN_ARGS)

check-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check-san: build-san
	cd $(BUILD_SAN) && ctest --output-on-failure -j $(JOBS)

check: check-release check-san

# Mutation testing of the rules (tests/mutants/list, docs/TESTING.md): minutes per mutant.
mutate: deps
	bash scripts/mutate.sh

# The long simulator sweep (1,000+ seeds over several configurations, crash-restart faults
# included).
sweep: build
	bash bench/sim_sweep.sh ./$(BUILD)/aleph
	bash bench/sim_oracle_sweep.sh ./$(BUILD)/aleph

bench: build
	./$(BUILD)/bench/bench_core
	./$(BUILD)/bench/bench_coin

fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DALEPH_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)

# Every fuzz target for FUZZ_SECONDS each (CI: 45 s, nine targets); fails on a crash, a leak or
# a sanitizer report. Corpora grow in build-fuzz/corpus/<target>.
FUZZ_TARGETS = fuzz_unit fuzz_alert fuzz_member fuzz_http fuzz_framing fuzz_handshake fuzz_backup \
               fuzz_output fuzz_client
FUZZ_SECONDS ?= 45
fuzz-run: fuzz
	bash scripts/fuzz-run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-long:
	$(MAKE) fuzz-run FUZZ_SECONDS=1800

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_SAN) build-fuzz

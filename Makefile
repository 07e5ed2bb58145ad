# frugal — top-level entry points. `make test` is what CI runs (.ci/run).
#   make            release build (build/)
#   make test       install deps, release build + every test, then the ASan+UBSan (clang) build
#                   of the suite (tests named *_slow — whole video jobs, kill -9 and overload runs —
#                   run in the release pass only) and bounded libFuzzer runs of the GGUF and
#                   safetensors readers and of the HTTP request path
#   make test-fast  release build + tests only (the inner loop)
#   make serve      the README's first command: installs only what the server needs, builds only the
#                   `frugal` binary (no tests, no benchmarks, no npm) with progress, then serves
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-asan
FUZZ_SECONDS ?= 60

.PHONY: all deps deps-serve build build-serve test test-fast test-sanitize fuzz bench clean serve check-calibration check-video-calibration

all: build

deps:
	@scripts/install-deps

deps-serve:
	@scripts/install-deps --serve

# Every target: the binary, every test binary and the benchmarks (tests and benchmarks are switched
# on explicitly: `make serve` configures the same folder without them).
build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFRUGAL_BUILD_TESTS=ON -DFRUGAL_BUILD_BENCH=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Only the `frugal` binary and the libraries it links; ninja's [done/total] lines are the progress.
build-serve: deps-serve
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFRUGAL_BUILD_TESTS=OFF -DFRUGAL_BUILD_BENCH=OFF >/dev/null
	@echo "make serve: building only the frugal binary: $$(ninja -C $(BUILD) -t commands frugal | wc -l) compile and link steps on $(JOBS) cores,"
	@echo "  progress as [done/total] (cold: about 10 CPU-minutes, 5-7 min on 2 idle cores; tests and benchmarks build under make test)"
	@cmake --build $(BUILD) -j $(JOBS) --target frugal

test-fast: build
	@scripts/run-ctest $(BUILD) --output-on-failure -j $(JOBS)

test-sanitize: deps
	@cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DFRUGAL_SANITIZE=ON -DFRUGAL_FUZZ=ON -DFRUGAL_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  scripts/run-ctest $(SAN_BUILD) --output-on-failure -j $(JOBS) -E '_slow'

fuzz: test-sanitize
	@scripts/run-fuzz $(SAN_BUILD) $(FUZZ_SECONDS)

test: test-fast test-sanitize fuzz

# The calibrated planner's predictions of frugal's own speed (docs/COST-MODEL.md): a timing check,
# so it runs on demand on a quiet machine, not in `make test`. LLM (tok/s) and video (s/step, s/video).
check-calibration: build
	@cd $(BUILD) && FRUGAL_TIMING_CHECKS=1 ./test_cost --gtest_filter='CalibratedPrediction.*:VideoCalibratedPrediction.*'

# The video half alone (~10 min on a quiet 2-core machine).
check-video-calibration: build
	@cd $(BUILD) && FRUGAL_TIMING_CHECKS=1 ./test_cost --gtest_filter='VideoCalibratedPrediction.*'

bench: build
	@for b in $(BUILD)/*_bench; do echo "== $$b"; $$b; done

serve: build-serve
	@BUILD=$(BUILD) scripts/serve-demo

clean:
	rm -rf $(BUILD) $(SAN_BUILD)

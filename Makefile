# Riffle's checks. `make test` is what CI runs (.ci/run) and what a newcomer runs.
GO ?= go
PKGS := ./...

.PHONY: test fmt-check vet unit interop bench fuzz build

test: fmt-check vet unit fuzz-short interop

build:
	$(GO) build -o bin/riffle ./cmd/riffle

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# Unit tests, with the race detector; fuzz targets run their seed corpora.
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /tests/interop)

# Black-box tests: a real `riffle serve` process driven by the Go SDK v2,
# the AWS CLI and boto3.
interop:
	$(GO) test -count=1 -timeout 10m ./tests/interop/...

# The pinned JavaScript SDK (tests/interop/js/package-lock.json) into
# tests/interop/js/node_modules. The interop tests run the same `npm ci`
# themselves when node_modules is missing or stale, so this is only needed
# to prepare a machine ahead of time.
.PHONY: js-deps
js-deps:
	cd tests/interop/js && npm ci --no-audit --no-fund

# Storage and request-path micro-benchmarks (the server's own cost of a
# PutRecord, PutRecords and GetRecords call, without network or client), then
# a real server loaded through the AWS SDK, whose results are appended to
# docs/benchmarks.md. BENCH_FLAGS=--quick for a smaller run (1M instead of
# 10M records in the memory scenario, and so on); BENCH_FLAGS="--profile DIR"
# also saves the server's CPU profile over each throughput scenario in DIR
# (go tool pprof).
BENCH_FLAGS ?=
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1s ./internal/journal ./internal/shardlog ./internal/store ./internal/api
	./bin/riffle bench --spawn --out docs/benchmarks.md $(BENCH_FLAGS)

# Riffle against kinesalite, kinesis-local (pinned, installed from npm into a
# temporary directory) and a decode-only "ceiling" server, in one run.
.PHONY: bench-compare
bench-compare: build
	scripts/bench-compare.sh $(BENCH_FLAGS)

# Fuzzing. `unit` runs every target's seed corpus (f.Add seeds and
# testdata/fuzz); `fuzz-short` (part of `make test`) then fuzzes each target
# for FUZZ_SHORT_TIME, `fuzz` for FUZZ_TIME. Both budgets are counts of
# executions, not durations: with a duration, Go's fuzz coordinator (up to
# go1.26, golang/go#75804) can report its own stop deadline as a failure
# ("context deadline exceeded", no crasher written), which broke CI once.
# 10000 runs take 0.1 s (shardlog) to 4 s (FuzzServe) here. Minimizing a
# newly interesting input is bounded to 100 runs: the API targets' coverage
# also depends on the store's background goroutines, so an input rarely
# reproduces its exact coverage and unbounded minimization ran for its full
# minute at 0 execs/s.
FUZZ_SHORT_TIME ?= 10000x
FUZZ_TIME ?= 500000x
FUZZ_TARGETS = grep -o '^func Fuzz[A-Za-z0-9_]*' $$(grep -l '^func Fuzz' $$(find internal -name '*_test.go')) | sed 's/:func /:/'
.PHONY: fuzz-short
fuzz-short:
	@for t in $$($(FUZZ_TARGETS)); do \
	  dir=$$(dirname $${t%%:*}); name=$${t##*:}; \
	  out=$$($(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZ_SHORT_TIME) -fuzzminimizetime 100x ./$$dir 2>&1) || \
	    { echo "$$out"; echo "fuzz-short: $$name in ./$$dir failed"; exit 1; }; \
	done

fuzz:
	@for t in $$($(FUZZ_TARGETS)); do \
	  dir=$$(dirname $${t%%:*}); name=$${t##*:}; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZ_TIME) -fuzzminimizetime 100x ./$$dir || exit 1; \
	done

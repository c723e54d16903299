# Riffle's checks. `make test` is what CI runs (.ci/run) and what a newcomer runs.
GO ?= go
PKGS := ./...

.PHONY: test fmt-check vet unit interop bench fuzz build

test: fmt-check vet unit interop

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

# Storage micro-benchmarks, then a real server loaded through the AWS SDK;
# the results are appended to docs/benchmarks.md.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1s ./internal/journal ./internal/shardlog ./internal/store
	./bin/riffle bench --spawn --out docs/benchmarks.md

# Each fuzz target for a minute (make test runs their seed corpora only).
fuzz:
	@for pkg in $$($(GO) list ./internal/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 60s $$pkg || exit 1; \
	  done; \
	done

# Grove: `make run` installs what is missing, builds and starts grove serve;
# `make test` installs what is missing and runs every test suite (the full
# tier); `make test-short` runs the fast tier.
GO ?= go
ARGS ?=

.PHONY: setup build run test test-short bench vet

setup:
	./scripts/setup.sh

build:
	$(GO) build -o bin/grove ./cmd/grove

run: setup build
	./bin/grove serve $(ARGS)

# The concurrent packages run a second time under the race detector.
RACE_PKGS = ./internal/proxy/... ./internal/sqlhttp/... ./internal/computepool/... ./internal/dataapi/... ./internal/compute/... ./internal/platform/... ./internal/apiserver/...

STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2

test: setup
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -count=1 -timeout 40m ./...
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)

# The fast tier: under a minute, nothing installed; tests needing Postgres,
# PgBouncer, btrfs or the npm clients skip.
test-short:
	$(GO) test -short ./...

bench: setup build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/

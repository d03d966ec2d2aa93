# posim — build, test and check. No downloads at run time beyond the Go
# module proxy; every tool is pinned in go.mod (go tool staticcheck).

GO       ?= go
BIN      ?= bin/posim
FUZZTIME ?= 20s
PKGS     := ./...

.PHONY: all build test vet lint fmt fmt-check fuzz bench demo ci clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/posim

## test: the whole suite with the race detector (what CI runs); most scenario
## tests wait on timeouts, so eight run at once
test:
	$(GO) test -race -count=1 -parallel 8 $(PKGS)

vet:
	$(GO) vet $(PKGS)

## lint: gofmt, go vet and staticcheck (pinned as a go.mod tool)
lint: fmt-check vet
	$(GO) tool staticcheck $(PKGS)

fmt:
	gofmt -w .

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## fuzz: each fuzz target for FUZZTIME
fuzz:
	$(GO) test ./wire -run '^$$' -fuzz '^FuzzReadFrame$$' -fuzztime $(FUZZTIME)
	$(GO) test ./wire -run '^$$' -fuzz '^FuzzUnpack$$' -fuzztime $(FUZZTIME)
	$(GO) test ./wire -run '^$$' -fuzz '^FuzzReadCUPFrame$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cards -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scenarios -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

## bench: hot-path benchmarks in a form benchstat reads
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 $(PKGS)

## demo: run posim (acquirer and terminal in one process)
demo:
	$(GO) run ./cmd/posim demo

ci: lint test build

clean:
	rm -rf bin .posim

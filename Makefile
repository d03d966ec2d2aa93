# posim — build, test and check. No downloads at run time beyond the Go
# module proxy; every tool is pinned in go.mod (go tool staticcheck).

GO       ?= go
BIN      ?= bin/posim
FUZZTIME ?= 20s
PKGS     := ./...

.PHONY: all build test vet lint fmt fmt-check fuzz bench demo ci clean

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/posim

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

## fuzz: each fuzz target for FUZZTIME; minimising a new input is kept short so that the time goes to exploring
FUZZMIN ?= 2s
FUZZ = $(GO) test -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMIN)
fuzz:
	$(FUZZ) ./wire -fuzz '^FuzzReadFrame$$'
	$(FUZZ) ./wire -fuzz '^FuzzUnpack$$'
	$(FUZZ) ./wire -fuzz '^FuzzReadCUPFrame$$'
	$(FUZZ) ./wire -fuzz '^FuzzFramers$$'
	$(FUZZ) ./wire -fuzz '^FuzzCustomSpec$$'
	$(FUZZ) ./wire -fuzz '^FuzzCompiledMatchesMoov$$'
	$(FUZZ) ./wire -fuzz '^FuzzCompiledPacksAsMoov$$'
	$(FUZZ) ./cards -fuzz '^FuzzParse$$'
	$(FUZZ) ./scenarios -fuzz '^FuzzParse$$'
	$(FUZZ) ./scenarios -fuzz '^FuzzControlLoad$$'
	$(FUZZ) ./terminal -fuzz '^FuzzStateFile$$'
	$(FUZZ) ./terminal -fuzz '^FuzzStateJournal$$'

## bench: hot-path benchmarks in a form benchstat reads
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 $(PKGS)

## demo: run posim (acquirer and terminal in one process)
demo:
	$(GO) run ./cmd/posim demo

ci: lint test build

clean:
	rm -rf bin .posim

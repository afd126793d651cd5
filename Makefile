# xmppd: `make run` starts a server on the embedded store, `make test` runs
# every test. Both work on a fresh Debian machine with Go installed; what
# the tests need from Debian is installed by `make deps` (root or sudo).

GO       ?= go
BIN      := bin/xmppd
PY       := /usr/bin/python3
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GOFILES  := $(shell git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')

.PHONY: all build run test deps bench bench-compare bench-compare-quick lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/xmppd

# Starts xmppd with the defaults (domain localhost, ./data/xmppd.db,
# c2s on 5222 and 5223). Add an account first: bin/xmppd user add ...
run: build
	./$(BIN) serve

# The Debian packages the tests use: slixmpp drives xmppd in the interop
# tests; Prosody is the reference server xmppbench's own tests run against;
# the sqlite3 shell is the auditor's tool the store is tested beside;
# go-sendxmpp is a real client the stream tests log in with.
deps:
	@missing=""; \
	$(PY) -c 'import slixmpp' 2>/dev/null || missing="$$missing python3-slixmpp"; \
	command -v prosody >/dev/null || missing="$$missing prosody"; \
	command -v sqlite3 >/dev/null || missing="$$missing sqlite3"; \
	command -v go-sendxmpp >/dev/null || missing="$$missing go-sendxmpp"; \
	if [ -n "$$missing" ]; then \
		echo "installing from Debian:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# tools/xmppbench is a module of its own: ./... of the root does not see it.
test: deps
	$(GO) vet ./...
	$(GO) -C tools/xmppbench vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) -C tools/xmppbench test -count=1 -timeout 10m ./...

bench:
	$(GO) test -run '^$$' -bench . -timeout 60m ./...
	$(GO) -C tools/xmppbench test -run '^$$' -bench . -timeout 10m ./...

# Runs the same scenarios (xmppbench and tsung) against xmppd, Prosody and
# ejabberd on this machine, one after another, and prints one table with
# xmppd's ratio to each; then, with archiving on in all three (xmppd
# archive.enabled, mod_mam in Prosody and ejabberd), chat, filling one
# account's archive and MAM queries for its last 50 messages. Installs
# Prosody, ejabberd and tsung from Debian when missing (root or sudo).
# About 45 minutes; bench-compare-quick about 6.
bench-compare: build
	$(GO) -C tools/xmppbench build -o ../../bin/xmppbench .
	bin/xmppbench compare --xmppd $(BIN) --save bench-compare.json

bench-compare-quick: build
	$(GO) -C tools/xmppbench build -o ../../bin/xmppbench .
	bin/xmppbench compare --xmppd $(BIN) --quick --save bench-compare-quick.json

lint:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) -C tools/xmppbench vet ./...
	$(GO) test -count=1 -run TestImportRule ./events/

clean:
	rm -rf bin

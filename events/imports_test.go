package events_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The tiers of DESIGN.md's "what may import what", bottom first. A
// package may import packages of lower tiers, and its own subpackages;
// nothing of its own tier or above, with the exceptions in sideways.
var tiers = [][]string{
	{"xmppd/stanza", "xmppd/events"},
	{"xmppd/domain"},
	{"xmppd/projections"},
	{"xmppd/im", "xmppd/router", "xmppd/replay"},
	{"xmppd/adapters"},
	{"xmppd/cmd"},
}

// sideways are the imports allowed within one tier: the core routes
// through the router it declares sessions with.
var sideways = map[string][]string{"xmppd/im": {"xmppd/router"}}

// transports are the adapters that carry client or server streams: no
// package but the binary imports one (a transport is a router.Session
// plus a reader that hands stanzas to the core), so none imports another.
var transports = []string{"xmppd/adapters/c2s", "xmppd/adapters/websocket", "xmppd/adapters/s2s", "xmppd/adapters/bosh"}

// pure are the packages under everything: no database, network or process
// package, and of third-party code only what is itself pure.
var pure = map[string][]string{
	"xmppd/events": {"mellium.im/xmpp/jid", "github.com/goccy/go-json"},
	"xmppd/domain": {"mellium.im/xmpp/jid", "github.com/goccy/go-json"},
	"xmppd/stanza": {"mellium.im/xmpp/jid", "mellium.im/xmpp/stanza", "mellium.im/xmpp/stream"},
}

var impure = []string{"net", "database/", "os", "syscall", "plugin", "unsafe"}

// within reports whether path is root or below it.
func within(path, root string) bool {
	return path == root || strings.HasPrefix(path, root+"/")
}

// tierOf is the tier of an xmppd package and the root that placed it
// there; -1 for a package outside every tier.
func tierOf(path string) (int, string) {
	for i, t := range tiers {
		for _, root := range t {
			if within(path, root) {
				return i, root
			}
		}
	}
	return -1, ""
}

// violations lists every import of pkg (an import path and its direct,
// non-test imports) that breaks the rule.
func violations(pkg string, imports []string) []string {
	var out []string
	from, fromRoot := tierOf(pkg)
	for _, imp := range imports {
		if within(imp, "xmppd") {
			to, toRoot := tierOf(imp)
			switch {
			case within(imp, pkg):
				// Its own subpackage.
			case slices.ContainsFunc(transports, func(t string) bool { return within(imp, t) }) && !within(pkg, "xmppd/cmd"):
				out = append(out, pkg+" imports the transport "+imp+": only cmd/xmppd wires transports; the core and other transports must not know them")
			case to > from:
				out = append(out, pkg+" imports "+imp+", a higher tier")
			case to == from && fromRoot != toRoot && !slices.Contains(sideways[fromRoot], toRoot):
				out = append(out, pkg+" imports "+imp+", beside it in the same tier")
			}
		}
		for root, allowed := range pure {
			if !within(pkg, root) || within(pkg, "xmppd/events/storetest") {
				continue
			}
			thirdParty := strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
			bad := thirdParty && !slices.Contains(allowed, imp)
			for _, f := range impure {
				if imp == f || strings.HasPrefix(imp, f+"/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(imp, f)) {
					bad = true
				}
			}
			if bad {
				out = append(out, pkg+" imports "+imp+": "+root+" must stay pure")
			}
		}
	}
	return out
}

// TestImportRule enforces DESIGN.md's "what may import what" on every
// package of the module: cmd -> adapters -> im, router, replay ->
// projections -> domain -> stanza, events; no transport imported but by
// the binary; events, domain and stanza pure. Only direct imports are
// checked (mellium.im/xmpp/jid is pure though it uses net/netip to parse
// IP literals).
func TestImportRule(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "xmppd/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := map[string]bool{}
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if tier, _ := tierOf(p.ImportPath); tier < 0 {
			t.Errorf("%s is in no tier of DESIGN.md's layout: place it", p.ImportPath)
		}
		checked[p.ImportPath] = true
		for _, v := range violations(p.ImportPath, p.Imports) {
			t.Error(v)
		}
	}
	for _, must := range []string{"xmppd/events", "xmppd/domain", "xmppd/stanza", "xmppd/im", "xmppd/router", "xmppd/adapters/c2s", "xmppd/cmd/xmppd"} {
		if !checked[must] {
			t.Errorf("%s was not checked; the rule is not being applied", must)
		}
	}
}

// The rule catches what it exists for: each import below is one a
// careless change could add, and each must be reported.
func TestImportRuleCatchesBadImports(t *testing.T) {
	for _, c := range []struct{ pkg, imp string }{
		{"xmppd/domain", "xmppd/im"},                          // upward
		{"xmppd/domain", "xmppd/projections"},                 // upward
		{"xmppd/stanza", "xmppd/domain"},                      // upward
		{"xmppd/events", "xmppd/stanza"},                      // sideways at the bottom
		{"xmppd/im", "xmppd/adapters/c2s"},                    // the core into a transport
		{"xmppd/im", "xmppd/replay"},                          // sideways
		{"xmppd/router", "xmppd/im"},                          // sideways, the wrong way
		{"xmppd/projections", "xmppd/router"},                 // upward
		{"xmppd/adapters/websocket", "xmppd/adapters/c2s"},    // a transport into another
		{"xmppd/adapters/store/sqlite", "xmppd/adapters/c2s"}, // an adapter into a transport
		{"xmppd/domain", "database/sql"},                      // impure
		{"xmppd/stanza", "net/http"},                          // impure
		{"xmppd/events", "github.com/ThreeDotsLabs/watermill"},
	} {
		if v := violations(c.pkg, []string{c.imp}); len(v) == 0 {
			t.Errorf("%s importing %s was not reported", c.pkg, c.imp)
		}
	}
	for _, c := range []struct{ pkg, imp string }{
		{"xmppd/im", "xmppd/router"},
		{"xmppd/im", "xmppd/domain"},
		{"xmppd/adapters/c2s", "xmppd/router"},
		{"xmppd/adapters/store/sqlite", "xmppd/adapters/store/sqlite/sqlitefile"},
		{"xmppd/cmd/xmppd", "xmppd/adapters/c2s"},
		{"xmppd/domain", "mellium.im/xmpp/jid"},
		{"xmppd/stanza", "encoding/xml"},
	} {
		if v := violations(c.pkg, []string{c.imp}); len(v) != 0 {
			t.Errorf("%s importing %s reported: %v", c.pkg, c.imp, v)
		}
	}
}

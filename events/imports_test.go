package events_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestImportRule enforces DESIGN.md's "what may import what": events and
// domain are pure. They import no adapter, no outer layer of xmppd, no
// database, network or process package, and of third-party code only
// mellium.im/xmpp/jid (itself pure, though it uses net/netip to parse IP
// literals, which is why only direct imports are checked here) and the
// pure JSON decoder github.com/goccy/go-json.
func TestImportRule(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "xmppd/events/...", "xmppd/domain/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbiddenPrefix := []string{
		"xmppd/adapters", "xmppd/cmd", "xmppd/projections", "xmppd/replay",
		"net", "database/", "os", "syscall", "plugin", "unsafe",
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range p.Imports {
			bad := false
			for _, f := range forbiddenPrefix {
				if imp == f || strings.HasPrefix(imp, f+"/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(imp, f)) {
					bad = true
				}
			}
			thirdParty := strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
			if thirdParty && imp != "mellium.im/xmpp/jid" && imp != "github.com/goccy/go-json" {
				bad = true
			}
			if bad {
				t.Errorf("%s imports %s: events and domain must stay pure (DESIGN.md, Layout)", p.ImportPath, imp)
			}
		}
	}
	if checked < 2 {
		t.Fatalf("checked %d packages; the rule is not being applied", checked)
	}
}

package main_test

import (
	"encoding/json"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestSlixmppBlocking: slixmpp's xep_0191 plugin against the real binary
// (XEP-0191 sections 2 to 3.4): the server advertises urn:xmpp:blocking,
// a block stops bob's message (service-unavailable) and refuses alice's
// (not-acceptable with <blocked/>), an unblock restores delivery; then
// `xmppd replay --at` shows the list at the instant of the block and
// `xmppd audit` tells who blocked whom from which session.
func TestSlixmppBlocking(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	out := runSlixmpp(t, srv, "blocking_slixmpp.py")
	type msgErr struct {
		ID, Condition string
		Blocked       bool
	}
	var res struct {
		Features    []string `json:"features"`
		Before      []string `json:"before"`
		Blocked     []string `json:"blocked"`
		After       []string `json:"after"`
		BobErrors   []msgErr `json:"bob_errors"`
		AliceErrors []msgErr `json:"alice_errors"`
		AliceBodies []string `json:"alice_bodies"`
		BlockedAt   float64  `json:"blocked_at"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	if !slices.Contains(res.Features, "urn:xmpp:blocking") {
		t.Errorf("section 2: disco#info features %v lack urn:xmpp:blocking", res.Features)
	}
	if len(res.Before) != 0 || !slices.Equal(res.Blocked, []string{"bob@localhost"}) || len(res.After) != 0 {
		t.Errorf("block lists: before %v, blocked %v, after %v", res.Before, res.Blocked, res.After)
	}
	if len(res.BobErrors) != 1 || res.BobErrors[0].Condition != "service-unavailable" {
		t.Errorf("3.3: bob's message to alice: errors %+v, want service-unavailable", res.BobErrors)
	}
	if len(res.AliceErrors) != 1 || res.AliceErrors[0].Condition != "not-acceptable" || !res.AliceErrors[0].Blocked {
		t.Errorf("3.3: alice's message to bob: errors %+v, want not-acceptable with <blocked/>", res.AliceErrors)
	}
	if !slices.Equal(res.AliceBodies, []string{"now?"}) {
		t.Errorf("alice received %v, want only the message after the unblock", res.AliceBodies)
	}
	srv.stop(t, syscall.SIGTERM)

	at := pyTime(res.BlockedAt)
	var then struct{ Blocked []string }
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "replay", "--at", at, "--user", "alice@localhost", "--format", "json").stdout), &then); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(then.Blocked, []string{"bob@localhost"}) {
		t.Errorf("replay --at %s: blocked %v, want [bob@localhost]", at, then.Blocked)
	}
	audit := mustRun(t, dir, "", "audit", "--user", "alice@localhost", "--type", "blocking").stdout
	if !strings.Contains(audit, "blocked bob@localhost") || !strings.Contains(audit, "unblocked bob@localhost") {
		t.Errorf("audit:\n%s", audit)
	}
}

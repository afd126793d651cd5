package main_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSlixmppPEP: slixmpp's xep_0163, xep_0172 and xep_0084 plugins
// against the real binary (XEP-0163 sections 4 and 6.1): the account
// answers disco#info as pubsub/pep; bob's client asks for nick and avatar
// notifications through its caps (XEP-0115), receives alice's nick and
// avatar metadata, and fetches the avatar's data by id (XEP-0084 4.2);
// then `xmppd replay --at` shows alice's nick node and `xmppd audit
// --type pep` who published it from which session.
func TestSlixmppPEP(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	out := runSlixmpp(t, srv, "pep_slixmpp.py")
	var res struct {
		Identities  [][]string `json:"identities"`
		Nicks       []string   `json:"nicks"`
		AvatarIDs   []string   `json:"avatar_ids"`
		AvatarID    string     `json:"avatar_id"`
		AvatarOK    bool       `json:"avatar_ok"`
		PublishedAt float64    `json:"published_at"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	if !slices.ContainsFunc(res.Identities, func(id []string) bool { return len(id) == 2 && id[0] == "pubsub" && id[1] == "pep" }) {
		t.Errorf("6.1: identities %v lack pubsub/pep", res.Identities)
	}
	if !slices.Equal(res.Nicks, []string{"Alice"}) {
		t.Errorf("4.3: bob's nick notifications %v", res.Nicks)
	}
	if !slices.Equal(res.AvatarIDs, []string{res.AvatarID}) || !res.AvatarOK {
		t.Errorf("XEP-0084: metadata ids %v (want %s), data intact %v", res.AvatarIDs, res.AvatarID, res.AvatarOK)
	}
	srv.stop(t, syscall.SIGTERM)

	at := pyTime(res.PublishedAt)
	var then struct {
		PEP []struct {
			Node  string
			Items []struct{ ID, XML string }
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "replay", "--at", at, "--user", "alice@localhost", "--format", "json").stdout), &then); err != nil {
		t.Fatal(err)
	}
	if len(then.PEP) != 1 || then.PEP[0].Node != "http://jabber.org/protocol/nick" || len(then.PEP[0].Items) != 1 || !strings.Contains(then.PEP[0].Items[0].XML, "Alice") {
		t.Errorf("replay --at %s: pep %+v, want the nick node only", at, then.PEP)
	}
	audit := mustRun(t, dir, "", "audit", "--user", "alice@localhost", "--type", "pep").stdout
	if !strings.Contains(audit, "to PEP node http://jabber.org/protocol/nick") || !strings.Contains(audit, "to PEP node urn:xmpp:avatar:data") || !strings.Contains(audit, "alice@localhost/") {
		t.Errorf("audit:\n%s", audit)
	}
}

// pyTime is a Python time.time() as RFC 3339 for `replay --at`.
func pyTime(t float64) string {
	sec, frac := math.Modf(t)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format(time.RFC3339Nano)
}

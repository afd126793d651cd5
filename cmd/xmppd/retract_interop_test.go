package main_test

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestSlixmppRetractionAndPrefs: slixmpp's own xep_0441 and xep_0313
// against the real binary: XEP-0441 2.1, the preferences read back as
// set. XEP-0424 (version 1, sent as raw XML: Debian's slixmpp xep_0424
// speaks version 0): the account announces retraction and tombstones,
// and after alice retracts her first message (by its 'id', 5.1) both
// archives return it as a tombstone naming the retraction, keep the
// second message, and hold the retraction itself (section 5).
func TestSlixmppRetractionAndPrefs(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir, "XMPPD_ARCHIVE_ENABLED=true")
	out := runSlixmpp(t, srv, "retract_slixmpp.py")
	type prefs struct {
		Default       string
		Always, Never []string
	}
	type res struct {
		ID        string  `json:"id"`
		MsgID     string  `json:"msg_id"`
		Body      string  `json:"body"`
		Retracted *string `json:"retracted"`
		Retract   bool    `json:"retract"`
	}
	var got struct {
		Features    []string `json:"features"`
		PrefsBefore prefs    `json:"prefs_before"`
		PrefsAfter  prefs    `json:"prefs_after"`
		Alice       []res    `json:"alice"`
		Bob         []res    `json:"bob"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	for _, f := range []string{"urn:xmpp:message-retract:1", "urn:xmpp:message-retract:1#tombstone", "urn:xmpp:fulltext:0"} {
		if !slices.Contains(got.Features, f) {
			t.Errorf("account features %v lack %s", got.Features, f)
		}
	}
	if p := got.PrefsBefore; p.Default != "always" || len(p.Always)+len(p.Never) != 0 {
		t.Errorf("XEP-0441 defaults: %+v", p)
	}
	if p := got.PrefsAfter; p.Default != "always" || !slices.Equal(p.Always, []string{"bob@localhost"}) || !slices.Equal(p.Never, []string{"eve@localhost"}) {
		t.Errorf("XEP-0441 after set: %+v", p)
	}
	for name, rs := range map[string][]res{"alice": got.Alice, "bob": got.Bob} {
		if len(rs) != 3 {
			t.Fatalf("%s's archive: %+v, want 3 entries", name, rs)
		}
		if rs[0].MsgID != "orig-1" || rs[0].Body != "" || rs[0].Retracted == nil || *rs[0].Retracted == "" {
			t.Errorf("%s: first entry is not a tombstone: %+v", name, rs[0])
		}
		if rs[1].Body != "still here" || rs[1].Retracted != nil {
			t.Errorf("%s: second entry: %+v", name, rs[1])
		}
		if !rs[2].Retract || *rs[0].Retracted != rs[2].MsgID {
			t.Errorf("%s: the retraction %+v is not the one the tombstone names (%v)", name, rs[2], *rs[0].Retracted)
		}
	}
}

package main_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSlixmppStreamResumption: slixmpp's XEP-0198 plugin enables stream
// management with resumption (section 5); the TCP connection is cut
// under it; messages sent meanwhile wait; the plugin reconnects and
// resumes (no second session start), and each message reaches it exactly
// once. Her contact never sees her go unavailable, and the log records the
// suspension and the resumption (xmppd audit).
func TestSlixmppStreamResumption(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	out := runSlixmpp(t, srv, "sm_slixmpp.py")
	var res struct {
		SMID       bool           `json:"sm_id"`
		Resumed    bool           `json:"resumed"`
		Starts     int            `json:"starts"`
		Bodies     map[string]int `json:"bodies"`
		Unavailble []string       `json:"bob_saw_unavailable"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	if !res.SMID || !res.Resumed || res.Starts != 1 {
		t.Fatalf("sm id %v, resumed %v, session starts %d: %s\nserver:\n%s", res.SMID, res.Resumed, res.Starts, out, srv.log())
	}
	for _, b := range []string{"m1", "m2", "m3", "m4", "m5"} {
		if res.Bodies[b] != 1 {
			t.Errorf("%s reached alice %d times", b, res.Bodies[b])
		}
	}
	if len(res.Unavailble) != 0 {
		t.Errorf("bob saw alice unavailable during the suspension: %v", res.Unavailble)
	}
	audit := mustRun(t, dir, "", "audit", "--user", "alice@localhost", "--type", "session").stdout
	for _, want := range []string{"session suspended: resource phone", "session resumed: resource phone"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %q:\n%s", want, audit)
		}
	}
}

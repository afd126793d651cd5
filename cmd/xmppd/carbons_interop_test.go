package main_test

import (
	"encoding/json"
	"testing"
)

// TestSlixmppCarbons: slixmpp's XEP-0280 plugin enables carbons on two
// resources of alice (section 4); bob writes to alice/desk and desk
// answers; alice/phone gets a received carbon (section 7) and a sent
// carbon (section 8) with the original messages, and desk gets none of
// its own.
func TestSlixmppCarbons(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	out := runSlixmpp(t, srv, "carbons_slixmpp.py")
	var res struct {
		Phone []struct{ Kind, From, To, Body string }
		Desk  int `json:"desk_carbons"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	want := []struct{ Kind, From, To, Body string }{
		{"received", "bob@localhost/home", "alice@localhost/desk", "to desk"},
		{"sent", "alice@localhost/desk", "bob@localhost/home", "from desk"},
	}
	if len(res.Phone) != len(want) {
		t.Fatalf("alice/phone got carbons %+v, want %+v", res.Phone, want)
	}
	for i := range want {
		if res.Phone[i] != want[i] {
			t.Errorf("carbon %d: %+v, want %+v", i, res.Phone[i], want[i])
		}
	}
	if res.Desk != 0 {
		t.Errorf("alice/desk got %d carbons of its own messages", res.Desk)
	}
}

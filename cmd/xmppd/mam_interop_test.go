package main_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// TestSlixmppMAM: slixmpp's own xep_0313 (with xep_0059 paging) and
// xep_0359 against the real binary. XEP-0313 3.5: every message bob
// receives carries a stanza-id by bob@localhost, and his archive returns
// each under that id; 4.3: paging forwards and backwards (slixmpp's
// reverse iteration sends an empty <before/>, then <before>id</before>)
// returns the 25 messages exactly once each, in order; 4.1.1: the with
// filter; 4.1.5: the form lists the mandatory fields; section 7: the
// features on the account; and alice's archive holds her 25 sent copies.
func TestSlixmppMAM(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir, "XMPPD_ARCHIVE_ENABLED=true")
	out := runSlixmpp(t, srv, "mam_slixmpp.py")
	type res struct{ ID, Body, From, Stamp string }
	var got struct {
		Features  []string    `json:"features"`
		Received  [][3]string `json:"received"`
		Forwards  []res       `json:"forwards"`
		Backwards []res       `json:"backwards"`
		WithAlice []res       `json:"with_alice"`
		Fields    []string    `json:"fields"`
		Alice     []res       `json:"alice"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	for _, f := range []string{"urn:xmpp:mam:2", "urn:xmpp:mam:2#extended", "urn:xmpp:sid:0"} {
		if !slices.Contains(got.Features, f) {
			t.Errorf("section 7: account features %v lack %s", got.Features, f)
		}
	}
	var want, wantIDs []string
	for i := range 25 {
		want = append(want, fmt.Sprint("m", i))
	}
	if len(got.Received) != 25 {
		t.Fatalf("bob received %d messages, want 25", len(got.Received))
	}
	for i, r := range got.Received {
		if r[0] != want[i] || r[1] != "bob@localhost" || r[2] == "" {
			t.Errorf("3.5: received %v, want %s with a stanza-id by bob@localhost", r, want[i])
		}
		wantIDs = append(wantIDs, r[2])
	}
	bodies := func(rs []res) (b, ids []string) {
		for _, r := range rs {
			b, ids = append(b, r.Body), append(ids, r.ID)
		}
		return b, ids
	}
	if b, ids := bodies(got.Forwards); !slices.Equal(b, want) || !slices.Equal(ids, wantIDs) {
		t.Errorf("4.3 forwards: %v %v", b, ids)
	}
	rev := slices.Clone(want)
	slices.Reverse(rev)
	if b, _ := bodies(got.Backwards); !slices.Equal(b, rev) {
		t.Errorf("4.3.3 backwards: %v", b)
	}
	if b, _ := bodies(got.WithAlice); !slices.Equal(b, want) {
		t.Errorf("4.1.1 with alice: %v", b)
	}
	for _, f := range []string{"FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids"} {
		if !slices.Contains(got.Fields, f) {
			t.Errorf("4.1.5: form fields %v lack %s", got.Fields, f)
		}
	}
	if b, ids := bodies(got.Alice); !slices.Equal(b, want) || len(ids) == 0 || slices.Contains(wantIDs, ids[0]) {
		t.Errorf("alice's archive: %v", b)
	}
}

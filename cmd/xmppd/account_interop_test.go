package main_test

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestSlixmppAccountFeatures: slixmpp's own plugins for the everyday
// account features against the real binary: XEP-0054 vCard set by one
// user and read by another (3.2), bookmarks kept in XEP-0049 private
// storage (as mcabber and poezio keep them) and in XEP-0223 PEP private
// data, XEP-0352 presence held while inactive (only the newest) and a
// message not held, XEP-0092 software version, XEP-0202 entity time and
// XEP-0012 last activity of the server and of an online contact.
func TestSlixmppAccountFeatures(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	out := runSlixmpp(t, srv, "account_slixmpp.py")
	var res struct {
		VCardFN     string   `json:"vcard_fn_seen_by_bob"`
		Private     []string `json:"bookmarks_xep_0049"`
		PEPPrivate  []string `json:"bookmarks_xep_0223"`
		Message     string   `json:"message_while_inactive"`
		HeldPresent []string `json:"presence_before_active"`
		Software    string   `json:"software"`
		TimeUTC     bool     `json:"time_has_utc"`
		Uptime      *int     `json:"server_uptime_seconds"`
		BobLast     *int     `json:"bob_last_activity"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	if res.VCardFN != "Alice Liddell" {
		t.Errorf("bob read alice's vCard FN %q", res.VCardFN)
	}
	if !slices.Equal(res.Private, []string{"xep_0049"}) || !slices.Equal(res.PEPPrivate, []string{"xep_0223"}) {
		t.Errorf("bookmarks read back: private storage %v, PEP %v", res.Private, res.PEPPrivate)
	}
	if res.Message != "urgent" {
		t.Errorf("message while inactive: %q", res.Message)
	}
	if !slices.Equal(res.HeldPresent, []string{"second"}) {
		t.Errorf("presence sent out of the inactive period: %q, want only the newest", res.HeldPresent)
	}
	if res.Software != "xmppd" || !res.TimeUTC {
		t.Errorf("software %q, time with utc %v", res.Software, res.TimeUTC)
	}
	if res.Uptime == nil || *res.Uptime < 0 || res.BobLast == nil || *res.BobLast != 0 {
		t.Errorf("last activity: server %v, online bob %v", res.Uptime, res.BobLast)
	}
}

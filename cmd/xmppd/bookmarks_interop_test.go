package main_test

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestSlixmppBookmarks: XEP-0402 5.3 against the real binary, with
// slixmpp as both kinds of client of one user: bookmarks set through
// XEP-0048 over XEP-0049 (mcabber, poezio) are native items with a
// notification (5.3.2), autojoin and the rest intact; a native publish
// with XEP-0402 3.3's publish-options is read back through XEP-0049 and
// XEP-0223 (5.3.1), a native retraction leaves private storage, and a
// XEP-0223 list reaches the native node. The account announces #compat
// and #compat-pep (section 6).
func TestSlixmppBookmarks(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	out := runSlixmpp(t, srv, "bookmarks_slixmpp.py")
	type conference struct {
		Name, Autojoin, Nick, Password string
	}
	var res struct {
		Features    []string              `json:"features"`
		Notified    []string              `json:"notified"`
		Native      map[string]conference `json:"native"`
		Private     []string              `json:"after_publish_xep_0049"`
		PEP         []string              `json:"after_publish_xep_0223"`
		Retracted   []string              `json:"after_retract_xep_0049"`
		FromPEPList []string              `json:"after_xep_0223_native"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	if !slices.Contains(res.Features, "urn:xmpp:bookmarks:1#compat") || !slices.Contains(res.Features, "urn:xmpp:bookmarks:1#compat-pep") {
		t.Errorf("account features %v", res.Features)
	}
	if !slices.Equal(res.Notified, []string{"item:council@conference.localhost"}) {
		t.Errorf("native notification %v", res.Notified)
	}
	if c := res.Native["council@conference.localhost"]; len(res.Native) != 1 || c.Name != "Council" || c.Nick != "puck" || c.Password != "oberon" ||
		(c.Autojoin != "true" && c.Autojoin != "1") {
		t.Errorf("native items %+v", res.Native)
	}
	both := []string{"council@conference.localhost", "orchard@conference.localhost"}
	if !slices.Equal(res.Private, both) || !slices.Equal(res.PEP, both) {
		t.Errorf("after the native publish: XEP-0049 %v, XEP-0223 %v", res.Private, res.PEP)
	}
	if !slices.Equal(res.Retracted, []string{"orchard@conference.localhost"}) {
		t.Errorf("after the native retract: XEP-0049 %v", res.Retracted)
	}
	if !slices.Equal(res.FromPEPList, []string{"heath@conference.localhost"}) {
		t.Errorf("after the XEP-0223 list: native %v", res.FromPEPList)
	}
}

package im

import (
	"testing"
	"time"

	"mellium.im/xmpp/jid"
)

// TestStanzaCacheCopiesAreIndependent: a broadcast parses its stanza once
// and sends each contact its own copy (RFC 6121 4.4.2: the same stanza to
// every contact, each with its own 'to'). A copy changed on its way (a
// <delay/> added, a 'to' set) must not show in the next copy, and every
// copy must be what parsing the stanza afresh gives.
func TestStanzaCacheCopiesAreIndependent(t *testing.T) {
	raw := `<presence xmlns="jabber:client" id="p1"><show>away</show><status>round 1</status><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="n" ver="v"/></presence>`
	from := jid.MustParse("hub@localhost/r")
	var c stanzaCache
	for i, to := range []string{"a@localhost", "b@localhost", "c@localhost"} {
		got := c.presenceEl(raw, from, jid.MustParse(to), "", "p1")
		want := presenceEl(raw, from, jid.MustParse(to), "", "p1")
		if got.String() != want.String() {
			t.Fatalf("copy %d:\n got %s\nwant %s", i, got, want)
		}
		// What a contact's path may do to its copy (stanzaCache: not
		// change a child in place).
		withPhoto(got, "abc")
		withDelay(got, "localhost", time.Unix(0, 0))
		got.SetAttr("type", "unavailable")
		got.Children = got.Children[1:]
	}
	// Another stanza through the same cache is parsed afresh.
	other := `<presence xmlns="jabber:client"><status>round 2</status></presence>`
	if got, want := c.presenceEl(other, from, jid.MustParse("a@localhost"), "", ""), presenceEl(other, from, jid.MustParse("a@localhost"), "", ""); got.String() != want.String() {
		t.Fatalf("second stanza:\n got %s\nwant %s", got, want)
	}
	// A stanza that does not parse gives a bare presence, as presenceEl does.
	got := c.presenceEl("<presence", from, jid.MustParse("a@localhost"), "", "x")
	if want := `<presence xmlns='jabber:client' id='x' from='hub@localhost/r' to='a@localhost'/>`; got.String() != want {
		t.Fatalf("unparsable stanza:\n got %s\nwant %s", got, want)
	}
}

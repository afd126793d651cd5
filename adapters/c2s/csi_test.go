package c2s_test

import (
	"testing"

	"xmppd/stanza"
)

// XEP-0352: the feature is offered after authentication (4.1); while the
// client is inactive (4.2) presence is held, the newest per sender only,
// and sent on <active/> before anything the client sends next is
// answered (5.1); a message while inactive first sends what was held, in
// order; subscription requests are never held.
func TestClientStateIndicationXEP0352(t *testing.T) {
	ts := startServer(t, nil)
	c, features, full := login(t, ts, "alice", "secret", "phone")
	if features.Child("csi", stanza.NSCSI) == nil {
		t.Fatalf("no <csi/> in the features after authentication: %s", features)
	}
	var sess interface {
		Send(*stanza.Element) error
	}
	waitFor(t, "session", func() bool { s := ts.core.session(full); sess = s; return s != nil })
	presence := func(from, status string) *stanza.Element {
		p := stanza.New(stanza.NSClient, "presence", "from", from, "to", full)
		return p.AddChild(stanza.New(stanza.NSClient, "status").AddText(status))
	}
	statusOf := func(el *stanza.Element) string { return el.Attr("from") + " " + el.Child("status", "").Text() }

	c.send(`<inactive xmlns='urn:xmpp:csi:0'/>`)
	// The nonza is handled in order: this ping's answer proves it was.
	c.send(`<iq type='get' id='p0' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := c.next(); el.Attr("id") != "p0" {
		t.Fatalf("want the ping's answer, got %s", el)
	}
	sess.Send(presence("romeo@localhost/a", "one"))
	sess.Send(presence("nurse@localhost/b", "only"))
	sess.Send(presence("romeo@localhost/a", "two")) // replaces "one"
	sess.Send(stanza.New(stanza.NSClient, "presence", "from", "tybalt@localhost", "to", full, "type", "subscribe"))
	// The subscription request is not held, and goes after what was.
	for i, want := range []string{"nurse@localhost/b only", "romeo@localhost/a two"} {
		if el := c.next(); el.Name.Local != "presence" || statusOf(el) != want {
			t.Fatalf("held presence %d: want %q, got %s", i, want, el)
		}
	}
	if el := c.next(); el.Attr("type") != "subscribe" {
		t.Fatalf("want the subscription request, got %s", el)
	}

	// Held again, then <active/>: sent before the next ping's answer.
	sess.Send(presence("romeo@localhost/a", "three"))
	c.send(`<active xmlns='urn:xmpp:csi:0'/><iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := c.next(); statusOf(el) != "romeo@localhost/a three" {
		t.Fatalf("want the held presence first, got %s", el)
	}
	if el := c.next(); el.Attr("id") != "p1" {
		t.Fatalf("want the ping's answer, got %s", el)
	}
	// Active: presence goes at once.
	sess.Send(presence("romeo@localhost/a", "four"))
	if el := c.next(); statusOf(el) != "romeo@localhost/a four" {
		t.Fatalf("active: got %s", el)
	}

	// Inactive again: a message sends the held presence first.
	c.send(`<inactive xmlns='urn:xmpp:csi:0'/><iq type='get' id='p2' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := c.next(); el.Attr("id") != "p2" {
		t.Fatalf("want the ping's answer, got %s", el)
	}
	sess.Send(presence("nurse@localhost/b", "five"))
	sess.Send(stanza.New(stanza.NSClient, "message", "from", "romeo@localhost/a", "to", full, "type", "chat").AddChild(stanza.New(stanza.NSClient, "body").AddText("hi")))
	if el := c.next(); statusOf(el) != "nurse@localhost/b five" {
		t.Fatalf("want the held presence before the message, got %s", el)
	}
	if el := c.next(); el.Name.Local != "message" {
		t.Fatalf("want the message, got %s", el)
	}
}

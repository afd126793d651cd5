package im_test

import (
	"fmt"
	"testing"

	"xmppd/stanza"
)

// carbon matches a XEP-0280 copy of kind ("received" or "sent") whose
// forwarded message has the given body.
func carbon(kind, body string) match {
	return match{fmt.Sprintf("%s carbon of %q", kind, body), func(el *stanza.Element) bool {
		inner := forwardedMessage(el, kind)
		if inner == nil {
			return false
		}
		b := inner.Child("body", "")
		return b != nil && b.Text() == body
	}}
}

// anyCarbon matches any XEP-0280 copy.
func anyCarbon() match {
	return match{"any carbon", func(el *stanza.Element) bool {
		return el.Name.Local == "message" && (el.Child("sent", stanza.NSCarbons) != nil || el.Child("received", stanza.NSCarbons) != nil)
	}}
}

func forwardedMessage(el *stanza.Element, kind string) *stanza.Element {
	if el.Name.Local != "message" {
		return nil
	}
	c := el.Child(kind, stanza.NSCarbons)
	if c == nil {
		return nil
	}
	f := c.Child("forwarded", stanza.NSForward)
	if f == nil {
		return nil
	}
	return f.Child("message", stanza.NSClient)
}

func enableCarbons(t *testing.T, c *client, id string) {
	t.Helper()
	if res := c.iq(id, `<iq type='set' id='%s'><enable xmlns='urn:xmpp:carbons:2'/></iq>`, id); res.Attr("type") != "result" {
		t.Fatalf("%s: enable carbons: %s", c.name, res)
	}
}

// XEP-0280 sections 4, 7, 8: once enabled, a resource gets <received/>
// copies of messages delivered to the account's other resources and
// <sent/> copies of messages they send, wrapped per XEP-0297, from the
// bare JID to its full JID, keeping the type; the resources that got the
// original or sent it get no copy.
func TestCarbonsXEP0280ReceivedAndSent(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	b1, b2 := e.login("bob", "desk"), e.login("bob", "mobile")
	a.online(0)
	b1.online(1)
	b2.online(0)
	enableCarbons(t, b1, "c1")
	enableCarbons(t, b2, "c2")
	enableCarbons(t, b2, "c3") // 10.1: enabling twice is no error

	// Section 7: to the full JID of desk: mobile gets a received copy.
	a.send(`<message to='%s' type='chat' id='m1'><body>to desk</body></message>`, b1.jid)
	b1.expect(message(a.jid, "to desk"))
	w := b2.expect(carbon("received", "to desk"))
	if w.Attr("from") != "bob@localhost" || w.Attr("to") != b2.jid || w.Attr("type") != "chat" {
		t.Errorf("received carbon wrapper: %s", w)
	}
	if in := forwardedMessage(w, "received"); in.Attr("from") != a.jid || in.Attr("to") != b1.jid || in.Attr("id") != "m1" {
		t.Errorf("forwarded message: %s", in)
	}
	// To the bare JID: delivered to desk (highest priority), copied to mobile.
	a.send(`<message to='bob@localhost' type='chat'><body>to bare</body></message>`)
	b1.expect(message(a.jid, "to bare"))
	b2.expect(carbon("received", "to bare"))
	b1.never(anyCarbon(), b1.pingSelf())

	// Section 8: desk sends; mobile gets a sent copy, desk none.
	b1.send(`<message to='%s' type='chat' id='s1'><body>reply</body></message>`, a.jid)
	a.expect(message(b1.jid, "reply"))
	w = b2.expect(carbon("sent", "reply"))
	if w.Attr("from") != "bob@localhost" || w.Attr("to") != b2.jid {
		t.Errorf("sent carbon wrapper: %s", w)
	}
	if in := forwardedMessage(w, "sent"); in.Attr("from") != b1.jid || in.Attr("to") != a.jid {
		t.Errorf("forwarded sent message: %s", in)
	}
	b1.never(anyCarbon(), b1.pingSelf())

	// Section 5: disabled, mobile gets no more copies.
	if res := b2.iq("d1", `<iq type='set' id='d1'><disable xmlns='urn:xmpp:carbons:2'/></iq>`); res.Attr("type") != "result" {
		t.Fatalf("disable: %s", res)
	}
	a.send(`<message to='%s' type='chat'><body>after disable</body></message>`, b1.jid)
	b1.expect(message(a.jid, "after disable"))
	b1.send(`<message to='%s' type='chat'><body>sent after disable</body></message>`, a.jid)
	a.expect(message(b1.jid, "sent after disable"))
	b2.never(anyCarbon(), b2.messageFrom(a))
}

// RFC 6121 8.5.2.1.1 with XEP-0280 section 7: a message to the bare JID
// delivered to two resources of equal priority gives neither a copy.
func TestCarbonsNotToResourcesThatGotTheOriginal(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	b1, b2 := e.login("bob", "one"), e.login("bob", "two")
	a.online(0)
	b1.online(3)
	b2.online(3)
	enableCarbons(t, b1, "c1")
	enableCarbons(t, b2, "c2")
	a.send(`<message to='bob@localhost' type='chat'><body>both</body></message>`)
	b1.expect(message(a.jid, "both"))
	b2.expect(message(a.jid, "both"))
	// (A message from a as barrier would itself be copied to the other.)
	b1.never(anyCarbon(), b1.pingSelf())
	b2.never(anyCarbon(), b2.pingSelf())
}

// XEP-0280 sections 6.1 and 9: <private/>, <no-copy/>, headline, error
// and groupchat messages are not copied; a session that did not enable
// carbons gets no copy of anything (section 2).
func TestCarbonsNotCopied(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	b1, b2, b3 := e.login("bob", "desk"), e.login("bob", "mobile"), e.login("bob", "plain")
	a.online(0)
	b1.online(1)
	b2.online(0)
	b3.online(0)
	enableCarbons(t, b2, "c2")
	for i, payload := range []string{
		`type='chat'><body>p1</body><private xmlns='urn:xmpp:carbons:2'/><no-copy xmlns='urn:xmpp:hints'/>`,
		`type='chat'><body>p2</body><private xmlns='urn:xmpp:carbons:2'/>`,
		`type='chat'><body>p3</body><no-copy xmlns='urn:xmpp:hints'/>`,
		`type='headline'><body>p4</body>`,
		`type='error'><body>p5</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`,
		`type='groupchat'><body>p6</body>`,
	} {
		body := fmt.Sprintf("p%d", i+1)
		a.send(`<message to='%s' %s</message>`, b1.jid, payload)
		b1.expect(message(a.jid, body))
		b1.send(`<message to='%s' %s</message>`, a.jid, payload)
		a.expect(message(b1.jid, body))
	}
	b2.never(anyCarbon(), b2.messageFrom(a))

	// The control: the same exchange as chat is copied to mobile only.
	a.send(`<message to='%s' type='chat'><body>copied</body></message>`, b1.jid)
	b1.expect(message(a.jid, "copied"))
	b2.expect(carbon("received", "copied"))
	b1.send(`<message to='%s' type='chat'><body>copied too</body></message>`, a.jid)
	b2.expect(carbon("sent", "copied too"))
	b3.never(anyCarbon(), b3.messageFrom(a))
}

// XEP-0280 section 3: the server advertises carbons; 4.1/5.1: a get, or
// an unknown element, is a bad request.
func TestCarbonsDiscoAndBadRequests(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	res := a.iq("d1", `<iq type='get' id='d1' to='localhost'><query xmlns='%s'/></iq>`, stanza.NSDiscoInfo)
	found := false
	if q := res.Child("query", stanza.NSDiscoInfo); q != nil {
		for _, f := range q.Elements() {
			found = found || (f.Name.Local == "feature" && f.Attr("var") == stanza.NSCarbons)
		}
	}
	if !found {
		t.Errorf("server disco#info lacks %s: %s", stanza.NSCarbons, res)
	}
	if res := a.iq("g1", `<iq type='get' id='g1'><enable xmlns='urn:xmpp:carbons:2'/></iq>`); stanzaErr(res) != "bad-request" {
		t.Errorf("get enable: %s", res)
	}
}

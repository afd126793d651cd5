package im_test

import (
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

// RFC 6121 4.2.2 and 4.3: at initial presence the server probes the
// contacts the user is subscribed to and delivers their current presence
// (4.3.2 #4, the last presence stanza whole); the contacts receive the
// user's presence.
func TestInitialPresenceProbesContacts(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.online(0)
	b.online(0)
	subscribeBoth(a, b)
	b.send(`<presence><show>xa</show><status>gone fishing</status></presence>`)
	a.expect(presence(b.jid, ""))
	a.quit()
	b.expect(presence(a.jid, "unavailable"))

	a = e.login("alice", "laptop")
	a.online(0)
	p := a.expect(presence(b.jid, ""))
	if p.Child("status", "").Text() != "gone fishing" || p.Child("show", "").Text() != "xa" {
		t.Errorf("probe answer is not the last presence whole: %s", p)
	}
	b.expect(presence(a.jid, ""))
}

// RFC 6121 8.5.3.1: an IQ get to a full JID is delivered only if the user
// shares presence with the sender (else service-unavailable, to prevent
// presence leaks), and its result is routed back to the sender's resource.
func TestIQRoutedBetweenResources(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.addUser("carol")
	e.start()
	a, b, c := e.login("alice", "phone"), e.login("bob", "pc"), e.login("carol", "pc")
	a.online(0)
	b.online(0)
	c.online(0)
	subscribeBoth(a, b)

	a.send(`<iq type='get' id='v1' to='%s'><query xmlns='jabber:iq:version'/></iq>`, b.jid)
	req := b.expect(match{"version request", func(el *stanza.Element) bool { return el.Name.Local == "iq" && el.Attr("id") == "v1" }})
	if req.Attr("from") != a.jid {
		t.Fatalf("request: %s", req)
	}
	b.send(`<iq type='result' id='v1' to='%s'><query xmlns='jabber:iq:version'><name>test</name></query></iq>`, a.jid)
	res := a.expect(match{"version result", func(el *stanza.Element) bool { return el.Attr("id") == "v1" }})
	if res.Attr("type") != "result" || res.Attr("from") != b.jid {
		t.Fatalf("result: %s", res)
	}

	if res := c.iq("v2", `<iq type='get' id='v2' to='%s'><query xmlns='jabber:iq:version'/></iq>`, b.jid); stanzaErr(res) != "service-unavailable" {
		t.Fatalf("stranger's iq: %s", res)
	}
	b.never(match{"stranger's iq", func(el *stanza.Element) bool { return el.Attr("id") == "v2" }}, b.messageFrom(c))
}

// DESIGN.md, Security: a failed login is recorded (session.auth_failed in
// server-<domain>) with the client's address.
func TestFailedLoginRecorded(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	bad := e.dialAuth("alice", "wrong")
	if bad.Name.Local != "failure" {
		t.Fatalf("want failure, got %s", bad)
	}
	e.eventually("auth_failed event", func() bool {
		envs, ps := e.readStream(events.ServerStream(testDomain))
		for i, p := range ps {
			if f, ok := p.(events.AuthFailed); ok && f.Username == "alice" && f.Mechanism == "PLAIN" && envs[i].ClientAddr != "" {
				return true
			}
		}
		return false
	})
}

// RFC 6121 8.5.3.2.1 and 8.5.3.2.3: with no matching resource, a
// groupchat message gets service-unavailable (either is allowed; xmppd
// answers as Prosody does), while an IQ result is dropped: a response is
// never answered (RFC 6120 8.2.3 #4), only a get or set gets
// service-unavailable.
func TestNoResourceMatchGroupchatAndIQResult(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("carol")
	e.start()
	a, c := e.login("alice", "phone"), e.login("carol", "pc")
	a.online(0)
	c.online(0)
	for _, to := range []string{"alice@localhost/gone", "alice@localhost/phone2"} {
		c.send(`<message to='%s' type='groupchat' id='g1'><body>room</body></message>`, to)
		m := c.expect(anyMessage())
		if m.Attr("type") != "error" || stanzaErr(m) != "service-unavailable" || m.Attr("from") != to {
			t.Errorf("groupchat to %s: %s", to, m)
		}
	}
	c.send(`<iq type='result' id='r1' to='alice@localhost/gone'/>`)
	c.never(match{"answer to a result", func(el *stanza.Element) bool { return el.Attr("id") == "r1" }}, c.pingThrough("alice@localhost/gone"))
	a.never(anyMessage(), a.messageFrom(c))
	if res := c.iq("g2", `<iq type='get' id='g2' to='alice@localhost/gone'><ping xmlns='urn:xmpp:ping'/></iq>`); stanzaErr(res) != "service-unavailable" {
		t.Fatalf("iq get to a missing resource: %s", res)
	}
}

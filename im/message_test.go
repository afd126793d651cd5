package im_test

import (
	"testing"
	"time"

	"xmppd/events"
	"xmppd/stanza"
)

// RFC 6121 8.5.2.1.1: a chat message to the bare JID goes to the
// available resource(s) with the highest non-negative priority, never to
// one with a negative priority (8.5.2.2.1).
func TestMessageToBareJIDHighestPriority(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	hi, lo, neg := e.login("bob", "hi"), e.login("bob", "lo"), e.login("bob", "neg")
	hi.online(5)
	lo.online(1)
	neg.online(-1)
	a.send(`<message to='bob@localhost' type='chat' id='m1'><body>hello</body></message>`)
	hi.expect(message(a.jid, "hello"))
	// A wrong copy would come the way a's next message to each does.
	lo.never(anyMessage(), lo.messageFrom(a))
	neg.never(anyMessage(), neg.messageFrom(a))

	// Equal highest priorities both receive it.
	hi2 := e.login("bob", "hi2")
	hi2.online(5)
	a.send(`<message to='bob@localhost' type='chat'><body>both</body></message>`)
	hi.expect(message(a.jid, "both"))
	hi2.expect(message(a.jid, "both"))
}

// RFC 6121 8.5.3.1: a message to a full JID goes to that resource only.
func TestMessageToFullJID(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	hi, lo := e.login("bob", "hi"), e.login("bob", "lo")
	hi.online(5)
	lo.online(1)
	a.send(`<message to='bob@localhost/lo' type='chat'><body>psst</body></message>`)
	m := lo.expect(message(a.jid, "psst"))
	if m.Attr("to") != "bob@localhost/lo" {
		t.Errorf("'to' changed: %s", m)
	}
	hi.never(anyMessage(), hi.messageFrom(a))
}

// RFC 6121 8.5.1: a message to an account that does not exist is either
// ignored or answered with service-unavailable; xmppd answers chat,
// normal and groupchat (as Prosody and ejabberd do) and ignores headline
// (8.5.4: S). An IQ get gets service-unavailable; an IQ result is not
// answered (RFC 6120 8.2.3 #4). Nothing is stored.
func TestStanzasToNonexistentAccount(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	a.online(0)
	for _, typ := range []string{"chat", "normal", "groupchat"} {
		a.send(`<message to='nobody@localhost' type='%s' id='m-%s'><body>anyone?</body></message>`, typ, typ)
		m := a.expect(match{"error for m-" + typ, func(el *stanza.Element) bool {
			return el.Name.Local == "message" && el.Attr("id") == "m-"+typ
		}})
		if m.Attr("type") != "error" || stanzaErr(m) != "service-unavailable" || m.Attr("from") != "nobody@localhost" {
			t.Errorf("%s to a missing account: %s", typ, m)
		}
	}
	a.send(`<message to='nobody@localhost/x' type='chat' id='m-full'><body>anyone?</body></message>`)
	if m := a.expect(anyMessage()); m.Attr("id") != "m-full" || stanzaErr(m) != "service-unavailable" {
		t.Errorf("chat to a missing account's full JID: %s", m)
	}
	a.send(`<message to='nobody@localhost' type='headline' id='m-h'><body>news</body></message>`)
	a.send(`<iq type='result' id='r1' to='nobody@localhost/x'/>`)
	// An answer would come back through nobody's actor, as a bounce does.
	a.never(match{"any answer", func(el *stanza.Element) bool { return el.Name.Local == "message" || el.Attr("id") == "r1" }},
		a.pingThrough("nobody@localhost/x"))
	res := a.iq("v1", `<iq type='get' id='v1' to='nobody@localhost/x'><query xmlns='jabber:iq:version'/></iq>`)
	if stanzaErr(res) != "service-unavailable" {
		t.Fatalf("iq to a missing account: %s", res)
	}
	if q := e.srv.Views().Offline("nobody@localhost"); len(q) != 0 {
		t.Fatalf("stored for a missing account: %v", q)
	}
}

// XEP-0160 and RFC 6121 8.5.2.2.1: a chat message to an account with no
// available resource is stored (offline.queued, the stanza whole) and
// delivered, with a XEP-0203 <delay/> stamped when it was stored, when
// the recipient next sends non-negative available presence (XEP-0160
// section 3 step 5; not at login, not to a negative priority); delivery
// is recorded (offline.delivered) and happens once.
func TestOfflineMessageStoredAndDeliveredWithDelay(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	a.online(0)
	before := time.Now().UTC().Add(-time.Second)
	a.send(`<message to='bob@localhost' type='chat' id='off1'><body>are you there?</body><thread>t1</thread></message>`)
	e.eventually("offline.queued", func() bool { return len(e.srv.Views().Offline("bob@localhost")) == 1 })
	envs, ps := e.readStream(events.OfflineStream("bob@localhost"))
	q := ofType[events.OfflineQueued](ps)
	if len(q) != 1 || q[0].Kind != "message" || q[0].From != a.jid || envs[0].StanzaID != "off1" || envs[0].Actor != a.jid {
		t.Fatalf("offline.queued: %+v %+v", q, envs)
	}

	b := e.login("bob", "pc")
	b.iq("g", `<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>`)
	b.never(anyMessage(), b.pingSelf())
	b.send(`<presence><priority>-1</priority></presence>`)
	b.never(anyMessage(), b.pingSelf()) // 8.5.2.2.1: nothing for a negative priority
	b.send(`<presence><priority>0</priority></presence>`)
	m := b.expect(message(a.jid, "are you there?"))
	if m.Child("thread", "").Text() != "t1" {
		t.Errorf("stored message not whole: %s", m)
	}
	d := m.Child("delay", "urn:xmpp:delay")
	if d == nil || d.Attr("from") != "localhost" {
		t.Fatalf("no XEP-0203 delay: %s", m)
	}
	stamp, err := time.Parse(time.RFC3339, d.Attr("stamp"))
	if err != nil || stamp.Before(before.Truncate(time.Second)) || stamp.After(time.Now().Add(time.Second)) || d.Attr("stamp")[len(d.Attr("stamp"))-1] != 'Z' {
		t.Errorf("delay stamp %q: %v", d.Attr("stamp"), err)
	}
	e.eventually("offline.delivered", func() bool {
		_, ps := e.readStream(events.OfflineStream("bob@localhost"))
		del := ofType[events.OfflineDelivered](ps)
		return len(del) == 1 && del[0].Through == 1 && del[0].Resource == "pc" && len(e.srv.Views().Offline("bob@localhost")) == 0
	})
	// Delivered once only.
	b2 := e.login("bob", "tablet")
	b2.send(`<presence/>`)
	b2.never(anyMessage(), b2.pingSelf())
}

// RFC 6120 8.1.2.1: the server stamps 'from' with the sender's full JID,
// whatever the client wrote.
func TestForgedFromIsReplaced(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	b.online(0)
	a.send(`<message from='admin@localhost/console' to='bob@localhost' type='chat'><body>trust me</body></message>`)
	m := b.expect(match{"the message", func(el *stanza.Element) bool { return el.Name.Local == "message" }})
	if m.Attr("from") != a.jid {
		t.Fatalf("from = %q, want %q", m.Attr("from"), a.jid)
	}
}

// RFC 6120 8.4: an IQ of a namespace nobody handles is answered with
// service-unavailable; RFC 6120 8.3.3.15: one for another domain, with no
// server-to-server connection, with remote-server-not-found.
func TestIQErrors(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	if res := a.iq("u1", `<iq type='get' id='u1'><query xmlns='urn:example:unknown'/></iq>`); stanzaErr(res) != "service-unavailable" {
		t.Errorf("unknown namespace: %s", res)
	}
	if res := a.iq("u2", `<iq type='get' id='u2' to='localhost'><query xmlns='urn:example:unknown'/></iq>`); stanzaErr(res) != "service-unavailable" {
		t.Errorf("unknown namespace to the server: %s", res)
	}
	if res := a.iq("u3", `<iq type='get' id='u3' to='someone@example.org'><query xmlns='jabber:iq:version'/></iq>`); stanzaErr(res) != "remote-server-not-found" {
		t.Errorf("remote domain: %s", res)
	}
	a.send(`<message to='someone@example.org' id='m1'><body>x</body></message>`)
	m := a.expect(anyMessage())
	if stanzaErr(m) != "remote-server-not-found" || m.Attr("id") != "m1" {
		t.Errorf("message to a remote domain: %s", m)
	}
}

// XEP-0030 3.1: disco#info to the account's own bare JID names the
// account; an entity without a subscription learns nothing (RFC 6121 8.5).
func TestAccountDisco(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("carol")
	e.start()
	a, c := e.login("alice", "phone"), e.login("carol", "pc")
	res := a.iq("d1", `<iq type='get' id='d1' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	id := res.Child("query", "http://jabber.org/protocol/disco#info")
	if res.Attr("type") != "result" || id == nil || id.Child("identity", "") == nil || id.Child("identity", "").Attr("category") != "account" {
		t.Fatalf("own disco: %s", res)
	}
	if res := c.iq("d2", `<iq type='get' id='d2' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`); stanzaErr(res) != "service-unavailable" {
		t.Fatalf("stranger's disco: %s", res)
	}
}

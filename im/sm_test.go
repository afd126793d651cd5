package im_test

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"testing"
	"time"

	"xmppd/adapters/c2s"
	"xmppd/events"
	"xmppd/stanza"
)

// smElement matches an element of urn:xmpp:sm:3 named local.
func smElement(local string) match {
	return match{"sm " + local, func(el *stanza.Element) bool {
		return el.Name.Space == stanza.NSSM && el.Name.Local == local
	}}
}

// enableSM enables stream management (with resumption if resume) and
// returns <enabled/>.
func enableSM(t *testing.T, c *client, attrs string) *stanza.Element {
	t.Helper()
	c.send(`<enable xmlns='urn:xmpp:sm:3' %s/>`, attrs)
	return c.expect(smElement("enabled"))
}

// smH reads an element's 'h'.
func smH(t *testing.T, el *stanza.Element) uint32 {
	t.Helper()
	h, err := strconv.ParseUint(el.Attr("h"), 10, 32)
	if err != nil {
		t.Fatalf("no h in %s", el)
	}
	return uint32(h)
}

// roundTrip makes a ping round trip on c: whatever the server sent c
// before the answer has arrived by the time it returns.
func roundTrip(c *client, id string) {
	c.t.Helper()
	if res := c.iq(id, `<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, id); res.Attr("type") != "result" {
		c.t.Fatalf("ping: %s", res)
	}
}

// contacts starts a server with alice (on "phone") and bob (on "pc")
// online and subscribed to each other.
func contacts(t *testing.T) (*env, *client, *client) {
	t.Helper()
	return contactsWith(t, nil)
}

// contactsWith is contacts, running setup (if not nil) on the env before
// anything is written or started.
func contactsWith(t *testing.T, setup func(*env)) (*env, *client, *client) {
	t.Helper()
	e := newEnv(t)
	if setup != nil {
		setup(e)
	}
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.online(1)
	b.online(1)
	subscribeBoth(a, b)
	return e, a, b
}

// XEP-0198 sections 3 and 4: the feature, <enable/> before binding
// refused, acks counting stanzas in both directions, a second <enable/>
// refused, and an h beyond what was sent ending the stream with
// <handled-count-too-high/> (section 6).
func TestSMEnableAndAcks_XEP0198_4(t *testing.T) {
	_, a, b := contacts(t)

	en := enableSM(t, a, "")
	if en.Attr("resume") != "" || en.Attr("id") != "" {
		t.Errorf("enabled without resume asked: %s", en)
	}
	for i := 1; i <= 3; i++ {
		b.send(`<message to='%s' type='chat' id='m%d'><body>m%d</body></message>`, a.jid, i, i)
		a.expect(message(b.jid, fmt.Sprintf("m%d", i)))
	}
	// The server asks once for the burst (an <r/> outstanding is not
	// repeated) and the client answers with what it read.
	a.expect(smElement("r"))
	a.send(`<a xmlns='urn:xmpp:sm:3' h='3'/>`)
	// Two stanzas from the client, then a request: h reaches 2, at once
	// or, while the message is still being archived, in an <a/> the
	// server sends unasked once it is (sm_inbound.go).
	a.send(`<message to='%s' type='chat'><body>x</body></message>`, b.jid)
	roundTrip(a, "p1")
	a.send(`<r xmlns='urn:xmpp:sm:3'/>`)
	if h := smH(t, a.expect(smElement("a"))); h > 2 {
		t.Errorf("server's h = %d, want at most 2 (a message and a ping)", h)
	} else if h < 2 {
		if h := smH(t, a.expect(smElement("a"))); h != 2 {
			t.Errorf("server's unasked h = %d, want 2 (a message and a ping)", h)
		}
	}
	// Section 4: only one <enable/>.
	a.send(`<enable xmlns='urn:xmpp:sm:3'/>`)
	if f := a.expect(smElement("failed")); f.Child("unexpected-request", stanza.NSStanzas) == nil {
		t.Errorf("second enable: %s", f)
	}
	// Section 6: acknowledging more than was sent.
	a.send(`<a xmlns='urn:xmpp:sm:3' h='1000'/>`)
	se := a.expect(streamError("undefined-condition"))
	if hc := se.Child("handled-count-too-high", stanza.NSSM); hc == nil || hc.Attr("h") != "1000" {
		t.Errorf("stream error %s has no <handled-count-too-high h='1000'/>", se)
	}
}

// XEP-0198 section 4: <enable/> before binding is refused with
// unexpected-request, and the client may bind afterwards.
func TestSMEnableBeforeBind_XEP0198_4(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	var failed *stanza.Element
	c := e.open("alice", "pw-alice", "", nil, func(c *client, d *xml.Decoder) {
		c.send(`<enable xmlns='urn:xmpp:sm:3'/>`)
		failed = next(t, d)
		c.send(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>`)
		if res := next(t, d); res.Attr("type") != "result" {
			t.Fatalf("bind after failed enable: %s", res)
		}
	})
	if failed.Name.Local != "failed" || failed.Child("unexpected-request", stanza.NSStanzas) == nil {
		t.Fatalf("enable before bind: %s", failed)
	}
	roundTrip(c, "p")
}

// XEP-0198 section 5: the TCP connection is cut under a resumable session;
// the session stays available (its contact sees no unavailable), what is
// sent meanwhile waits, and on <resume/> from a new connection the server
// answers with the client's count, sends again what the client had not
// acknowledged, then what waited, in order, and records the suspension
// and the resumption with the new connection's address.
func TestSMResumeAfterCut_XEP0198_5(t *testing.T) {
	e, a, b := contacts(t)

	en := enableSM(t, a, "resume='true'")
	id := en.Attr("id")
	if en.Attr("resume") != "true" || id == "" {
		t.Fatalf("enabled: %s", en)
	}
	if m, _ := strconv.Atoi(en.Attr("max")); m != int(c2s.DefaultResumeTimeout/time.Second) {
		t.Errorf("max = %q, want the default %v", en.Attr("max"), c2s.DefaultResumeTimeout)
	}
	b.send(`<message to='%s' type='chat' id='m1'><body>m1</body></message>`, a.jid)
	a.expect(message(b.jid, "m1"))
	a.expect(smElement("r"))
	a.send(`<a xmlns='urn:xmpp:sm:3' h='1'/>`)
	a.send(`<message to='%s' type='chat'><body>from a</body></message>`, b.jid)
	b.expect(message(a.jid, "from a"))
	b.send(`<message to='%s' type='chat' id='m2'><body>m2</body></message>`, a.jid)
	b.send(`<message to='%s' type='chat' id='m3'><body>m3</body></message>`, a.jid)
	a.expect(message(b.jid, "m2"))
	a.expect(message(b.jid, "m3"))
	// Cut: no </stream:stream>, as when a phone changes networks.
	a.conn.Close()
	e.eventually("session.suspended", func() bool {
		_, ps := e.readStream(events.PresenceStream("alice@localhost"))
		return len(ofType[events.SessionSuspended](ps)) == 1
	})
	if st := e.srv.clients.Stats(); st.Suspended != 1 || st.Unacked != 2 {
		t.Errorf("stats while suspended: %+v", st)
	}
	b.send(`<message to='%s' type='chat' id='m4'><body>m4</body></message>`, a.jid)
	// Still available: a probe-free check is that bob got no unavailable.
	roundTrip(b, "p1")
	if _, ok, _ := b.take(presence(a.jid, "unavailable")); ok {
		t.Fatal("bob saw alice unavailable while her session was suspended")
	}

	a2, res := e.resume("alice", id, 1)
	if res.Name.Local != "resumed" || res.Attr("previd") != id {
		t.Fatalf("resume: %s", res)
	}
	if h := smH(t, res); h != 1 {
		t.Errorf("resumed h = %d, want 1 (the message alice sent)", h)
	}
	if st := e.srv.clients.Stats(); st.Suspended != 0 || st.Resumed != 1 {
		t.Errorf("stats after resuming: %+v", st)
	}
	// m2 and m3 again (never acknowledged), then m4, in order.
	for _, body := range []string{"m2", "m3", "m4"} {
		a2.expect(message(b.jid, body))
	}
	roundTrip(a2, "p2")
	// Each once.
	for _, body := range []string{"m2", "m3", "m4"} {
		if _, dup, _ := a2.take(message(b.jid, body)); dup {
			t.Errorf("%s delivered twice on the resumed stream", body)
		}
	}
	// The session carries on: bob's next message arrives, alice's reach bob.
	b.send(`<message to='%s' type='chat'><body>m5</body></message>`, a.jid)
	a2.expect(message(b.jid, "m5"))
	a2.send(`<message to='%s' type='chat'><body>back</body></message>`, b.jid)
	b.expect(message(a.jid, "back"))

	envs, ps := e.readStream(events.PresenceStream("alice@localhost"))
	sus, resumed := ofType[events.SessionSuspended](ps), ofType[events.SessionResumed](ps)
	if len(sus) != 1 || len(resumed) != 1 {
		t.Fatalf("suspended %+v resumed %+v", sus, resumed)
	}
	if sus[0].Resource != "phone" || sus[0].Cause != events.EndConnectionLost || sus[0].Unacked != 2 {
		t.Errorf("suspended: %+v", sus[0])
	}
	if r := resumed[0]; r.Resource != "phone" || r.ClientAddr == "" || r.Resent != 2 || r.TLS == "" {
		t.Errorf("resumed: %+v", r)
	}
	for _, env := range envs {
		if env.Type == events.TypeSessionResumed && env.ClientAddr != resumed[0].ClientAddr {
			t.Errorf("resumed event's meta addr %q, payload %q", env.ClientAddr, resumed[0].ClientAddr)
		}
	}
	if n := len(ofType[events.SessionEnded](ps)); n != 0 {
		t.Errorf("%d session.ended for a session that was resumed", n)
	}
}

// XEP-0198 section 5: an unknown SM-ID, or another user's, is refused
// with <item-not-found/>, after which the client may bind.
func TestSMResumeUnknown_XEP0198_5(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("mallory")
	e.start()
	a := e.login("alice", "phone")
	id := enableSM(t, a, "resume='1'").Attr("id")

	_, res := e.resume("alice", "no-such-id", 0)
	if res.Name.Local != "failed" || res.Child("item-not-found", stanza.NSStanzas) == nil {
		t.Fatalf("unknown id: %s", res)
	}
	// Another user who learnt the id cannot take the session.
	_, res = e.resume("mallory", id, 0)
	if res.Name.Local != "failed" || res.Child("item-not-found", stanza.NSStanzas) == nil {
		t.Fatalf("mallory resuming alice's session: %s", res)
	}
	roundTrip(a, "still-here")
}

// XEP-0198 sections 4 and 5: a suspended session not resumed in time ends
// (its contacts see it go), the messages it held that were never
// acknowledged go to offline storage exactly once, a later <resume/> gets
// <item-not-found/> with the h reached, and the next login gets them.
// The client's 'max' shortens the server's timeout.
func TestSMResumptionExpires_XEP0198_4(t *testing.T) {
	e, a, b := contacts(t)
	en := enableSM(t, a, "resume='true' max='1'")
	if en.Attr("max") != "1" {
		t.Fatalf("enabled max = %q, want the client's 1", en.Attr("max"))
	}
	a.send(`<message to='%s' type='chat'><body>hi</body></message>`, b.jid)
	b.expect(message(a.jid, "hi"))
	b.send(`<message to='%s' type='chat' id='u1'><body>u1</body></message>`, a.jid)
	a.expect(message(b.jid, "u1"))
	a.conn.Close()
	b.send(`<message to='%s' type='chat' id='u2'><body>u2</body></message>`, a.jid)
	b.expect(presence(a.jid, "unavailable"))
	e.eventually("two messages offline", func() bool { return len(e.srv.Views().Offline("alice@localhost")) == 2 })

	_, ps := e.readStream(events.PresenceStream("alice@localhost"))
	ended := ofType[events.SessionEnded](ps)
	if len(ended) != 1 || ended[0].Cause != events.EndResumptionExpired {
		t.Fatalf("session.ended: %+v", ended)
	}
	_, res := e.resume("alice", en.Attr("id"), 0)
	if res.Name.Local != "failed" || res.Child("item-not-found", stanza.NSStanzas) == nil || res.Attr("h") != "1" {
		t.Fatalf("resume after expiry: %s", res)
	}
	if st := e.srv.clients.Stats(); st.Expired != 1 || st.ResumeFailed != 1 || st.Suspended != 0 {
		t.Errorf("stats after expiry: %+v", st)
	}
	a2 := e.login("alice", "desk")
	a2.online(1)
	a2.expect(message(b.jid, "u1"))
	a2.expect(message(b.jid, "u2"))
	roundTrip(a2, "p")
	for _, body := range []string{"u1", "u2"} {
		if _, dup, _ := a2.take(message(b.jid, body)); dup {
			t.Errorf("%s delivered twice", body)
		}
	}
	e.eventually("offline messages delivered", func() bool { return len(e.srv.Views().Offline("alice@localhost")) == 0 })
}

// XEP-0198 section 4: without resumption, a session that ends with
// messages it never acknowledged hands them to the account's other
// resource (or offline storage) rather than losing them.
func TestSMUnackedGoElsewhere_XEP0198_4(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, a2, b := e.login("alice", "phone"), e.login("alice", "desk"), e.login("bob", "pc")
	a.online(5)
	a2.online(1)
	b.online(1)
	subscribeBoth(a, b)
	enableSM(t, a, "")
	b.send(`<message to='%s' type='chat'><body>only phone</body></message>`, a.jid)
	a.expect(message(b.jid, "only phone"))
	a.conn.Close() // never acknowledged
	a2.expect(message(b.jid, "only phone"))
}

// XEP-0198 section 5 with an old connection the server has not seen
// die: the resumption takes the session over, and the old connection is
// closed.
func TestSMResumeWhileOldOpen_XEP0198_5(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.smAck = true
	id := enableSM(t, a, "resume='true'").Attr("id")
	b.send(`<message to='%s' type='chat'><body>one</body></message>`, a.jid)
	a.expect(message(b.jid, "one"))
	roundTrip(a, "p0")
	a.mu.Lock()
	h := a.smIn // the message and the ping's answer
	a.mu.Unlock()
	a2, res := e.resume("alice", id, h)
	if res.Name.Local != "resumed" {
		t.Fatalf("resume over an open stream: %s", res)
	}
	a.waitClosed()
	b.send(`<message to='%s' type='chat'><body>two</body></message>`, a.jid)
	a2.expect(message(b.jid, "two"))
	roundTrip(a2, "p1")
	if _, dup, _ := a2.take(message(b.jid, "one")); dup {
		t.Error("an acknowledged message was sent again")
	}
}

// XEP-0198 section 4 says an <r/> must be answered "as soon as possible"
// and withheld only for a timeout: a client that leaves it unanswered
// past c2s.ack_timeout is taken to be gone (a connection that died
// silently); its connection is cut and the session suspended, with the
// message kept for the resumption.
func TestSMAckTimeoutSuspends_XEP0198_4(t *testing.T) {
	e := newEnv(t)
	e.tune = func(c *c2s.Config) { c.AckTimeout = time.Second }
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	id := enableSM(t, a, "resume='true'").Attr("id")
	b.send(`<message to='%s' type='chat'><body>unread</body></message>`, a.jid)
	a.expect(message(b.jid, "unread"))
	a.expect(smElement("r")) // and never answered
	a.waitClosed()
	e.eventually("session.suspended", func() bool {
		_, ps := e.readStream(events.PresenceStream("alice@localhost"))
		return len(ofType[events.SessionSuspended](ps)) == 1
	})
	a2, res := e.resume("alice", id, 0)
	if res.Name.Local != "resumed" {
		t.Fatalf("resume: %s", res)
	}
	a2.expect(message(b.jid, "unread"))
}

// XEP-0198 section 4 with offline storage (XEP-0160): a client with
// stream management that is sent its offline messages is asked to
// acknowledge them (<r/>), and they are recorded as delivered only when it
// does. A client that loses its connection before acknowledging does not
// hold its account up (another resource binds and is served at once), and
// when it resumes and acknowledges, the delivery is recorded then.
func TestSMOfflineDeliveryWaitsForAcks_XEP0198_4(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	b := e.login("bob", "pc")
	for i := 1; i <= 3; i++ {
		b.send(`<message to='alice@localhost' type='chat'><body>o%d</body></message>`, i)
	}
	e.eventually("three offline", func() bool { return len(e.srv.Views().Offline("alice@localhost")) == 3 })

	a := e.login("alice", "phone")
	id := enableSM(t, a, "resume='true'").Attr("id")
	a.send(`<presence/>`)
	for i := 1; i <= 3; i++ {
		a.expect(message("bob@localhost/pc", fmt.Sprintf("o%d", i)))
	}
	a.expect(smElement("r"))
	roundTrip(a, "p1")
	if n := len(e.srv.Views().Offline("alice@localhost")); n != 3 {
		t.Fatalf("%d offline messages left before any acknowledgement, want 3", n)
	}
	a.conn.Close() // never acknowledged
	e.eventually("session.suspended", func() bool {
		_, ps := e.readStream(events.PresenceStream("alice@localhost"))
		return len(ofType[events.SessionSuspended](ps)) == 1
	})
	// The account is not held up by the wait for the lost client.
	start := time.Now()
	d := e.login("alice", "desk")
	if res := d.iq("r1", `<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`); res.Attr("type") != "result" {
		t.Fatalf("roster get on another resource: %s", res)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("another resource waited %v to bind and be served", took)
	}
	if n := len(e.srv.Views().Offline("alice@localhost")); n != 3 {
		t.Fatalf("%d offline messages left while unacknowledged, want 3", n)
	}
	a2, res := e.resume("alice", id, 0)
	if res.Name.Local != "resumed" {
		t.Fatalf("resume: %s", res)
	}
	for i := 1; i <= 3; i++ {
		a2.expect(message("bob@localhost/pc", fmt.Sprintf("o%d", i)))
	}
	roundTrip(a2, "p2")
	a2.mu.Lock()
	h := a2.smIn // everything since <enabled/>, as resumed from 0
	a2.mu.Unlock()
	a2.send(`<a xmlns='urn:xmpp:sm:3' h='%d'/>`, h)
	e.eventually("offline delivery recorded on acknowledgement", func() bool { return len(e.srv.Views().Offline("alice@localhost")) == 0 })
}

package im_test

import (
	"testing"

	"xmppd/events"
)

// RFC 6121 4.2.2 and 4.4.2: available presence reaches subscribers and the
// user's other resources; 4.5.2: unavailable presence too, and a client
// that disconnects without it has it sent on its behalf. Each is recorded
// in presence-<bare>, with the stanza whole.
func TestPresenceBroadcastAndUnavailable(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.online(0)
	b.online(0)
	subscribeBoth(a, b)

	a.send(`<presence><show>dnd</show><status>meeting</status></presence>`)
	p := b.expect(presence(a.jid, ""))
	if p.Child("show", "").Text() != "dnd" || p.Child("status", "").Text() != "meeting" {
		t.Errorf("subsequent presence not broadcast whole: %s", p)
	}
	a2 := e.login("alice", "laptop")
	a2.online(0)
	a.expect(presence(a2.jid, ""))
	b.expect(presence(a2.jid, ""))
	a2.expect(presence(a.jid, "")) // 4.2.2: the new resource learns the others

	a.send(`<presence type='unavailable'><status>bye</status></presence>`)
	b.expect(presence(a.jid, "unavailable"))
	a2.expect(presence(a.jid, "unavailable"))

	a2.conn.Close() // no unavailable presence, no </stream:stream>
	b.expect(presence(a2.jid, "unavailable"))

	e.eventually("alice's session ends", func() bool { return len(e.srv.Views().Sessions("alice@localhost")) == 1 })
	_, ps := e.readStream(events.PresenceStream("alice@localhost"))
	var sawDND, sawBye bool
	for _, x := range ofType[events.PresenceAvailable](ps) {
		sawDND = sawDND || (x.Resource == "phone" && x.Show == "dnd")
	}
	for _, x := range ofType[events.PresenceUnavailable](ps) {
		sawBye = sawBye || (x.Resource == "phone" && x.Stanza != "")
	}
	if !sawDND || !sawBye {
		t.Errorf("presence events missing: %v", ps)
	}
}

// RFC 6121 4.3.2 and the security considerations (no presence leaks): an
// entity with no subscription gets no broadcast, and its probe is answered
// with nothing it can see.
func TestNoPresenceLeak(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("carol")
	e.start()
	a, c := e.login("alice", "phone"), e.login("carol", "pc")
	c.online(0)
	a.online(0)
	a.send(`<presence><show>chat</show></presence>`)
	c.send(`<presence to='alice@localhost' type='probe'/>`)
	c.send(`<presence to='alice@localhost/phone' type='probe'/>`)
	// A broadcast would come the way alice's next message does; a probe
	// answer, back through alice's actor, as a bounce does.
	c.never(anyPresenceFrom("alice@localhost"), c.messageFrom(a), c.pingThrough("alice@localhost/barrier"))
}

// RFC 6121 4.6: directed presence reaches an entity with no subscription,
// and when the sender goes offline, that entity gets unavailable presence
// too (4.6.3 #2).
func TestDirectedPresenceAndUnavailableFollowUp(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("carol")
	e.start()
	a, c := e.login("alice", "phone"), e.login("carol", "pc")
	c.online(0)
	a.online(0)
	a.send(`<presence to='carol@localhost'><status>hi carol</status></presence>`)
	if p := c.expect(presence(a.jid, "")); p.Child("status", "").Text() != "hi carol" {
		t.Errorf("directed presence: %s", p)
	}
	a.quit()
	c.expect(presence(a.jid, "unavailable"))

	_, ps := e.readStream(events.PresenceStream("alice@localhost"))
	if d := ofType[events.DirectedPresence](ps); len(d) != 1 || d[0].To != "carol@localhost" {
		t.Errorf("directed presence events: %+v", d)
	}
}

// RFC 6120 7.7.2.2: binding a resource already bound ends the old
// session with a <conflict/> stream error; its end is recorded with
// cause conflict (condition conflict) and the new session stays.
func TestResourceConflictReplacesOldSession(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	old := e.login("alice", "phone")
	old.online(0)
	e.login("alice", "phone")
	old.expect(streamError("conflict"))
	_, ps := e.readStream(events.PresenceStream("alice@localhost"))
	ends := ofType[events.SessionEnded](ps)
	if len(ends) != 1 || ends[0].Cause != events.EndConflict || ends[0].Condition != "conflict" {
		t.Fatalf("session ends: %+v", ends)
	}
	e.eventually("one session", func() bool { return len(e.srv.Views().Sessions("alice@localhost")) == 1 })
	// The late Ended of the old session must not end the new one.
	old.waitClosed()
	e.eventually("old connection gone", func() bool {
		_, ps := e.readStream(events.PresenceStream("alice@localhost"))
		return len(ofType[events.SessionEnded](ps)) == 1
	})
	if n := len(e.srv.Views().Sessions("alice@localhost")); n != 1 {
		t.Fatalf("sessions after conflict: %d", n)
	}
}

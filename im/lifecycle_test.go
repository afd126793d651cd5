package im_test

import (
	"strings"
	"testing"

	"xmppd/events"
)

// DESIGN.md "Every event carries": events a client causes name the full
// JID, the session, the client's address, the stanza id and the node;
// session.started records resource, address, node, TLS and mechanism.
func TestEventsRecordProvenance(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	a.iq("set-7", `<iq type='set' id='set-7'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com'/></query></iq>`)

	envs, ps := e.readStream(events.AccountStream("alice@localhost"))
	last, p := envs[len(envs)-1], ps[len(ps)-1]
	if _, ok := p.(events.RosterItemSet); !ok {
		t.Fatalf("last event %T", p)
	}
	if last.Actor != a.jid || last.StanzaID != "set-7" || last.SessionID == "" || last.Node != testNode ||
		!strings.HasPrefix(last.ClientAddr, "127.0.0.1:") || last.CorrelationID == "" {
		t.Fatalf("provenance: %+v", last)
	}

	penvs, pps := e.readStream(events.PresenceStream("alice@localhost"))
	st, ok := pps[0].(events.SessionStarted)
	if !ok || st.Resource != "phone" || st.Node != testNode || st.Mechanism != "PLAIN" || !strings.HasPrefix(st.TLS, "TLS") ||
		st.ClientAddr != last.ClientAddr || penvs[0].SessionID != last.SessionID {
		t.Fatalf("session.started: %+v %+v", st, penvs[0])
	}
}

// Restart: views rebuilt from the log by a new Server on the same file
// equal the views the old one had (projections Dump), and a clean stop
// recorded unavailable presence, session.ended (cause shutdown, condition
// system-shutdown) and
// server.stopped, after closing streams with <system-shutdown/>.
func TestCleanShutdownAndRestartViews(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	first := e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.online(0)
	b.online(3)
	subscribeBoth(a, b)
	a.send(`<message to='carol@localhost'><body>x</body></message>`)
	a.send(`<presence to='bob@localhost' type='unsubscribe'/>`)
	b.expect(presence("alice@localhost", "unsubscribe"))

	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	a.expect(streamError("system-shutdown"))
	b.expect(streamError("system-shutdown"))
	before := dump(t, first)

	_, ps := e.readStream(events.PresenceStream("alice@localhost"))
	ends := ofType[events.SessionEnded](ps)
	if len(ends) != 1 || ends[0].Cause != events.EndShutdown || ends[0].Condition != "system-shutdown" || len(ofType[events.PresenceUnavailable](ps)) != 1 {
		t.Fatalf("alice's shutdown events: %+v", ps)
	}
	_, sps := e.readStream(events.ServerStream(testDomain))
	if st := ofType[events.ServerStopped](sps); len(st) != 1 || st[0].Reason != "shutdown" {
		t.Fatalf("server stream: %+v", sps)
	}

	second := e.start()
	if after := dump(t, second); after != before {
		t.Fatalf("views differ after restart:\nbefore %s\nafter %s", before, after)
	}
	// After alice's unsubscribe she is "From" with bob, and he "To" with her.
	if !strings.Contains(before, `"Subscription": "From"`) || !strings.Contains(before, `"Subscription": "To"`) {
		t.Fatalf("dump does not hold the rosters: %s", before)
	}
}

// Restart recovery: sessions the log shows open on this node belong to a
// process that was killed; the next start records their unavailable
// presence and session.ended with cause restart, and a server.stopped
// for the process that never recorded one.
func TestRestartRecoveryEndsLostSessions(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	meta := events.Meta{Actor: "alice@localhost/phone", SessionID: "lost-1", ClientAddr: "127.0.0.1:4000", Node: testNode}
	e.appendEvents(events.ServerStream(testDomain), events.NoStream, events.Meta{Node: testNode}, events.ServerStarted{Node: testNode})
	e.appendEvents(events.PresenceStream("alice@localhost"), events.NoStream, meta,
		events.SessionStarted{Resource: "phone", ClientAddr: "127.0.0.1:4000", Node: testNode},
		events.PresenceAvailable{Resource: "phone", Stanza: "<presence xmlns='jabber:client' from='alice@localhost/phone'/>"})
	// Another node's session is not this node's to end.
	e.appendEvents(events.PresenceStream("bob@localhost"), events.NoStream, events.Meta{Node: "other"},
		events.SessionStarted{Resource: "pc", Node: "other"})

	srv := e.start()
	if s := srv.Views().Sessions("alice@localhost"); len(s) != 0 {
		t.Fatalf("alice still has sessions: %+v", s)
	}
	envs, ps := e.readStream(events.PresenceStream("alice@localhost"))
	ends := ofType[events.SessionEnded](ps)
	if len(ends) != 1 || ends[0] != (events.SessionEnded{Resource: "phone", Cause: events.EndRestart}) || len(ofType[events.PresenceUnavailable](ps)) != 1 {
		t.Fatalf("recovery events: %+v", ps)
	}
	if last := envs[len(envs)-1]; last.SessionID != "lost-1" || last.Actor != "server:"+testNode {
		t.Errorf("recovery provenance: %+v", last)
	}
	if s := srv.Views().Sessions("bob@localhost"); len(s) != 1 {
		t.Errorf("another node's session was ended: %+v", s)
	}
	_, sps := e.readStream(events.ServerStream(testDomain))
	if st := ofType[events.ServerStopped](sps); len(st) != 1 || !strings.Contains(st[0].Reason, "not stopped cleanly") {
		t.Errorf("server stream: %+v", sps)
	}
}

// An account deleted while its user is online (`xmppd user del` from
// another process appends account.deleted to the same log): its sessions
// are recorded as ended and closed with <not-authorized/> (RFC 6120
// 4.9.3.12), its subscribers see it go offline, and it can no longer log in.
func TestAccountDeletedClosesSessions(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.online(0)
	b.online(0)
	subscribeBoth(a, b)

	acc, _ := e.srv.Views().Accounts.Get("alice@localhost")
	e.appendEvents(events.AccountStream("alice@localhost"), events.Exactly(acc.StreamVersion), events.Meta{Actor: "admin:test"},
		events.AccountDeleted{JID: "alice@localhost", Reason: "test"})
	a.expect(streamError("not-authorized"))
	b.expect(presence(a.jid, "unavailable"))
	e.eventually("session.ended", func() bool {
		_, ps := e.readStream(events.PresenceStream("alice@localhost"))
		ends := ofType[events.SessionEnded](ps)
		return len(ends) == 1 && ends[0].Cause == events.EndAccountDeleted && ends[0].Condition == "not-authorized"
	})
}

// Accounts created while the server runs (`xmppd user add` appends to the
// same log, possibly from another process) can log in: credentials come
// from the views, which follow the log.
func TestAccountAddedWhileRunning(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	e.addUser("dave")
	e.eventually("dave in the views", func() bool {
		a, ok := srv.Views().Accounts.Get("dave@localhost")
		return ok && a.Exists
	})
	d := e.login("dave", "phone")
	if d.jid != "dave@localhost/phone" {
		t.Fatalf("bound %q", d.jid)
	}
	if answer := e.dialAuth("erin", "pw-erin"); answer.Name.Local != "failure" {
		t.Fatalf("unknown account logged in: %s", answer)
	}
}

// DESIGN.md, "A crash between the two steps is recovered": a process
// killed after recording alice's outbound subscribe but before bob's
// inbound side left bob without the request. The next start delivers it
// again (bob's side then names alice's event as its cause and carries
// her correlation id), and bob sees the request at his initial presence;
// a request whose inbound side was recorded is not delivered twice.
func TestUncleanStopResumesSubscriptionDelivery(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.addUser("carol")
	e.appendEvents(events.ServerStream(testDomain), events.NoStream, events.Meta{Node: testNode}, events.ServerStarted{Node: testNode})
	lost := events.Meta{Actor: "alice@localhost/phone", SessionID: "s-1", StanzaID: "sub-bob", CorrelationID: "corr-bob", Node: testNode}
	e.appendEvents(events.AccountStream("alice@localhost"), events.Exactly(2), lost,
		events.RosterItemSet{Contact: "bob@localhost"},
		events.SubscriptionChanged{Contact: "bob@localhost", Cause: events.OutSubscribe, Before: events.StateNone, After: events.StateNonePendingOut})
	done := events.Meta{Actor: "alice@localhost/phone", SessionID: "s-1", StanzaID: "sub-carol", CorrelationID: "corr-carol", Node: testNode}
	e.appendEvents(events.AccountStream("alice@localhost"), events.Exactly(4), done,
		events.RosterItemSet{Contact: "carol@localhost"},
		events.SubscriptionChanged{Contact: "carol@localhost", Cause: events.OutSubscribe, Before: events.StateNone, After: events.StateNonePendingOut})
	e.appendEvents(events.AccountStream("carol@localhost"), events.Exactly(2), done,
		events.SubscriptionChanged{Contact: "alice@localhost", Cause: events.InSubscribe, Before: events.StateNone, After: events.StateNonePendingIn})

	e.start()
	aenvs, _ := e.readStream(events.AccountStream("alice@localhost"))
	benvs, bps := e.readStream(events.AccountStream("bob@localhost"))
	in := ofType[events.SubscriptionChanged](bps)
	if len(in) != 1 || in[0].Cause != events.InSubscribe || in[0].After != events.StateNonePendingIn {
		t.Fatalf("bob's side: %+v", bps)
	}
	last := benvs[len(benvs)-1]
	if last.CorrelationID != "corr-bob" || last.CausationID != aenvs[3].ID || last.Actor != "alice@localhost/phone" {
		t.Errorf("redelivered provenance: %+v (alice's event %s)", last, aenvs[3].ID)
	}
	if _, cps := e.readStream(events.AccountStream("carol@localhost")); len(ofType[events.SubscriptionChanged](cps)) != 1 {
		t.Errorf("carol's request delivered twice: %+v", cps)
	}

	b := e.login("bob", "pc")
	b.send(`<presence/>`)
	b.expect(presence("alice@localhost", "subscribe"))
}

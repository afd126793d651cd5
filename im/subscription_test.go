package im_test

import (
	"testing"

	"xmppd/events"
)

// RFC 6121 3.1 (3.1.2 to 3.1.6) both ways, then 4.2.2: alice and bob,
// both online, subscribe to each other; each roster ends with
// subscription='both', each sees the other's presence, and each account
// stream records its own side of every transition (DESIGN.md: "Each
// account's stream holds only its own side").
func TestSubscribeApproveBothWays(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.online(0)
	b.online(0)

	a.send(`<presence to='bob@localhost' type='subscribe' id='sub1'/>`)
	// 3.1.2: the user's roster gets the item with ask='subscribe'.
	if p := a.expect(push("bob@localhost", "none")); p.Child("query", "").Child("item", "").Attr("ask") != "subscribe" {
		t.Errorf("push without ask: %s", p)
	}
	// 3.1.3: the contact's available resources get the request, from the
	// user's bare JID; the contact's roster gets no item before approval.
	b.expect(presence("alice@localhost", "subscribe"))
	b.never(anyPush(), b.pingSelf())

	b.send(`<presence to='alice@localhost' type='subscribed'/>`)
	// 3.1.5: the contact's roster gets the item, 'from'.
	b.expect(push("alice@localhost", "from"))
	// 3.1.6: the user gets the approval, the push ('to'), and the
	// contact's current presence.
	a.expect(presence("bob@localhost", "subscribed"))
	a.expect(push("bob@localhost", "to"))
	a.expect(presence(b.jid, ""))

	b.send(`<presence to='alice@localhost' type='subscribe'/>`)
	a.expect(presence("bob@localhost", "subscribe"))
	a.send(`<presence to='bob@localhost' type='subscribed'/>`)
	a.expect(push("bob@localhost", "both"))
	b.expect(push("alice@localhost", "both"))
	b.expect(presence(a.jid, ""))

	for _, c := range []*client{a, b} {
		other := "bob@localhost"
		if c == b {
			other = "alice@localhost"
		}
		items := rosterItems(t, c.iq("g", `<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>`))
		if it := items[other]; it == nil || it.Attr("subscription") != "both" || it.Attr("ask") != "" {
			t.Errorf("%s's roster: %v", c.name, items)
		}
	}

	// Each side in its own stream, with the Appendix A input and states.
	aenvs, ps := e.readStream(events.AccountStream("alice@localhost"))
	got := ofType[events.SubscriptionChanged](ps)
	want := []events.SubscriptionChanged{
		{Contact: "bob@localhost", Cause: events.OutSubscribe, Before: events.StateNone, After: events.StateNonePendingOut},
		{Contact: "bob@localhost", Cause: events.InSubscribed, Before: events.StateNonePendingOut, After: events.StateTo},
		{Contact: "bob@localhost", Cause: events.InSubscribe, Before: events.StateTo, After: events.StateToPendingIn},
		{Contact: "bob@localhost", Cause: events.OutSubscribed, Before: events.StateToPendingIn, After: events.StateBoth},
	}
	if len(got) != len(want) {
		t.Fatalf("alice's transitions: %+v", got)
	}
	for i := range want {
		got[i].Stanza = ""
		if got[i] != want[i] {
			t.Errorf("alice's transition %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	// Bob's side of alice's request names it as its cause, and carries
	// her provenance (who, which session, which stanza).
	var out events.Envelope
	for i, p := range ps {
		if c, ok := p.(events.SubscriptionChanged); ok && c.Cause == events.OutSubscribe {
			out = aenvs[i]
		}
	}
	benvs, bps := e.readStream(events.AccountStream("bob@localhost"))
	found := false
	for i, p := range bps {
		if c, ok := p.(events.SubscriptionChanged); ok && c.Cause == events.InSubscribe {
			found = true
			in := benvs[i]
			if in.CausationID != out.ID || in.CorrelationID != out.CorrelationID || in.Actor != a.jid || in.StanzaID != "sub1" || in.SessionID != out.SessionID {
				t.Errorf("bob's inbound subscribe %+v does not name alice's outbound %+v", in, out)
			}
		}
	}
	if !found {
		t.Error("bob's stream has no inbound subscribe")
	}
}

// RFC 6121 3.1.3 #4: a request to a contact with no available resource is
// kept whole (extensions included) and delivered when the contact next
// sends initial presence, not at login; again at every initial presence
// until answered.
func TestSubscribeRequestToOfflineContactKeptWhole(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	a.online(0)
	a.send(`<presence to='bob@localhost' type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>Alice</nick></presence>`)
	a.expect(push("bob@localhost", "none"))
	e.eventually("bob's pending request", func() bool {
		_, ps := e.readStream(events.AccountStream("bob@localhost"))
		return len(ofType[events.SubscriptionChanged](ps)) == 1
	})

	b := e.login("bob", "pc")
	b.iq("g", `<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>`)
	b.never(presence("alice@localhost", "subscribe"), b.pingSelf())
	b.send(`<presence/>`)
	req := b.expect(presence("alice@localhost", "subscribe"))
	if n := req.Child("nick", "http://jabber.org/protocol/nick"); n == nil || n.Text() != "Alice" {
		t.Fatalf("request lost its extension: %s", req)
	}
	if req.Attr("to") != "bob@localhost" {
		// 3.1.3: the request is addressed to the contact's bare JID, as
		// when delivered at once (and as Prosody delivers it).
		t.Errorf("stored request readdressed: %s", req)
	}
	b.quit()

	// Not answered: delivered again at the next initial presence.
	b2 := e.login("bob", "pc2")
	b2.send(`<presence/>`)
	b2.expect(presence("alice@localhost", "subscribe"))
}

// RFC 6121 3.4: a pre-approved subscription request is approved by the
// server at once; the contact is never asked, and the user receives
// "subscribed" and the contact's presence.
func TestPreapproval(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.online(0)
	b.online(0)

	b.send(`<presence to='alice@localhost' type='subscribed'/>`)
	p := b.expect(push("alice@localhost", "none"))
	if p.Child("query", "").Child("item", "").Attr("approved") != "true" {
		t.Fatalf("3.4.2: pre-approval push without approved='true': %s", p)
	}
	a.never(presence("bob@localhost", "subscribed"), a.messageFrom(b))

	a.send(`<presence to='bob@localhost' type='subscribe'/>`)
	a.expect(presence("bob@localhost", "subscribed"))
	a.expect(push("bob@localhost", "to"))
	a.expect(presence(b.jid, ""))
	b.expect(push("alice@localhost", "from"))
	b.never(presence("alice@localhost", "subscribe"), b.messageFrom(a))

	_, ps := e.readStream(events.AccountStream("bob@localhost"))
	if len(ofType[events.PreapprovalSet](ps)) != 1 || len(ofType[events.PreapprovalCleared](ps)) != 1 {
		t.Errorf("bob's stream: want one pre-approval set and used, got %v", ps)
	}
}

// RFC 6121 3.3 (unsubscribe) and 3.2 (cancel): from "both", alice
// unsubscribes from bob's presence (bob's server sends her his
// unavailable presence, 3.3.3 #3), then cancels bob's subscription to hers
// (she sends him unavailable presence first, 3.2.2); afterwards neither
// sees the other's presence.
func TestUnsubscribeAndCancel(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.online(0)
	b.online(0)
	subscribeBoth(a, b)

	// 3.3: alice no longer wants bob's presence.
	a.send(`<presence to='bob@localhost' type='unsubscribe'/>`)
	a.expect(push("bob@localhost", "from"))
	b.expect(presence("alice@localhost", "unsubscribe"))
	b.expect(push("alice@localhost", "to"))
	a.expect(presence(b.jid, "unavailable"))

	// 3.2: alice cancels bob's subscription to her presence.
	a.send(`<presence to='bob@localhost' type='unsubscribed'/>`)
	b.expect(presence(a.jid, "unavailable"))
	b.expect(presence("alice@localhost", "unsubscribed"))
	b.expect(push("alice@localhost", "none"))
	a.expect(push("bob@localhost", "none"))

	// Neither sees the other's presence any more.
	a.send(`<presence><show>away</show></presence>`)
	a.expect(presence(a.jid, ""))
	b.never(anyPresenceFrom("alice@localhost"), b.messageFrom(a))
}

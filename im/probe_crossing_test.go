package im_test

import (
	"fmt"
	"sync"
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

// Issue 11, defect 3: RFC 6121 4.2.2 broadcasts a user's initial presence
// to its subscribers and has the server probe the user's contacts (4.3.1),
// and 4.3.2 #4 answers a probe with the contact's current presence. When a
// contact's initial presence (and so its probe) crosses the hub's, the
// probe must not bring the hub's presence a second time. Here the hub and
// its contacts (all "Both") send initial presence at the same moment,
// round after round, over real TLS; then each side counts the other's
// presence of that round, after a barrier that every broadcast and every
// probe answer of the round has passed: exactly one each.
func TestProbeCrossingInitialPresenceOnce(t *testing.T) {
	const contacts, rounds = 24, 6
	e := newEnv(t)
	e.addUser("hub")
	names := make([]string, contacts)
	for i := range names {
		names[i] = fmt.Sprintf("c%02d", i)
		e.addUser(names[i])
		both(e, "hub", names[i])
		both(e, names[i], "hub")
	}
	e.start()
	hub := e.login("hub", "desk")
	cs := make([]*client, contacts)
	for i, n := range names {
		cs[i] = e.login(n, "phone")
	}
	for _, c := range append(cs, hub) {
		// Interested resources (RFC 6121 2.2), as real clients are.
		if res := c.iq("r0", `<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`); res.Attr("type") != "result" {
			t.Fatalf("%s: roster get: %s", c.name, res)
		}
	}
	hubBare := "hub@localhost"

	for round := range rounds {
		status := fmt.Sprintf("round %d", round)
		avail := `<presence><status>` + status + `</status></presence>`
		// Half the contacts before the hub, half after, all without
		// waiting: their commands and the hub's run side by side.
		var wg sync.WaitGroup
		for i, c := range cs {
			if i == contacts/2 {
				hub.send("%s", avail)
			}
			wg.Go(func() { c.send("%s", avail) })
		}
		wg.Wait()
		hub.expect(presenceWith(hub.jid, status))
		for _, c := range cs {
			c.expect(presenceWith(c.jid, status))
		}
		// Barrier. The hub's reflection came after its broadcast was handed
		// to every contact's actor, and each contact's after its own. A
		// contact's probe of the hub was queued on the hub's actor before
		// the contact's ping of the hub, so the pong means the probe was
		// answered (or not); the answer was queued on the contact's actor
		// before its roster get, whose result comes after it. The same,
		// the other way, for the hub's probes of its contacts.
		for i, c := range cs {
			c.iq("p", `<iq type='get' id='p' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, hubBare)
			c.iq("b", `<iq type='get' id='b'><query xmlns='jabber:iq:roster'/></iq>`)
			hub.iq("p", `<iq type='get' id='p' to='%s@localhost'><ping xmlns='urn:xmpp:ping'/></iq>`, names[i])
		}
		hub.iq("b", `<iq type='get' id='b'><query xmlns='jabber:iq:roster'/></iq>`)

		for _, c := range cs {
			if n := count(c, presenceWith(hub.jid, status)); n != 1 {
				t.Errorf("round %d: %s was given the hub's initial presence %d times, want 1 (RFC 6121 4.2.2, 4.3.2)", round, c.name, n)
			}
			if n := count(hub, presenceWith(c.jid, status)); n != 1 {
				t.Errorf("round %d: the hub was given %s's initial presence %d times, want 1", round, c.name, n)
			}
		}
		// Everyone goes unavailable (4.5.2): the hub first, which each
		// contact is told, then the contacts.
		hub.send(`<presence type='unavailable'/>`)
		for _, c := range cs {
			c.expect(presence(hub.jid, "unavailable"))
			c.send(`<presence type='unavailable'/>`)
		}
		for _, c := range append(cs, hub) {
			c.iq("b", `<iq type='get' id='b'><query xmlns='jabber:iq:roster'/></iq>`)
			c.clear()
		}
	}
}

// both records, as the log would after the handshake, that user's roster
// holds contact with subscription "Both".
func both(e *env, user, contact string) {
	e.t.Helper()
	ub, cb := user+"@localhost", contact+"@localhost"
	e.appendEvents(events.AccountStream(ub), events.Any, events.Meta{Actor: "admin:test"},
		events.RosterItemSet{Contact: cb},
		events.SubscriptionChanged{Contact: cb, Cause: events.OutSubscribed, Before: events.StateNone, After: events.StateBoth})
}

// presenceWith matches available presence from from whose status is status.
func presenceWith(from, status string) match {
	return match{fmt.Sprintf("presence from %s with status %q", from, status), func(el *stanza.Element) bool {
		s := el.Child("status", "")
		return el.Name.Local == "presence" && el.Attr("type") == "" && el.Attr("from") == from && s != nil && s.Text() == status
	}}
}

// count is how many received elements not yet taken match m.
func count(c *client, m match) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, el := range c.backlog {
		if m.fn(el) {
			n++
		}
	}
	return n
}

// clear forgets every received element not yet taken.
func (c *client) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.backlog = nil
}

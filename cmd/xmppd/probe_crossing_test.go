package main_test

import (
	"fmt"
	"strings"
	"testing"
)

// Issue 11, defect 3, through the real binary: a hub with 200 contacts
// (all "Both") and the contacts sending initial presence at the moment
// the hub sends its own. RFC 6121 4.2.2 broadcasts each initial presence
// to the subscribers and has the server probe the contacts (4.3.1), and
// 4.3.2 #4 answers a probe with current presence; where a probe crosses
// the broadcast, the answer must not be a second copy. Every contact is
// given the hub's presence once, and the hub each contact's once.
func TestServeProbeCrossingFanOut(t *testing.T) {
	const contacts = 200
	dir := t.TempDir()
	var accounts strings.Builder
	accounts.WriteString("hub@localhost hub-pw\n")
	names := make([]string, contacts)
	for i := range names {
		names[i] = fmt.Sprintf("c%03d", i)
		fmt.Fprintf(&accounts, "%s@localhost pw-%s\n", names[i], names[i])
	}
	mustRun(t, dir, accounts.String(), "user", "add", "--stdin")
	srv := startServe(t, dir)

	hub := dialXMPP(t, srv.directTLS)
	hub.login("hub", "hub-pw", "desk")
	hub.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`)
	hub.await("iq", "r0")
	// "Both" by pre-approvals (RFC 6121 3.4): the hub approves every
	// contact ahead, each contact approves the hub and subscribes (approved
	// at once), then the hub subscribes to each (approved at once).
	for _, n := range names {
		hub.send(`<presence to='` + n + `@localhost' type='subscribed'/>`)
	}
	hub.ping("pre")
	cs := make([]*rawXMPP, contacts)
	for i, n := range names {
		c := dialXMPP(t, srv.directTLS)
		c.login(n, "pw-"+n, "phone")
		c.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`)
		c.await("iq", "r0")
		c.send(`<presence to='hub@localhost' type='subscribed'/><presence to='hub@localhost' type='subscribe'/>`)
		awaitPresence(c, "hub@localhost", "subscribed")
		cs[i] = c
	}
	for _, n := range names {
		hub.send(`<presence to='` + n + `@localhost' type='subscribe'/>`)
	}
	approved := 0
	readUntil(t, hub, func(n xmlNode) bool {
		if n.XMLName.Local == "presence" && n.attr("type") == "subscribed" {
			approved++
		}
		return approved == contacts
	})

	// The crossing: half the contacts' initial presence before the hub's,
	// half after, none waiting for an answer.
	// The stanza is broadcast whole (4.2.2), its id with it.
	const initial = `<presence id='crossing'><status>on</status></presence>`
	for i, c := range cs {
		if i == contacts/2 {
			hub.send(initial)
		}
		c.send(initial)
	}
	// Barrier. The hub's reflection (4.2.2) comes after its broadcast was
	// handed to every contact's queue. A contact's probe of the hub was
	// queued on the hub's account before the contact's ping of the hub's
	// bare JID (answered there, after it: delivery_test.go pingJID), and a probe
	// answer was queued on the contact's account before the contact's own
	// ping of the server returns. The same the other way for the hub.
	hubSeen := readUntil(t, hub, func(n xmlNode) bool {
		return n.XMLName.Local == "presence" && n.attr("from") == "hub@localhost/desk"
	})
	for i, c := range cs {
		c.send(`<iq type='get' id='p' to='hub@localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
		seen := readUntil(t, c, func(n xmlNode) bool { return n.XMLName.Local == "iq" && n.attr("id") == "p" })
		c.send(`<iq type='get' to='localhost' id='b'><ping xmlns='urn:xmpp:ping'/></iq>`)
		seen = append(seen, readUntil(t, c, func(n xmlNode) bool { return n.XMLName.Local == "iq" && n.attr("id") == "b" })...)
		if got := countFrom(seen, "hub@localhost/desk"); got != 1 {
			t.Errorf("%s was given the hub's initial presence %d times, want 1 (RFC 6121 4.2.2, 4.3.2)", names[i], got)
		}
	}
	for _, n := range names {
		hub.send(`<iq type='get' id='p-` + n + `' to='` + n + `@localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	}
	hub.send(`<iq type='get' to='localhost' id='b'><ping xmlns='urn:xmpp:ping'/></iq>`)
	hubSeen = append(hubSeen, readUntil(t, hub, func(n xmlNode) bool { return n.XMLName.Local == "iq" && n.attr("id") == "b" })...)
	twice := 0
	for _, n := range names {
		if got := countFrom(hubSeen, n+"@localhost/phone"); got != 1 {
			t.Errorf("the hub was given %s's initial presence %d times, want 1", n, got)
			twice++
		}
	}
	if twice > 0 {
		t.Errorf("%d of %d contacts' presence reached the hub other than once", twice, contacts)
	}
}

// awaitPresence reads until presence of type typ from from.
func awaitPresence(c *rawXMPP, from, typ string) {
	c.t.Helper()
	readUntil(c.t, c, func(n xmlNode) bool {
		return n.XMLName.Local == "presence" && n.attr("from") == from && n.attr("type") == typ
	})
}

// readUntil returns every element read before the first that stop
// accepts (included).
func readUntil(t *testing.T, c *rawXMPP, stop func(xmlNode) bool) []xmlNode {
	t.Helper()
	var out []xmlNode
	for {
		n := c.next()
		out = append(out, n)
		if stop(n) {
			return out
		}
	}
}

// countFrom counts the available presence stanzas from from with the
// crossing test's id.
func countFrom(ns []xmlNode, from string) int {
	k := 0
	for _, n := range ns {
		if n.XMLName.Local == "presence" && n.attr("from") == from && n.attr("type") == "" && n.attr("id") == "crossing" {
			k++
		}
	}
	return k
}

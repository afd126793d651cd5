package im_test

import (
	"slices"
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

// blockPush matches an XEP-0191 push (3.3, 3.4) of name ("block" or
// "unblock") naming item ("" for unblock all, 3.5).
func blockPush(name, item string) match {
	return match{"blocking push " + name + " " + item, func(el *stanza.Element) bool {
		if el.Name.Local != "iq" || el.Attr("type") != "set" {
			return false
		}
		q := el.Child(name, stanza.NSBlocking)
		if q == nil {
			return false
		}
		its := q.Elements()
		if item == "" {
			return len(its) == 0
		}
		return len(its) == 1 && its[0].Attr("jid") == item
	}}
}

func blocklist(t *testing.T, c *client, id string) []string {
	t.Helper()
	res := c.iq(id, `<iq type='get' id='%s'><blocklist xmlns='urn:xmpp:blocking'/></iq>`, id)
	q := res.Child("blocklist", stanza.NSBlocking)
	if res.Attr("type") != "result" || q == nil {
		t.Fatalf("blocklist get: %s", res)
	}
	var out []string
	for _, it := range q.Elements() {
		out = append(out, it.Attr("jid"))
	}
	return out
}

// XEP-0191 3.2 to 3.5 end to end: the block list, the push to a resource
// that requested it, inbound stanzas from the blocked JID not delivered
// (messages and IQs answered service-unavailable, presence dropped),
// outbound stanzas refused with not-acceptable + <blocked/>, unavailable
// presence to the blocked contact, unblock restoring delivery, and the
// list surviving a restart.
func TestBlockingCommand(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.addUser("carol")
	e.start()
	a, a2 := e.login("alice", "phone"), e.login("alice", "desk")
	b, c := e.login("bob", "laptop"), e.login("carol", "pc")
	a.online(1)
	b.online(1)
	c.online(1)
	subscribeBoth(a, b)

	if got := blocklist(t, a, "g1"); len(got) != 0 {
		t.Fatalf("3.2: empty list expected, got %v", got)
	}
	blocklist(t, a2, "g2") // a2 requested the list: it gets pushes

	// 3.3: a block with no item is bad-request; a bad JID jid-malformed.
	if res := a.iq("b0", `<iq type='set' id='b0'><block xmlns='urn:xmpp:blocking'/></iq>`); stanzaErr(res) != "bad-request" {
		t.Fatalf("empty block: %s", res)
	}
	if res := a.iq("b1", `<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='@@bad@@/'/></block></iq>`); stanzaErr(res) != "jid-malformed" {
		t.Fatalf("malformed jid: %s", res)
	}

	if res := a.iq("b2", `<iq type='set' id='b2'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block></iq>`); res.Attr("type") != "result" {
		t.Fatalf("block: %s", res)
	}
	a.expect(blockPush("block", "bob@localhost"))
	a2.expect(blockPush("block", "bob@localhost"))
	// 3.3: bob (subscribed "both") gets unavailable presence from alice.
	b.expect(presence(a.jid, "unavailable"))

	// Inbound: bob's message bounces, his IQ gets service-unavailable,
	// and nothing reaches alice; carol's message, after them, does.
	b.send(`<message to='alice@localhost' type='chat' id='m1'><body>blocked?</body></message>`)
	bounced := b.expect(match{"bounce of m1", func(el *stanza.Element) bool { return el.Attr("id") == "m1" }})
	if stanzaErr(bounced) != "service-unavailable" {
		t.Errorf("message from blocked JID: want service-unavailable, got %s", bounced)
	}
	if res := b.iq("q1", `<iq type='get' id='q1' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, a.jid); stanzaErr(res) != "service-unavailable" {
		t.Errorf("iq from blocked JID: %s", res)
	}
	b.send(`<presence to='%s'/>`, a.jid)
	a.never(match{"anything from bob", func(el *stanza.Element) bool { return bare(el.Attr("from")) == "bob@localhost" }}, a.messageFrom(c))

	// 3.3, Example 9: alice's stanzas to bob are refused.
	a.send(`<message to='bob@localhost/laptop' type='chat' id='m2'><body>hi</body></message>`)
	ref := a.expect(match{"refusal of m2", func(el *stanza.Element) bool { return el.Attr("id") == "m2" }})
	if stanzaErr(ref) != "not-acceptable" || ref.Child("error", "").Child("blocked", stanza.NSBlockingErrors) == nil {
		t.Errorf("outbound to blocked JID: want not-acceptable + blocked, got %s", ref)
	}
	if res := a.iq("q2", `<iq type='get' id='q2' to='bob@localhost/laptop'><ping xmlns='urn:xmpp:ping'/></iq>`); stanzaErr(res) != "not-acceptable" {
		t.Errorf("outbound iq to blocked JID: %s", res)
	}
	b.never(match{"message from alice", func(el *stanza.Element) bool { return el.Attr("id") == "m2" }}, b.messageFrom(c))
	// Nor does alice's presence broadcast reach bob while he is blocked.
	a.send(`<presence><show>away</show></presence>`)
	a.expect(match{"alice's away", func(el *stanza.Element) bool {
		return el.Name.Local == "presence" && el.Attr("from") == a.jid && el.Child("show", "") != nil
	}})
	b.never(anyPresenceFrom("alice@localhost"), b.messageFrom(c))

	// Restart: the list is rebuilt from the log.
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.start()
	a, a2 = e.login("alice", "phone"), e.login("alice", "desk")
	b, c = e.login("bob", "laptop"), e.login("carol", "pc")
	a.online(1)
	b.online(1)
	if got := blocklist(t, a, "g3"); !slices.Equal(got, []string{"bob@localhost"}) {
		t.Fatalf("after restart: %v", got)
	}
	blocklist(t, a2, "g4")
	b.send(`<message to='%s' type='chat' id='m3'><body>still?</body></message>`, a.jid)
	b.expect(match{"bounce of m3", func(el *stanza.Element) bool { return el.Attr("id") == "m3" && el.Attr("type") == "error" }})

	// 3.4: unblock; alice's presence goes to bob again and his
	// messages arrive.
	if res := a.iq("u1", `<iq type='set' id='u1'><unblock xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></unblock></iq>`); res.Attr("type") != "result" {
		t.Fatalf("unblock: %s", res)
	}
	a2.expect(blockPush("unblock", "bob@localhost"))
	b.expect(presence(a.jid, ""))
	b.send(`<message to='%s' type='chat'><body>back</body></message>`, a.jid)
	a.expect(message(b.jid, "back"))

	// 3.5: unblock all.
	a.iq("b3", `<iq type='set' id='b3'><block xmlns='urn:xmpp:blocking'><item jid='carol@localhost'/><item jid='localhost/x'/></block></iq>`)
	if got := blocklist(t, a, "g5"); !slices.Equal(got, []string{"carol@localhost", "localhost/x"}) {
		t.Fatalf("two blocked: %v", got)
	}
	if res := a.iq("u2", `<iq type='set' id='u2'><unblock xmlns='urn:xmpp:blocking'/></iq>`); res.Attr("type") != "result" {
		t.Fatalf("unblock all: %s", res)
	}
	a2.expect(blockPush("unblock", ""))
	if got := blocklist(t, a, "g6"); len(got) != 0 {
		t.Fatalf("after unblock all: %v", got)
	}

	// Every change is an event in alice's stream, with the session as actor.
	envs, ps := e.readStream(events.AccountStream("alice@localhost"))
	var kinds []string
	for i, p := range ps {
		switch p.(type) {
		case events.BlockingBlocked, events.BlockingUnblocked:
			kinds = append(kinds, p.EventType())
			if envs[i].Actor == "" || envs[i].SessionID == "" {
				t.Errorf("%s without its session: %+v", p.EventType(), envs[i])
			}
		}
	}
	want := []string{events.TypeBlockingBlocked, events.TypeBlockingUnblocked, events.TypeBlockingBlocked, events.TypeBlockingUnblocked}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
}

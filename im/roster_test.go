package im_test

import (
	"slices"
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

// RFC 6121 2.1.3 and 2.1.4: a roster get on an empty roster returns an
// empty <query/> with the roster version (2.6.3: 'ver' on every result).
func TestRosterGetEmpty(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	res := a.iq("g1", `<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("roster get: %s", res)
	}
	q := res.Child("query", "jabber:iq:roster")
	if q == nil || len(q.Elements()) != 0 || q.Attr("ver") == "" {
		t.Fatalf("want an empty roster with a version, got %s", res)
	}
}

// RFC 6121 2.3.2 and 2.1.6: a roster set is pushed to every interested
// resource (those that requested the roster, the requester included) and
// the item is in the next roster get; a resource that never requested the
// roster gets no push (2.2).
func TestRosterSetPushedToInterestedResources(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	phone, laptop, bot := e.login("alice", "phone"), e.login("alice", "laptop"), e.login("alice", "bot")
	phone.iq("g1", `<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>`)
	laptop.iq("g2", `<iq type='get' id='g2'><query xmlns='jabber:iq:roster'/></iq>`)

	res := phone.iq("s1", `<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' name='Nurse'><group>Servants</group></item></query></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("roster set: %s", res)
	}
	for _, c := range []*client{phone, laptop} {
		p := c.expect(push("nurse@example.com", "none"))
		it := p.Child("query", "").Child("item", "")
		if it.Attr("name") != "Nurse" || it.Child("group", "").Text() != "Servants" || p.Child("query", "").Attr("ver") == "" {
			t.Errorf("%s: push %s", c.jid, p)
		}
	}
	bot.never(anyPush(), bot.pingSelf())

	items := rosterItems(t, laptop.iq("g3", `<iq type='get' id='g3'><query xmlns='jabber:iq:roster'/></iq>`))
	if it := items["nurse@example.com"]; it == nil || it.Attr("name") != "Nurse" || it.Attr("subscription") != "none" {
		t.Fatalf("roster after set: %v", items)
	}
}

// RFC 6121 2.1.5 and 2.3.3: a roster set with more than one item is a
// bad-request; one with duplicate groups too; one addressed to another
// account's bare JID is forbidden (2.1.5 security warning); a remove of an
// item not in the roster is item-not-found (2.5.3).
func TestRosterSetErrors(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	tests := []struct {
		name, iq, want string
	}{
		{"two items", `<iq type='set' id='%s'><query xmlns='jabber:iq:roster'><item jid='a@example.com'/><item jid='b@example.com'/></query></iq>`, "bad-request"},
		{"duplicate group", `<iq type='set' id='%s'><query xmlns='jabber:iq:roster'><item jid='a@example.com'><group>X</group><group>X</group></item></query></iq>`, "bad-request"},
		{"empty group", `<iq type='set' id='%s'><query xmlns='jabber:iq:roster'><item jid='a@example.com'><group></group></item></query></iq>`, "not-acceptable"},
		{"other account", `<iq type='set' id='%s' to='bob@localhost'><query xmlns='jabber:iq:roster'><item jid='a@example.com'/></query></iq>`, "forbidden"},
		{"other account get", `<iq type='get' id='%s' to='bob@localhost'><query xmlns='jabber:iq:roster'/></iq>`, "forbidden"},
		{"remove missing", `<iq type='set' id='%s'><query xmlns='jabber:iq:roster'><item jid='zed@example.com' subscription='remove'/></query></iq>`, "item-not-found"},
		{"own jid", `<iq type='set' id='%s'><query xmlns='jabber:iq:roster'><item jid='alice@localhost'/></query></iq>`, "not-allowed"},
	}
	for i, tc := range tests {
		id := "e" + string(rune('a'+i))
		res := a.iq(id, tc.iq, id)
		if got := stanzaErr(res); got != tc.want {
			t.Errorf("%s: error %q, want %q: %s", tc.name, got, tc.want, res)
		}
	}
	if _, ps := e.readStream(events.AccountStream("bob@localhost")); len(ofType[events.RosterItemSet](ps)) != 0 {
		t.Error("a forbidden roster set changed bob's roster")
	}
}

// RFC 6121 2.6.3: a roster get with the current 'ver' is answered with an
// empty result; with an older one, with the interim pushes.
func TestRosterVersioning(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	res := a.iq("g1", `<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>`)
	ver0 := res.Child("query", "").Attr("ver")
	a.iq("s1", `<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='a@example.com'/></query></iq>`)
	a.iq("s2", `<iq type='set' id='s2'><query xmlns='jabber:iq:roster'><item jid='b@example.com'/></query></iq>`)
	a.iq("s3", `<iq type='set' id='s3'><query xmlns='jabber:iq:roster'><item jid='c@example.com'/></query></iq>`)
	p := a.expect(push("c@example.com", "none"))
	ver := p.Child("query", "").Attr("ver")
	a.expect(push("a@example.com", "none"))
	a.expect(push("b@example.com", "none"))

	res = a.iq("g2", `<iq type='get' id='g2'><query xmlns='jabber:iq:roster' ver='%s'/></iq>`, ver)
	if res.Attr("type") != "result" || res.Child("query", "") != nil {
		t.Fatalf("current ver: want empty result, got %s", res)
	}
	// Two interim pushes is fewer than the three items.
	b := e.login("alice", "tablet")
	res = b.iq("g3", `<iq type='get' id='g3'><query xmlns='jabber:iq:roster' ver='%s'/></iq>`, bumpVer(ver0, 1))
	if res.Attr("type") != "result" || res.Child("query", "") != nil {
		t.Fatalf("old ver: want empty result, got %s", res)
	}
	b.expect(push("b@example.com", "none"))
	b.expect(push("c@example.com", "none"))
	b.never(push("a@example.com", "none"), b.pingSelf())
}

func bumpVer(v string, n int) string {
	x := 0
	for _, c := range v {
		x = x*10 + int(c-'0')
	}
	x += n
	out := ""
	for {
		out = string(rune('0'+x%10)) + out
		x /= 10
		if x == 0 {
			return out
		}
	}
}

// RFC 6121 2.5.2: removing an item whose subscription is "both" sends the
// contact "unsubscribe" and "unsubscribed" (and, 3.2.2, unavailable
// presence first); both rosters are pushed, and each side records its
// Appendix A transitions in its own stream.
func TestRosterRemoveImpliesUnsubscribe(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")
	a.online(0)
	b.online(0)
	subscribeBoth(a, b)

	a.iq("rm", `<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>`)
	a.expect(push("bob@localhost", "remove"))
	b.expect(presence(a.jid, "unavailable"))
	b.expect(presence("alice@localhost", "unsubscribe"))
	b.expect(presence("alice@localhost", "unsubscribed"))
	b.expect(push("alice@localhost", "none"))

	_, ps := e.readStream(events.AccountStream("bob@localhost"))
	var causes []events.SubscriptionInput
	for _, c := range ofType[events.SubscriptionChanged](ps) {
		causes = append(causes, c.Cause)
	}
	want := []events.SubscriptionInput{events.InSubscribe, events.OutSubscribed, events.OutSubscribe, events.InSubscribed, events.InUnsubscribe, events.InUnsubscribed}
	if len(causes) != len(want) {
		t.Fatalf("bob's transitions %v, want %v", causes, want)
	}
	for i := range want {
		if causes[i] != want[i] {
			t.Fatalf("bob's transitions %v, want %v", causes, want)
		}
	}
}

// RFC 6121 2.3.2: the IQ result goes to the requesting resource before
// the roster push (the order of the section's example, and of Prosody and
// ejabberd).
func TestRosterSetResultBeforePush(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	a.online(0)
	a.send(`<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com'/></query></iq>`)
	a.expect(push("nurse@example.com", "none"))
	a.expect(match{"result s1", func(el *stanza.Element) bool { return el.Attr("id") == "s1" }})
	got := a.arrivalOrder()
	if i, j := slices.Index(got, "iq result s1"), slices.Index(got, "iq set"); i < 0 || j < i {
		t.Fatalf("arrival order %v, want the result first", got)
	}
}

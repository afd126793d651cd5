package im_test

import (
	"slices"
	"testing"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/im"
	"xmppd/stanza"
)

// XEP-0441 archiving preferences and the domain's archive policy, over
// TLS with raw XML.

// prefsOf reads a <prefs/> answer: default, always and never lists.
func prefsOf(t *testing.T, ans *stanza.Element) (def string, always, never []string) {
	t.Helper()
	p := ans.Child("prefs", nsMAM)
	if ans.Attr("type") != "result" || p == nil {
		t.Fatalf("not a prefs result: %s", ans)
	}
	list := func(name string) []string {
		l := p.Child(name, nsMAM)
		if l == nil {
			t.Fatalf("prefs without <%s/> (XEP-0441 2.1: MUST be present): %s", name, ans)
		}
		out := []string{}
		for _, j := range l.Elements() {
			out = append(out, j.Text())
		}
		return out
	}
	return p.Attr("default"), list("always"), list("never")
}

// archivedBodies is the bodies of c's whole archive.
func archivedBodies(c *client, id string) []string {
	rs, _ := mamQuery(c, id, nil, "")
	return bodies(rs)
}

// XEP-0441 2.1: get answers the defaults, set answers the applied
// preferences and a get returns them, also after a restart (they are an
// event in the archive stream). 2.1.3 and 2.3: a never-listed JID's
// messages, in and out, are not in alice's archive, but are delivered
// and in the other party's archive (the nothing-lost rule).
func TestXEP0441PrefsRoundTripAndNeverList(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		e.addUser(u)
	}
	e.start()
	a, b, c := e.login("alice", "phone"), e.login("bob", "laptop"), e.login("carol", "pc")

	if def, alw, nev := prefsOf(t, a.iq("g1", `<iq type='get' id='g1'><prefs xmlns='urn:xmpp:mam:2'/></iq>`)); def != "always" || len(alw)+len(nev) != 0 {
		t.Fatalf("defaults: %s %v %v, want always and empty lists", def, alw, nev)
	}
	set := `<iq type='set' id='s1'><prefs xmlns='urn:xmpp:mam:2' default='always'><always><jid>bob@localhost</jid></always><never><jid>Carol@localhost</jid></never></prefs></iq>`
	for _, ans := range []*stanza.Element{a.iq("s1", "%s", set), a.iq("g2", `<iq type='get' id='g2'><prefs xmlns='urn:xmpp:mam:2'/></iq>`)} {
		if def, alw, nev := prefsOf(t, ans); def != "always" || !slices.Equal(alw, []string{"bob@localhost"}) || !slices.Equal(nev, []string{"carol@localhost"}) {
			t.Fatalf("prefs: %s %v %v", def, alw, nev)
		}
	}

	c.send(`<message to='%s' type='chat' id='c1'><body>from carol</body></message>`, a.jid)
	if got := a.expect(message(c.jid, "from carol")); len(stanzaIDs(got)) != 0 {
		t.Errorf("a message alice's archive did not keep carries a stanza-id: %s", got)
	}
	a.send(`<message to='%s' type='chat' id='a1'><body>to carol</body></message>`, c.jid)
	if got := c.expect(message(a.jid, "to carol")); len(stanzaIDs(got)) != 1 {
		t.Errorf("carol's archive keeps the message, her copy should carry its stanza-id: %s", got)
	}
	b.send(`<message to='%s' type='chat' id='b1'><body>from bob</body></message>`, a.jid)
	a.expect(message(b.jid, "from bob"))

	if got := archivedBodies(a, "qa"); !slices.Equal(got, []string{"from bob"}) {
		t.Errorf("alice's archive: %v, want only bob's message", got)
	}
	if got := archivedBodies(c, "qc"); !slices.Equal(got, []string{"from carol", "to carol"}) {
		t.Errorf("carol's archive: %v, want both (her preferences are the default)", got)
	}
	_, ps := e.readStream(events.ArchiveStream("alice@localhost"))
	if n := slices.IndexFunc(ps, func(p events.Payload) bool { _, ok := p.(events.ArchivePrefsSet); return ok }); n < 0 {
		t.Error("no archive.prefs_set in alice's archive stream")
	}

	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.start()
	a = e.login("alice", "phone")
	if def, _, nev := prefsOf(t, a.iq("g3", `<iq type='get' id='g3'><prefs xmlns='urn:xmpp:mam:2'/></iq>`)); def != "always" || !slices.Equal(nev, []string{"carol@localhost"}) {
		t.Errorf("after restart: %s never %v", def, nev)
	}

	for _, bad := range []struct{ xml, cond string }{
		{`<prefs xmlns='urn:xmpp:mam:2' default='sometimes'/>`, "bad-request"},
		{`<prefs xmlns='urn:xmpp:mam:2'/>`, "bad-request"},
		{`<prefs xmlns='urn:xmpp:mam:2' default='never'><never><jid>@@</jid></never></prefs>`, "jid-malformed"},
	} {
		if got := errCond(a.iq("bad", `<iq type='set' id='bad'>%s</iq>`, bad.xml)); got != bad.cond {
			t.Errorf("%s: %s, want %s", bad.xml, got, bad.cond)
		}
	}
}

// XEP-0441 2.1.1 'roster': messages with someone not in alice's roster
// are delivered and not archived; once bob is in her roster they are.
func TestXEP0441RosterDefault(t *testing.T) {
	_, a, b := twoUsers(t)
	if def, _, _ := prefsOf(t, a.iq("s1", `<iq type='set' id='s1'><prefs xmlns='urn:xmpp:mam:2' default='roster'/></iq>`)); def != "roster" {
		t.Fatalf("default %s", def)
	}
	b.send(`<message to='%s' type='chat' id='b1'><body>stranger</body></message>`, a.jid)
	a.expect(message(b.jid, "stranger"))
	a.online(0)
	b.online(0)
	subscribeBoth(a, b)
	b.send(`<message to='%s' type='chat' id='b2'><body>contact</body></message>`, a.jid)
	a.expect(message(b.jid, "contact"))
	if got := archivedBodies(a, "qa"); !slices.Equal(got, []string{"contact"}) {
		t.Errorf("alice's archive: %v, want only the message sent once bob was in her roster", got)
	}
	if got := archivedBodies(b, "qb"); !slices.Equal(got, []string{"stranger", "contact"}) {
		t.Errorf("bob's archive: %v", got)
	}
}

// Domain policy "always" (archive.policy): preferences recorded earlier
// (default never) are ignored, a get answers the forced 'always' with
// empty lists, a set is refused with not-allowed (XEP-0441 2.1), and
// every message is archived.
func TestXEP0441DomainPolicyAlwaysForcesArchiving(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.appendEvents(events.ArchiveStream("alice@localhost"), events.Any, events.Meta{Actor: "alice@localhost/old"},
		events.ArchivePrefsSet{Default: "never", Never: []string{"bob@localhost"}})
	e.tuneIM = func(c *im.Config) { c.ArchivePolicy = domain.ArchivePolicyAlways }
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "laptop")

	if def, alw, nev := prefsOf(t, a.iq("g1", `<iq type='get' id='g1'><prefs xmlns='urn:xmpp:mam:2'/></iq>`)); def != "always" || len(alw)+len(nev) != 0 {
		t.Errorf("forced prefs: %s %v %v, want always and empty lists", def, alw, nev)
	}
	if got := errCond(a.iq("s1", `<iq type='set' id='s1'><prefs xmlns='urn:xmpp:mam:2' default='never'/></iq>`)); got != "not-allowed" {
		t.Errorf("set under policy always: %s, want not-allowed", got)
	}
	b.send(`<message to='%s' type='chat' id='b1'><body>kept by policy</body></message>`, a.jid)
	a.expect(message(b.jid, "kept by policy"))
	if got := archivedBodies(a, "qa"); !slices.Equal(got, []string{"kept by policy"}) {
		t.Errorf("alice's archive: %v", got)
	}
}

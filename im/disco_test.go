package im_test

import (
	"testing"
	"xmppd/domain"
	"xmppd/stanza"
)

// XEP-0160 section 5: a server that stores messages for offline users
// advertises "msgoffline" in disco#info (as Prosody does); XEP-0030
// section 4: disco#items to the domain is an empty list, not an error.
func TestServerDiscoAdvertisesOfflineStorage(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	res := a.iq("d1", `<iq type='get' id='d1' to='localhost'><query xmlns='%s'/></iq>`, stanza.NSDiscoInfo)
	features := map[string]bool{}
	if q := res.Child("query", stanza.NSDiscoInfo); q != nil {
		for _, f := range q.Elements() {
			if f.Name.Local == "feature" {
				features[f.Attr("var")] = true
			}
		}
	}
	for _, want := range []string{"msgoffline", stanza.NSDiscoInfo, stanza.NSDiscoItems} {
		if !features[want] {
			t.Errorf("server disco#info lacks %q: %s", want, res)
		}
	}
	res = a.iq("d2", `<iq type='get' id='d2' to='localhost'><query xmlns='%s'/></iq>`, stanza.NSDiscoItems)
	if q := res.Child("query", stanza.NSDiscoItems); res.Attr("type") != "result" || res.Attr("from") != "localhost" || q == nil || len(q.Elements()) != 0 {
		t.Fatalf("server disco#items: %s", res)
	}
}

// XEP-0030 section 4 and XEP-0199 section 4.2: disco#items and a ping to
// an account's bare JID are answered by the server on the account's
// behalf (RFC 6121 8.5.2.1.3), as Prosody and ejabberd do, for the
// account itself and for contacts it shares presence with; a stranger
// gets service-unavailable, as for an account that does not exist
// (RFC 6121 8.5.1, section 11).
func TestAccountDiscoItemsAndPing(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.addUser("carol")
	e.start()
	a, b, c := e.login("alice", "phone"), e.login("bob", "pc"), e.login("carol", "pc")
	a.online(0)
	b.online(0)
	c.online(0)
	subscribeBoth(a, b)

	res := a.iq("i1", `<iq type='get' id='i1' to='alice@localhost'><query xmlns='%s'/></iq>`, stanza.NSDiscoItems)
	if q := res.Child("query", stanza.NSDiscoItems); res.Attr("type") != "result" || q == nil || len(q.Elements()) != 0 {
		t.Fatalf("own disco#items: %s", res)
	}
	for _, x := range []*client{a, b} {
		res = x.iq("p1", `<iq type='get' id='p1' to='alice@localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
		if res.Attr("type") != "result" || res.Attr("from") != "alice@localhost" || len(res.Elements()) != 0 {
			t.Errorf("%s pings alice: %s", x.jid, res)
		}
	}
	for id, q := range map[string]string{"p2": `<ping xmlns='urn:xmpp:ping'/>`, "i2": `<query xmlns='` + stanza.NSDiscoItems + `'/>`} {
		if res := c.iq(id, `<iq type='get' id='%s' to='alice@localhost'>%s</iq>`, id, q); stanzaErr(res) != "service-unavailable" {
			t.Errorf("stranger %s: %s", id, res)
		}
	}
}

// XEP-0115 section 6.3: the server's stream features after
// authentication carry its capabilities, whose 'ver' is the hash (section
// 5.1) of what disco#info says, and a disco#info query for node#ver
// answers the same, with the node (section 6.2). XEP-0198's <sm/> is
// offered there too.
func TestServerCapsInStreamFeatures_XEP0115_6_3(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	c := a.features.Child("c", stanza.NSCaps)
	if c == nil || c.Attr("hash") != "sha-1" || c.Attr("node") == "" || c.Attr("ver") == "" {
		t.Fatalf("no caps in %s", a.features)
	}
	if a.features.Child("sm", stanza.NSSM) == nil {
		t.Errorf("no XEP-0198 <sm/> in %s", a.features)
	}
	plain := a.iq("d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`).Child("query", stanza.NSDiscoInfo)
	if ver, ok := domain.CapsVer(plain, "sha-1"); !ok || ver != c.Attr("ver") {
		t.Errorf("disco#info hashes to %q (ok %v), features say %q", ver, ok, c.Attr("ver"))
	}
	node := c.Attr("node") + "#" + c.Attr("ver")
	res := a.iq("d2", `<iq type='get' id='d2' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='%s'/></iq>`, node)
	q := res.Child("query", stanza.NSDiscoInfo)
	if res.Attr("type") != "result" || q == nil || q.Attr("node") != node || len(q.Elements()) != len(plain.Elements()) {
		t.Errorf("disco#info for %s: %s", node, res)
	}
}

// XEP-0050 section 2.2 through XEP-0030: asked for its ad-hoc commands,
// the server lists none (an empty result, not an error: Gajim shows an
// error window for one).
func TestServerCommandsListEmpty_XEP0050_2_2(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	res := a.iq("c1", `<iq type='get' id='c1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/></iq>`)
	q := res.Child("query", stanza.NSDiscoItems)
	if res.Attr("type") != "result" || q == nil || q.Attr("node") != "http://jabber.org/protocol/commands" || len(q.Elements()) != 0 {
		t.Fatalf("commands list: %s", res)
	}
}

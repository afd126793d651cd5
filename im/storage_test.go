package im_test

import (
	"strings"
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

// XEP-0054 sections 3.1 to 3.3 and XEP-0049 section 2, end to end: alice
// publishes a vCard bob reads; an account without one answers an empty
// <vCard/>; nobody but alice sets it; alice's private XML is hers only,
// reserved namespaces are refused; both are events in alice's stream and
// survive a restart (the views rebuilt from the log).
func TestVCardAndPrivateStorage(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "phone"), e.login("bob", "pc")

	if res := b.iq("g0", `<iq type='get' id='g0' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`); res.Attr("type") != "result" ||
		res.Child("vCard", "vcard-temp") == nil || len(res.Child("vCard", "vcard-temp").Elements()) != 0 {
		t.Fatalf("XEP-0054 3.3: no vCard yet should be an empty <vCard/>: %s", res)
	}
	if res := a.iq("s1", `<iq type='set' id='s1'><vCard xmlns='vcard-temp'><FN>Alice A.</FN><NICKNAME>al</NICKNAME></vCard></iq>`); res.Attr("type") != "result" {
		t.Fatalf("vCard set: %s", res)
	}
	if res := b.iq("s2", `<iq type='set' id='s2' to='alice@localhost'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>`); stanzaErr(res) != "forbidden" {
		t.Errorf("bob sets alice's vCard: %s", res)
	}
	if res := a.iq("s3", `<iq type='set' id='s3'><vCard xmlns='vcard-temp'><PHOTO><BINVAL>%s</BINVAL></PHOTO></vCard></iq>`, strings.Repeat("A", 70<<10)); stanzaErr(res) != "policy-violation" {
		t.Errorf("oversized vCard: %s", res)
	}
	vcardFN := func(c *client, id string) string {
		res := c.iq(id, `<iq type='get' id='%s' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`, id)
		v := res.Child("vCard", "vcard-temp")
		if res.Attr("type") != "result" || res.Attr("from") != "alice@localhost" || v == nil || v.Child("FN", "vcard-temp") == nil {
			t.Fatalf("vCard get: %s", res)
		}
		return v.Child("FN", "vcard-temp").Text()
	}
	if fn := vcardFN(b, "g1"); fn != "Alice A." {
		t.Errorf("bob reads FN %q", fn)
	}

	if res := a.iq("p1", `<iq type='set' id='p1'><query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'><color>blue</color></prefs></query></iq>`); res.Attr("type") != "result" {
		t.Fatalf("private set: %s", res)
	}
	if res := b.iq("p2", `<iq type='get' id='p2' to='alice@localhost'><query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'/></query></iq>`); stanzaErr(res) != "forbidden" {
		t.Errorf("bob reads alice's private XML: %s", res)
	}
	if res := b.iq("p3", `<iq type='get' id='p3'><query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'/></query></iq>`); res.Attr("type") != "result" ||
		res.Child("query", "jabber:iq:private").Child("prefs", "example:prefs") == nil ||
		len(res.Child("query", "jabber:iq:private").Child("prefs", "example:prefs").Elements()) != 0 {
		t.Errorf("bob's own private XML should be empty: %s", res)
	}
	if res := a.iq("p4", `<iq type='set' id='p4'><query xmlns='jabber:iq:private'><vCard xmlns='vcard-temp'/></query></iq>`); stanzaErr(res) != "not-acceptable" {
		t.Errorf("reserved namespace: %s", res)
	}
	if res := a.iq("p5", `<iq type='get' id='p5'><query xmlns='jabber:iq:private'/></iq>`); stanzaErr(res) != "bad-request" {
		t.Errorf("no child: %s", res)
	}
	privateColor := func(c *client, id string) string {
		res := c.iq(id, `<iq type='get' id='%s'><query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'/></query></iq>`, id)
		p := res.Child("query", "jabber:iq:private").Child("prefs", "example:prefs")
		if p == nil || p.Child("color", "example:prefs") == nil {
			t.Fatalf("private get: %s", res)
		}
		return p.Child("color", "example:prefs").Text()
	}
	if got := privateColor(a, "p6"); got != "blue" {
		t.Errorf("private color %q", got)
	}

	_, ps := e.readStream(events.AccountStream("alice@localhost"))
	var vcards, privates int
	for _, p := range ps {
		switch p.(type) {
		case events.VCardSet:
			vcards++
		case events.PrivateSet:
			privates++
		}
	}
	if vcards != 1 || privates != 1 {
		t.Errorf("alice's stream has %d vcard.set and %d private.set, want 1 and 1", vcards, privates)
	}

	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.start()
	a, b = e.login("alice", "phone"), e.login("bob", "pc")
	if fn := vcardFN(b, "g2"); fn != "Alice A." {
		t.Errorf("after restart bob reads FN %q", fn)
	}
	if got := privateColor(a, "p7"); got != "blue" {
		t.Errorf("after restart private color %q", got)
	}

	res := a.iq("d1", `<iq type='get' id='d1' to='localhost'><query xmlns='%s'/></iq>`, stanza.NSDiscoInfo)
	features := map[string]bool{}
	for _, f := range res.Child("query", stanza.NSDiscoInfo).Elements() {
		features[f.Attr("var")] = true
	}
	if !features[stanza.NSVCard] || !features[stanza.NSPrivate] {
		t.Errorf("disco#info lacks vcard-temp or jabber:iq:private: %s", res)
	}
}

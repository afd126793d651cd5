package im_test

import (
	"strings"
	"testing"

	"xmppd/events"
)

// Issue 13: personal content is sealed in the log, and once its key is
// destroyed the server answers as if it were absent, after a restart
// rebuilds the views: an empty vCard (XEP-0054 3.3), empty private XML
// (XEP-0049 2), no PEP item (XEP-0060 6.5). The account itself, whose
// record is not sealed, still exists and logs in.
func TestDestroyedKeysServeAbsentContent(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	for id, payload := range map[string]string{
		"v": `<vCard xmlns='vcard-temp'><FN>Alice-Sealed</FN></vCard>`,
		"p": `<query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'>sealed-prefs</prefs></query>`,
		"n": `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:notes'><item id='i1'><note xmlns='urn:example:notes'>sealed-note</note></item></publish></pubsub>`,
	} {
		if res := a.iq(id, `<iq type='set' id='%s'>%s</iq>`, id, payload); res.Attr("type") != "result" {
			t.Fatalf("%s: %s", id, res)
		}
	}
	// The log holds none of it in clear.
	for ev, err := range e.store.ReadStream(t.Context(), events.AccountStream("alice@localhost"), 1) {
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Alice-Sealed", "sealed-prefs", "sealed-note"} {
			if strings.Contains(string(ev.Data), s) {
				t.Errorf("%s holds %q in clear: %s", ev.Type, s, ev.Data)
			}
		}
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.keys.Destroy("alice@localhost", events.GoneExpired); err != nil {
		t.Fatal(err)
	}
	e.start()
	a = e.login("alice", "phone")
	if res := a.iq("g1", `<iq type='get' id='g1'><vCard xmlns='vcard-temp'/></iq>`); res.Attr("type") != "result" ||
		res.Child("vCard", "vcard-temp") == nil || len(res.Child("vCard", "vcard-temp").Elements()) != 0 {
		t.Errorf("vCard after its key is gone: %s, want an empty <vCard/>", res)
	}
	if res := a.iq("g2", `<iq type='get' id='g2'><query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'/></query></iq>`); res.Attr("type") != "result" ||
		strings.Contains(res.String(), "sealed-prefs") {
		t.Errorf("private XML after its key is gone: %s", res)
	}
	res := a.iq("g3", `<iq type='get' id='g3'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:example:notes'/></pubsub></iq>`)
	if res.Attr("type") != "result" || strings.Contains(res.String(), "sealed-note") || strings.Contains(res.String(), "<item ") {
		t.Errorf("PEP items after the key is gone: %s", res)
	}
}

package im

import (
	"testing"

	"mellium.im/xmpp/jid"

	"xmppd/stanza"
)

// The cost XEP-0398 section 4 adds to one presence: the hash child put
// into the stanza before it is stored, against storing it as it came.
// It is paid once per presence, not once per contact.
func BenchmarkUserPresenceXML(b *testing.B) {
	const raw = `<presence xmlns='jabber:client'><show>away</show><status>out</status><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='abcdefghijabcdefghijabcdefg='/></presence>`
	hash := func() string { return "4941c35306cf8a058903b76c90cc7f67aa8267bc" }
	for _, c := range []struct {
		name string
		keep bool
	}{{"as sent", true}, {"with hash", false}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				el, err := parseStanza(raw)
				if err != nil {
					b.Fatal(err)
				}
				_ = userPresenceXML(el, true, c.keep || clientKeepsPhoto(el), hash)
			}
		})
	}
}

// What the hash costs each contact's copy of a broadcast (stanzaCache:
// one parse, then a copy addressed and written per contact).
func BenchmarkBroadcastCopy(b *testing.B) {
	const raw = `<presence xmlns='jabber:client'><show>away</show><status>out</status><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='abcdefghijabcdefghijabcdefg='/></presence>`
	el, _ := parseStanza(raw)
	from, to := jid.MustParse("alice@localhost/phone"), jid.MustParse("bob@localhost")
	for _, c := range []struct{ name, raw string }{{"as sent", raw}, {"with hash", userPresenceXML(el, true, false, func() string { return "4941c35306cf8a058903b76c90cc7f67aa8267bc" })}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var cache stanzaCache
			var buf []byte
			for b.Loop() {
				buf = cache.presenceEl(c.raw, from, to, "", "").AppendXML(buf[:0], stanza.NSClient)
			}
		})
	}
}

func TestWithPhotoReplacesTheClientsX(t *testing.T) {
	el, err := parseStanza(`<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'/><status>s</status></presence>`)
	if err != nil {
		t.Fatal(err)
	}
	got := withPhoto(el, "ab").String()
	want := `<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'><photo>ab</photo></x><status>s</status></presence>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := withPhoto(stanza.New(stanza.NSClient, "presence"), "").String(); got != `<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'><photo/></x></presence>` {
		t.Errorf("no avatar: %s", got)
	}
}

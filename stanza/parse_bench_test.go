package stanza_test

import (
	"bytes"
	"encoding/xml"
	"testing"

	"xmppd/stanza"
)

// BenchmarkParseStanza parses a typical chat message (attributes,
// xml:lang, a child in another namespace): the per-stanza cost that the
// undeclared-prefix check adds to.
func BenchmarkParseStanza(b *testing.B) {
	in := []byte(`<message xmlns='jabber:client' to='bob@localhost/phone' id='a1b2c3' type='chat' xml:lang='en'><body>Hello, how are you today?</body><active xmlns='http://jabber.org/protocol/chatstates'/><request xmlns='urn:xmpp:receipts'/><origin-id xmlns='urn:xmpp:sid:0' id='a1b2c3'/></message>`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(in))
		tok, _ := d.Token()
		if _, err := stanza.Parse(d, tok.(xml.StartElement), stanza.Limits{MaxDepth: 32}); err != nil {
			b.Fatal(err)
		}
	}
}

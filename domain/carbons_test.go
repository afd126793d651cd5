package domain_test

import (
	"encoding/xml"
	"testing"

	"xmppd/domain"
	"xmppd/stanza"
)

// XEP-0280 section 6.1 (eligibility) and section 9 (<private/>, no-copy).
func TestCarbonEligibleXEP0280Section6(t *testing.T) {
	body := xml.Name{Space: stanza.NSClient, Local: "body"}
	private := xml.Name{Space: stanza.NSCarbons, Local: "private"}
	noCopy := xml.Name{Space: stanza.NSHints, Local: "no-copy"}
	state := xml.Name{Space: stanza.NSChatStates, Local: "active"}
	receipt := xml.Name{Space: "urn:xmpp:receipts", Local: "received"}
	invite := xml.Name{Space: "jabber:x:conference", Local: "x"}
	sent := xml.Name{Space: stanza.NSCarbons, Local: "sent"}
	other := xml.Name{Space: "urn:example", Local: "x"}
	for _, c := range []struct {
		name     string
		typ      string
		children []xml.Name
		want     bool
	}{
		{"chat with body", "chat", []xml.Name{body}, true},
		{"chat without body", "chat", []xml.Name{other}, true},
		{"normal with body", "normal", []xml.Name{body}, true},
		{"no type with body", "", []xml.Name{body}, true},
		{"normal receipt", "normal", []xml.Name{receipt}, true},
		{"normal chat state", "", []xml.Name{state}, true},
		{"normal direct invitation", "normal", []xml.Name{invite}, true},
		{"normal unknown payload", "normal", []xml.Name{other}, false},
		{"normal empty", "normal", nil, false},
		{"chat private", "chat", []xml.Name{body, private}, false},
		{"chat no-copy", "chat", []xml.Name{body, noCopy}, false},
		{"normal private", "normal", []xml.Name{private, body}, false},
		{"a carbon itself", "chat", []xml.Name{sent}, false},
		{"groupchat", "groupchat", []xml.Name{body}, false},
		{"headline", "headline", []xml.Name{body}, false},
		{"error", "error", []xml.Name{body}, false},
	} {
		if got := domain.CarbonEligible(c.children, c.typ); got != c.want {
			t.Errorf("%s: CarbonEligible = %v, want %v", c.name, got, c.want)
		}
	}
}

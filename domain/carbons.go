package domain

import (
	"encoding/xml"

	"xmppd/stanza"
)

// Namespaces of the IM payloads that make a bodiless message of type
// normal eligible for carbons (XEP-0280 6.1 #3, and the direct MUC
// invitations of the MUC rules).
const (
	nsReceipts = "urn:xmpp:receipts"       // XEP-0184
	nsMarkers  = "urn:xmpp:chat-markers:0" // XEP-0333
	nsConfInv  = "jabber:x:conference"     // XEP-0249
)

// CarbonEligible says whether a message of type typ whose child elements
// are named children is copied to the account's other carbons-enabled
// resources (XEP-0280 section 6.1). Not copied:
//
//   - a message with <private xmlns='urn:xmpp:carbons:2'/> or the
//     XEP-0334 <no-copy/> hint (XEP-0280 section 9; the sender is asked to
//     add both, either is honoured);
//   - a message that is itself a carbon (<sent/> or <received/>), which
//     no client may forge for another (section 11) and which is never
//     wrapped twice;
//   - groupchat (6.1: "SHOULD NOT be carbon-copied") and headline (not
//     one-to-one messaging, section 6);
//   - error: 6.1 copies only errors answering an eligible message, which
//     xmppd cannot tell without remembering what was sent; it copies none.
//
// Copied: chat; normal (or no type, RFC 6120 8.2.3 #3) with a <body/>, a
// receipt, a chat state, a marker or a direct MUC invitation.
func CarbonEligible(children []xml.Name, typ string) bool {
	payload := false
	for _, c := range children {
		switch {
		case c.Space == stanza.NSCarbons:
			return false // <private/>, or a carbon itself
		case c.Space == stanza.NSHints && c.Local == "no-copy":
			return false
		case c.Local == "body" && isStanzaNS(c.Space),
			c.Space == nsReceipts, c.Space == stanza.NSChatStates,
			c.Space == nsMarkers, c.Space == nsConfInv:
			payload = true
		}
	}
	switch typ {
	case "chat":
		return true
	case "normal", "":
		return payload
	}
	return false
}

package domain

import (
	"encoding/xml"
	"xmppd/stanza"
)

// MessageContent is what a message carries that decides whether it is
// worth offline storage (XEP-0160 section 3, XEP-0334 section 4). The zero
// value is an ordinary message, stored as RFC 6121 8.5.2.2.1 (a) says.
type MessageContent int

const (
	// StoreWorthy: the message is stored offline when no resource can
	// take it. Everything that is neither of the two below is: XEP-0160
	// section 3 says messages of type normal and chat "SHOULD be stored
	// offline" and names only chat states as the exception, so a message
	// without a <body/> but with some other payload (a XEP-0249
	// invitation, an encrypted payload, a receipt, a file offer) is kept:
	// xmppd cannot tell that a payload it does not know is worthless, and
	// dropping it would lose what the sender meant to say.
	StoreWorthy MessageContent = iota
	// ChatStateOnly: a standalone chat state notification (XEP-0085
	// section 5.6 #3): a chat state and nothing a person reads. XEP-0160
	// section 3 ("messages that contain only Chat State Notifications ...
	// SHOULD NOT be stored offline") and XEP-0085 section 5.8 ("SHOULD NOT
	// store them offline"). It is dropped without an error: a chat state
	// is about a conversation happening now, and every client that closes
	// a chat (Profanity's /quit sends <gone/> to each contact) would be
	// answered with errors for nothing.
	ChatStateOnly
	// NoStore: the sender asked that the message not be stored
	// (XEP-0334 4.2 <no-store/>, or 4.1 <no-permanent-store/>, see
	// ClassifyMessage). It is not stored, and the sender is told with
	// service-unavailable, RFC 6121 8.5.2.2.1 (b): the one answer left
	// when (a), storage, is ruled out, so the sender learns the message
	// was not delivered instead of believing it was.
	NoStore
)

var messageContentNames = [...]string{"store-worthy", "chat state only", "no-store hint"}

func (c MessageContent) String() string {
	if c < 0 || int(c) >= len(messageContentNames) {
		return "message content?"
	}
	return messageContentNames[c]
}

// ClassifyMessage says what a message whose child elements are named
// children carries, for offline storage. The rules, first match wins:
//
//  1. <no-store/> or <no-permanent-store/> (XEP-0334 4.2, 4.1): NoStore,
//     whatever else the message holds, except that a standalone chat
//     state (rule 3) with either hint stays ChatStateOnly, dropped
//     silently like any other chat state. <no-permanent-store/> alone
//     would allow storage for later delivery (XEP-0334 3.3), but xmppd's
//     offline queue is a stream of the append-only log (offline.queued
//     holds the stanza whole, in clear, and is kept after delivery):
//     that is the permanent storage 4.1 asks the server not to use.
//  2. <store/> (XEP-0334 4.4: "SHOULD be stored"): StoreWorthy, even
//     without a body, and even a standalone chat state (the sender says
//     it is worth keeping; XEP-0334 section 2: "store a message that
//     would not have been stored under normal conditions").
//  3. A standalone chat state: one XEP-0085 element with nothing beside
//     it but <thread/> (XEP-0085 5.7 requires it with threads), message
//     hints, XEP-0359 ids and XEP-0280's <private/> (addressing and
//     processing metadata, nothing to read): ChatStateOnly. A chat state
//     beside a <body/>, a <subject/> or any other payload is part of a
//     message that is kept.
//  4. Anything else: StoreWorthy.
//
// Hints in a message of type error are to be ignored (XEP-0334 section
// 5); Route never stores those anyway.
func ClassifyMessage(children []xml.Name) MessageContent {
	chatState, other, noStore, store := false, false, false, false
	for _, c := range children {
		switch {
		case c.Space == stanza.NSHints:
			switch c.Local {
			case "no-store", "no-permanent-store":
				noStore = true
			case "store":
				store = true
			}
		case c.Space == stanza.NSChatStates:
			chatState = true
		case c.Local == "thread" && isStanzaNS(c.Space),
			c.Space == stanza.NSStanzaID,
			c.Space == stanza.NSCarbons && c.Local == "private":
		default:
			other = true
		}
	}
	standalone := chatState && !other
	switch {
	case noStore && standalone:
		return ChatStateOnly // dropped silently, as any chat state
	case noStore:
		return NoStore
	case store:
		return StoreWorthy
	case standalone:
		return ChatStateOnly
	}
	return StoreWorthy
}

// isStanzaNS: the content namespace of a stanza's own children (<body/>,
// <subject/>, <thread/>), as a c2s or s2s stream, or an element built
// without one, names it.
func isStanzaNS(space string) bool {
	return space == "jabber:client" || space == "jabber:server" || space == ""
}

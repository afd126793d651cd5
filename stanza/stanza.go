package stanza

import "mellium.im/xmpp/jid"

// Kind is the kind of a stanza: its element name.
type Kind string

// The three stanza kinds of RFC 6120 section 8.
const (
	KindMessage  Kind = "message"
	KindPresence Kind = "presence"
	KindIQ       Kind = "iq"
)

// Stanza is one stanza from a client as a transport hands it to the core:
// checked, with 'from' stamped with the session's full JID (RFC 6120
// section 8.1.2.1) and 'to', if any, in canonical form.
type Stanza struct {
	// El is the stanza itself; whoever it is handed to owns it.
	El   *Element
	Kind Kind
	Type string // the 'type' attribute, "" if absent
	ID   string // the 'id' attribute, "" if absent
	From jid.JID
	To   jid.JID // zero if the stanza has no 'to'
}

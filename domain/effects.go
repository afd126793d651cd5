package domain

import (
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/events"
)

// Decision is the outcome of a command: the events to append to the
// account's stream (or presence stream, for presence decisions), in
// order, and the effects to carry out once they are committed, in order
// (the RFC orders some of them, e.g. 3.2.2 sends unavailable presence
// before the "unsubscribed").
type Decision struct {
	Events  []events.Payload
	Effects []Effect
}

func (d *Decision) add(e ...Effect) { d.Effects = append(d.Effects, e...) }

// Effect is something the server does after a decision: one of the types
// below. The adapter renders stanzas; only the Stanza fields carry XML.
type Effect interface{ isEffect() }

// RosterPush sends the item to every interested resource of the account
// (RFC 6121 2.1.6; an "interested resource" has requested the roster, 2.2).
type RosterPush struct {
	Item RosterItem
	Ver  string
}

// SendPresence sends a presence stanza from the account to an entity
// outside it (a contact, local or remote).
type SendPresence struct {
	// From is the account's bare JID for subscription stanzas and probes
	// (RFC 6121 3: "the server MUST stamp the outgoing presence stanza
	// with the bare JID"), or a resource's full JID for its presence.
	From jid.JID
	To   jid.JID
	// Type is "" (available), "unavailable", "subscribe", "subscribed",
	// "unsubscribe", "unsubscribed" or "probe".
	Type string
	// Stanza, if set, is the stanza to send whole, with 'from' and 'to'
	// set to From and To; if empty the adapter builds a bare stanza.
	Stanza string
	// ID is the 'id' of a built stanza: the probe's id when answering a
	// probe (4.3.2.1), otherwise empty (the adapter generates one).
	ID string
	// Delay, if not zero, is a delayed-delivery stamp (XEP-0203) for a
	// built stanza (4.3.2 #3).
	Delay time.Time
	// Broadcast marks the copy of an available broadcast (RFC 6121 4.2.2,
	// 4.4.2) sent to a subscribed contact. The adapter routes it with the
	// log position of the event that recorded it (RouteInput.BroadcastAt),
	// so that it reaches only the contact's resources a probe answer will
	// not tell (DecideProbe).
	Broadcast bool
}

// DeliverToUser delivers an inbound stanza from a contact to the account
// ('to' left as the bare JID, 8.5.2.1.2): to all available resources, or,
// when Interested is set, to all interested resources (those that asked
// for the roster, 2.2), as 3.1.6 #1, 3.2.3 #1 and 3.3.3 #1 require for a
// subscription change so that it arrives "before sending the roster push".
type DeliverToUser struct {
	From       jid.JID
	Type       string
	Stanza     string
	Interested bool
	// KeepIfOffline: with no available resource, the adapter keeps the
	// stanza for later delivery (the "MAY keep a record" notes of 3.1.6,
	// 3.2.3, 3.3.3). False for subscription requests: the account keeps
	// them itself and redelivers them at initial presence (3.1.3 #4).
	KeepIfOffline bool
}

// DeliverToResource delivers a stanza to one resource of the account.
type DeliverToResource struct {
	Resource string
	From     jid.JID
	Type     string
	Stanza   string
}

// SendCurrentPresenceTo sends the last presence of each of the account's
// available resources to Contact (RFC 6121 3.1.5). The adapter expands it
// with PresenceView.CurrentPresenceTo.
type SendCurrentPresenceTo struct{ Contact jid.JID }

// SendUnavailableTo sends unavailable presence from each of the account's
// available resources to Contact (RFC 6121 3.2.2, 3.3.3 #3). The adapter
// expands it with PresenceView.UnavailableTo.
type SendUnavailableTo struct{ Contact jid.JID }

// SendProbe probes Contact's presence from the account's bare JID (4.3.1).
type SendProbe struct{ Contact jid.JID }

func (RosterPush) isEffect()            {}
func (SendPresence) isEffect()          {}
func (DeliverToUser) isEffect()         {}
func (DeliverToResource) isEffect()     {}
func (SendCurrentPresenceTo) isEffect() {}
func (SendUnavailableTo) isEffect()     {}
func (SendProbe) isEffect()             {}

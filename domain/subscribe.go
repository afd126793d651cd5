package domain

import (
	"mellium.im/xmpp/jid"

	"xmppd/events"
)

// OutboundSubscription is a presence stanza of type "subscribe",
// "subscribed", "unsubscribe" or "unsubscribed" sent by one of the
// account's resources (RFC 6121 3.1.1, 3.1.4, 3.2.1, 3.3.1, 3.4.1).
type OutboundSubscription struct {
	Type string
	To   jid.JID
	// Stanza is the client's stanza, forwarded whole (extensions
	// included) when it is routed.
	Stanza string
}

// InboundSubscription is such a stanza received for the account from a
// contact, local or remote (3.1.3, 3.1.6, 3.2.3, 3.3.3).
type InboundSubscription struct {
	Type   string
	From   jid.JID
	Stanza string
}

func subscriptionInput(typ string, outbound bool) (events.SubscriptionInput, bool) {
	var in, out events.SubscriptionInput
	switch typ {
	case "subscribe":
		in, out = events.InSubscribe, events.OutSubscribe
	case "subscribed":
		in, out = events.InSubscribed, events.OutSubscribed
	case "unsubscribe":
		in, out = events.InUnsubscribe, events.OutUnsubscribe
	case "unsubscribed":
		in, out = events.InUnsubscribed, events.OutUnsubscribed
	default:
		return "", false
	}
	if outbound {
		return out, true
	}
	return in, true
}

// DecideOutbound decides an outbound subscription stanza from the user by
// Appendix A.2 and sections 3.1.2, 3.1.5, 3.2.2, 3.3.2 and 3.4.2.
// A routed stanza goes from the user's bare JID ("the user's server MUST
// stamp the outbound subscription request with the bare JID") to the
// contact's bare JID (3.1.2 #1: a full JID is treated "as if the request
// had been directed to the contact's bare JID").
func DecideOutbound(a *Account, cmd OutboundSubscription) (Decision, error) {
	op := "outbound " + cmd.Type
	in, ok := subscriptionInput(cmd.Type, true)
	if !ok {
		return Decision{}, newError(op, BadRequest, "not a subscription stanza")
	}
	if cmd.To.Domainpart() == "" {
		return Decision{}, newError(op, JIDMalformed, "no contact address")
	}
	peer := cmd.To.Bare()
	if peer.Equal(a.JID) {
		// The account is implicitly subscribed to its own presence (4.2.2);
		// a subscription with itself has no meaning.
		return Decision{}, newError(op, NotAllowed, "the account cannot subscribe to itself")
	}
	contact := peer.String()
	c := a.Contact(contact)
	t := Subscription(c.Subscription, in)
	route := SendPresence{From: a.JID, To: peer, Type: cmd.Type, Stanza: cmd.Stanza}
	var d Decision

	switch {
	case t.Preapprove:
		// 3.4.2 #3 and #4, and A.2.3 note [1]: note the pre-approval and
		// push the item ("MUST NOT route the presence stanza").
		if !a.Policy.Preapproval || c.Approved {
			d.Events = append(d.Events, changed(contact, in, t, ""))
			return d, nil
		}
		if err := checkRosterRoom(a, op, contact); err != nil {
			return Decision{}, err
		}
		if !c.InRoster {
			// 3.4.2 #4: "create a roster item for the contact with a state of
			// 'None' and set the 'approved' flag".
			d.Events = append(d.Events, events.RosterItemSet{Contact: contact})
		}
		d.Events = append(d.Events, events.PreapprovalSet{Contact: contact})
		d.add(a.pushes(contact, d.Events)...)
		return d, nil

	case t.MayCancelPreapproval:
		// 3.2.2 #2: "the contact's server MUST remove the pre-approval and
		// MUST NOT route or deliver the presence stanza".
		if c.Approved {
			d.Events = append(d.Events, events.PreapprovalCleared{Contact: contact, Reason: "cancelled"})
			d.add(a.pushes(contact, d.Events)...)
			return d, nil
		}
		d.Events = append(d.Events, changed(contact, in, t, ""))
		return d, nil
	}

	// 3.1.2: the user's server "MUST ... create a roster item" for a
	// subscription request; A.1 #3: approving a request creates the item
	// the server waited to create.
	if !c.InRoster && t.Route && (in == events.OutSubscribe || in == events.OutSubscribed) {
		if err := checkRosterRoom(a, op, contact); err != nil {
			// Nothing is recorded or routed: an approval refused here
			// leaves the request pending (domain/limits.go).
			return Decision{}, err
		}
		d.Events = append(d.Events, events.RosterItemSet{Contact: contact})
	}
	d.Events = append(d.Events, changed(contact, in, t, ""))
	if in == events.OutUnsubscribed && t.Route && HasFrom(t.Before) {
		// 3.2.2: "While the user is still subscribed to the contact's
		// presence (i.e., before the contact's server routes or delivers the
		// presence stanza of type 'unsubscribed' ...), the contact's server
		// MUST send a presence stanza of type 'unavailable' from all of the
		// contact's online resources".
		d.add(SendUnavailableTo{Contact: peer})
	}
	if t.Route {
		d.add(route)
	}
	d.add(a.pushes(contact, d.Events)...)
	if in == events.OutSubscribed && t.Changed {
		// 3.1.5: "The contact's server MUST then also send current presence
		// to the user from each of the contact's available resources."
		d.add(SendCurrentPresenceTo{Contact: peer})
	}
	return d, nil
}

// DecideInbound decides an inbound subscription stanza from a contact by
// Appendix A.3 and sections 3.1.3, 3.1.6, 3.2.3, 3.3.3 and 3.4.2. A
// stanza for an account that does not exist is silently ignored (8.5.1).
func DecideInbound(a *Account, cmd InboundSubscription) (Decision, error) {
	op := "inbound " + cmd.Type
	in, ok := subscriptionInput(cmd.Type, false)
	if !ok {
		return Decision{}, newError(op, BadRequest, "not a subscription stanza")
	}
	var d Decision
	if !a.Exists || cmd.From.Domainpart() == "" {
		return d, nil
	}
	peer := cmd.From.Bare()
	contact := peer.String()
	c := a.Contact(contact)
	t := Subscription(c.Subscription, in)
	user := a.JID

	if in == events.InSubscribe && c.Approved && t.Changed {
		// 3.4.2: "When the 'approved' flag is set to 'true', the user's
		// server MUST NOT deliver a presence stanza of type 'subscribe'
		// from the contact to the user, but instead MUST automatically
		// respond ... by returning a presence stanza of type 'subscribed'".
		// Recorded as the two inputs of Appendix A that happen: the request
		// arrives, and the server approves it on the user's behalf (A.3.1
		// note [1]). The pre-approval is used up: xmppd keeps no record of
		// it afterwards (3.4.2, first Implementation Note).
		approve := Subscription(t.After, events.OutSubscribed)
		d.Events = append(d.Events,
			changed(contact, in, t, cmd.Stanza),
			changed(contact, events.OutSubscribed, approve, ""),
			events.PreapprovalCleared{Contact: contact, Reason: "used"})
		d.add(SendPresence{From: user, To: peer, Type: "subscribed"})
		d.add(a.pushes(contact, d.Events)...)
		d.add(SendCurrentPresenceTo{Contact: peer})
		return d, nil
	}

	stanza := ""
	if in == events.InSubscribe {
		stanza = cmd.Stanza
	}
	d.Events = append(d.Events, changed(contact, in, t, stanza))
	if t.Deliver {
		// 3.1.6 #1, 3.2.3 #1, 3.3.3 #1: the stanza is delivered "before
		// sending the roster push".
		// A request goes to available resources (3.1.3 #3; the Implementation
		// Note of 3.1: "subscription requests are sent to available
		// resources, whereas the roster pushes ... to interested resources").
		// The contact's presence that follows an approval (3.1.6 #3) or a
		// cancellation (3.2.3) is ordinary inbound presence (Route).
		isRequest := in == events.InSubscribe
		d.add(DeliverToUser{From: peer, Type: cmd.Type, Stanza: cmd.Stanza, Interested: !isRequest, KeepIfOffline: !isRequest})
	}
	d.add(a.pushes(contact, d.Events)...)
	if in == events.InUnsubscribe && HasFrom(t.Before) && t.Changed {
		// 3.3.3 #3: "Generate an outbound presence stanza of type
		// 'unavailable' from each of the contact's available resources to
		// the user."
		d.add(SendUnavailableTo{Contact: peer})
	}
	if t.AutoReply != "" {
		// 3.1.3 #2 ("MUST auto-reply ... 'subscribed'") and A.3.2 note [1]
		// ("SHOULD auto-reply with 'unsubscribed'").
		d.add(SendPresence{From: user, To: peer, Type: t.AutoReply})
	}
	return d, nil
}

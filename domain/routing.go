package domain

import (
	"slices"
	"xmppd/stanza"

	"mellium.im/xmpp/jid"
)

// StanzaKind is the kind of stanza being delivered (RFC 6120 8): the
// vocabulary's stanza.Kind, so that transports, core and rules name kinds
// one way.
type StanzaKind = stanza.Kind

// The three kinds, under the names the rules use.
const (
	Message  = stanza.KindMessage
	Presence = stanza.KindPresence
	IQ       = stanza.KindIQ
)

// RouteAction says what the server does with a stanza addressed to a local
// account (RFC 6121 8.5).
type RouteAction int

const (
	// Ignore drops the stanza silently ("S" in RFC 6121 8.5.4 table 1).
	Ignore RouteAction = iota
	// Deliver sends the stanza, 'to' unchanged, to RouteDecision.Resources
	// ("D", "M" and "A" in table 1).
	Deliver
	// StoreOffline keeps a message for the account's next available
	// resource ("O" in table 1; XEP-0160).
	StoreOffline
	// Bounce returns a <service-unavailable/> stanza error to the sender
	// ("E" in table 1).
	Bounce
	// HandleIQ: the server answers the IQ on the user's behalf
	// (8.5.2.1.3, 8.5.2.2.3), with service-unavailable if it has no
	// handler for the payload.
	HandleIQ
	// HandleSubscription: run the inbound subscription rules (section 3,
	// Appendix A; DecideInbound), after treating 'to' as the bare JID.
	HandleSubscription
	// HandleProbe: answer the probe on the user's behalf (4.3.2;
	// DecideProbe).
	HandleProbe
	// ReplyUnsubscribed answers a probe for an account that does not exist
	// with presence of type "unsubscribed" from the bare JID (8.5.1 (b)),
	// which is what an existing account answers an unauthorised prober
	// (4.3.2 #1), so the answer does not reveal whether the account exists.
	ReplyUnsubscribed
)

var routeActionNames = [...]string{"ignore", "deliver", "store offline", "bounce", "handle iq", "handle subscription", "handle probe", "reply unsubscribed"}

func (a RouteAction) String() string {
	if a < 0 || int(a) >= len(routeActionNames) {
		return "route action?"
	}
	return routeActionNames[a]
}

// RouteInput describes a stanza addressed to a local account.
type RouteInput struct {
	Kind StanzaKind
	// Type is the stanza's 'type' attribute as received. For messages an
	// absent or unknown type is "normal" (RFC 6121 5.2.2); for presence an
	// absent type means available.
	Type string
	// To is the stanza's 'to' address: the account's bare JID or a full JID.
	To jid.JID
	// AccountExists is false if no account has To's bare JID (8.5.1).
	AccountExists bool
	// SenderTrusted: the sender is in the user's roster, is authorised to
	// see the user's presence, or has received directed presence from the
	// user. RFC 6121 8.1: where a rule allows either silence or an error,
	// the server "SHOULD return an error" to such a sender and stays silent
	// otherwise (to resist directory harvesting and presence leaks).
	SenderTrusted bool
	// SenderSharesPresence: the user shares presence with the sender by a
	// subscription "from" or "both" or by directed presence, or the sender
	// is the user itself. 8.5.3.1 gates IQ get/set to a full JID on it.
	SenderSharesPresence bool
	// Gone names resources the view still shows connected that can no
	// longer be written to: their stream is closing, or its end could not
	// be recorded yet (a store failure). Route treats them as absent, and
	// a message addressed to one of them as addressed to the bare JID: it
	// was on its way to a resource the user had connected, so it goes to
	// the user's other resources or offline storage rather than nowhere.
	Gone []string
	// Content says, for a message, whether it is worth offline storage
	// (ClassifyMessage; XEP-0160 section 3, XEP-0334). It matters only
	// where Route would store the message: delivered to a resource, a
	// message goes whole whatever it carries (a chat state to a user
	// online is delivered).
	Content MessageContent
	// BroadcastAt is, for the copy of an available broadcast sent to a
	// contact (SendPresence.Broadcast), the log position of the event that
	// recorded it; 0 for any other stanza. Such a copy is delivered only to
	// the resources that became available before it: a resource made
	// available later has probed the sender (4.2.2) at a position after
	// the broadcast, and the probe's answer carries the same stanza
	// (4.3.2 #4; DecideProbe answers exactly those probes).
	BroadcastAt uint64
	// SenderBlocked: the account's block list blocks the sender (XEP-0191
	// 3.3; Account.Blocks): nothing from it reaches the user (routeBlocked).
	SenderBlocked bool
}

// RouteDecision is where a stanza goes. Rule names the RFC 6121 section
// that decided it.
type RouteDecision struct {
	Action RouteAction
	// Resources receive the stanza when Action is Deliver, sorted by name.
	Resources []string
	Rule      string
}

// Route decides local delivery of a stanza (RFC 6121 8.5), from the
// account's presence view (nil when it has no sessions). It does not look
// at roster or subscription state: the inbound subscription and probe
// rules do that (HandleSubscription, HandleProbe), and the sender's
// relationship to the user arrives as RouteInput's two flags.
func Route(in RouteInput, v *PresenceView) RouteDecision {
	if !in.AccountExists {
		return routeNoSuchUser(in)
	}
	if in.SenderBlocked {
		return routeBlocked(in)
	}
	if len(in.Gone) > 0 {
		if in.Kind == Message && slices.Contains(in.Gone, in.To.Resourcepart()) {
			in.To = in.To.Bare()
		}
		v = v.without(in.Gone)
	}
	if in.To.Resourcepart() == "" {
		return routeBare(in, v)
	}
	return routeFull(in, v)
}

// routeNoSuchUser is 8.5.1 with the 8.5.4 table's "ACCOUNT DOES NOT EXIST"
// rows. Where either silence or an error is allowed for a message, xmppd
// answers chat, normal and groupchat with service-unavailable, as Prosody
// and ejabberd do (so a sender learns its message went nowhere), and
// stays silent for headline (8.5.4: S) and error (an error is never
// answered, RFC 6120 8.3.1). An IQ result or error is dropped: nobody
// awaits it, and RFC 6120 8.2.3 #4 forbids answering a response.
func routeNoSuchUser(in RouteInput) RouteDecision {
	switch in.Kind {
	case IQ:
		if in.Type != "get" && in.Type != "set" {
			return RouteDecision{Action: Ignore, Rule: "8.5.1 iq " + in.Type + ": a response is not answered (RFC 6120 8.2.3)"}
		}
		return RouteDecision{Action: Bounce, Rule: "8.5.1 iq"}
	case Presence:
		if in.Type == "probe" {
			return RouteDecision{Action: ReplyUnsubscribed, Rule: "8.5.1 presence probe"}
		}
		return RouteDecision{Action: Ignore, Rule: "8.5.1 presence"}
	}
	switch typ := messageType(in.Type); typ {
	case "headline", "error":
		return RouteDecision{Action: Ignore, Rule: "8.5.1 message " + typ}
	default:
		return RouteDecision{Action: Bounce, Rule: "8.5.1 message " + typ + ": service-unavailable"}
	}
}

// routeBare is 8.5.2: the stanza is addressed to <localpart@domainpart>.
func routeBare(in RouteInput, v *PresenceView) RouteDecision {
	switch in.Kind {
	case IQ:
		return RouteDecision{Action: HandleIQ, Rule: "8.5.2.1.3 iq to bare JID"}
	case Presence:
		return routePresenceBare(in, v)
	}
	switch typ := messageType(in.Type); typ {
	case "error":
		return RouteDecision{Action: Ignore, Rule: "8.5.2.1.1 message error"}
	case "groupchat":
		return RouteDecision{Action: Bounce, Rule: "8.5.2.1.1 message groupchat to bare JID"}
	case "headline":
		all := nonNegative(v)
		if len(all) == 0 {
			return RouteDecision{Action: Ignore, Rule: "8.5.2.2.1 message headline, no non-negative resource"}
		}
		return RouteDecision{Action: Deliver, Resources: all, Rule: "8.5.2.1.1 message headline to all non-negative resources"}
	default: // normal, chat
		return routeMostAvailable(in, typ, v, "8.5.2.1.1")
	}
}

// routeMostAvailable delivers a normal or chat message to the "most
// available" resources, those with the highest non-negative priority
// (8.5.2.1.1 option (a)); with none, it stores the message offline
// (8.5.2.2.1 option (a): "the server MUST NOT deliver the stanza to any
// available resource with a negative priority; if the only available
// resource has a negative priority, the server SHOULD handle the message
// as if there were no available resources"), unless in.Content says it
// is not to be stored (routeUnstored).
func routeMostAvailable(in RouteInput, typ string, v *PresenceView, rule string) RouteDecision {
	all := nonNegative(v)
	if len(all) == 0 {
		if in.Content != StoreWorthy {
			return routeUnstored(in.Content, typ)
		}
		return RouteDecision{Action: StoreOffline, Rule: "8.5.2.2.1 message " + typ + ", no non-negative resource: offline"}
	}
	best, top := []string(nil), 0
	for _, r := range v.Available() {
		if r.Priority < 0 {
			continue
		}
		switch {
		case best == nil || r.Priority > top:
			best, top = []string{r.Name}, r.Priority
		case r.Priority == top:
			best = append(best, r.Name)
		}
	}
	return RouteDecision{Action: Deliver, Resources: best, Rule: rule + " message " + typ + " to the highest-priority resource(s)"}
}

// routeUnstored decides a normal or chat message that no resource can
// take and that is not to be stored (MessageContent). A standalone chat
// state is dropped silently: XEP-0160 section 3 and XEP-0085 5.8 say not
// to store it, and an error for a notification about a conversation
// that is over helps nobody. A message whose sender asked that it not be
// stored (XEP-0334 4.2) gets RFC 6121 8.5.2.2.1's other answer, (b)
// service-unavailable, so the sender knows it was not delivered.
func routeUnstored(c MessageContent, typ string) RouteDecision {
	if c == ChatStateOnly {
		return RouteDecision{Action: Ignore, Rule: "8.5.2.2.1 message " + typ + ", no non-negative resource, chat state only: not stored (XEP-0160 3, XEP-0085 5.8)"}
	}
	return RouteDecision{Action: Bounce, Rule: "8.5.2.2.1 message " + typ + ", no non-negative resource, no-store hint (XEP-0334 4.2): service-unavailable"}
}

func routePresenceBare(in RouteInput, v *PresenceView) RouteDecision {
	switch in.Type {
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		return RouteDecision{Action: HandleSubscription, Rule: "8.5.2.1.2 presence subscription: section 3"}
	case "probe":
		return RouteDecision{Action: HandleProbe, Rule: "8.5.2.1.2 presence probe: section 4.3"}
	}
	// Names only, not copies of the resources: this runs once per
	// contact of every presence broadcast.
	avail := v.availableNames(0)
	if len(avail) == 0 {
		return RouteDecision{Action: Ignore, Rule: "8.5.2.2.2 presence, no available resource"}
	}
	if in.BroadcastAt == 0 || in.Type != "" {
		return RouteDecision{Action: Deliver, Resources: avail, Rule: "8.5.2.1.2 presence to all available resources"}
	}
	earlier := v.availableNames(in.BroadcastAt)
	if len(earlier) == 0 {
		return RouteDecision{Action: Ignore, Rule: "8.5.2.1.2 broadcast presence, every resource is newer: its probe answers it (4.3.2)"}
	}
	return RouteDecision{Action: Deliver, Resources: earlier, Rule: "8.5.2.1.2 broadcast presence to the resources available before it (newer ones: 4.3.2)"}
}

// routeFull is 8.5.3: the stanza is addressed to a full JID.
func routeFull(in RouteInput, v *PresenceView) RouteDecision {
	res := in.To.Resourcepart()
	if _, ok := v.Resource(res); ok {
		return routeFullMatch(in, res)
	}
	switch in.Kind {
	case IQ:
		if in.Type != "get" && in.Type != "set" {
			// RFC 6120 8.2.3 #4: a response is never answered; Prosody
			// and ejabberd drop it too.
			return RouteDecision{Action: Ignore, Rule: "8.5.3.2.3 iq " + in.Type + ", no resource matches: a response is not answered (RFC 6120 8.2.3)"}
		}
		return RouteDecision{Action: Bounce, Rule: "8.5.3.2.3 iq, no resource matches"}
	case Presence:
		switch in.Type {
		case "subscribe":
			return RouteDecision{Action: HandleSubscription, Rule: "8.5.3.2.2 presence subscribe: 3.1.3"}
		case "probe":
			return RouteDecision{Action: HandleProbe, Rule: "8.5.3.2.2 presence probe: 4.3"}
		}
		return RouteDecision{Action: Ignore, Rule: "8.5.3.2.2 presence " + presenceType(in.Type) + ", no resource matches"}
	}
	switch typ := messageType(in.Type); typ {
	case "error":
		return RouteDecision{Action: Ignore, Rule: "8.5.3.2.1 message error, no resource matches"}
	case "chat":
		return routeMostAvailable(in, typ, v, "8.5.3.2.1")
	case "groupchat":
		// Either is allowed; the error (as Prosody and ejabberd send)
		// tells a room that this occupant is gone.
		return RouteDecision{Action: Bounce, Rule: "8.5.3.2.1 message groupchat, no resource matches: service-unavailable"}
	default:
		// "the server MUST either (a) silently ignore the stanza or (b)
		// return an error stanza": 8.1 decides by the sender.
		if in.SenderTrusted {
			return RouteDecision{Action: Bounce, Rule: "8.5.3.2.1 message " + typ + ", no resource matches, trusted sender (8.1)"}
		}
		return RouteDecision{Action: Ignore, Rule: "8.5.3.2.1 message " + typ + ", no resource matches"}
	}
}

// routeFullMatch is 8.5.3.1: a connected or available resource matches.
func routeFullMatch(in RouteInput, res string) RouteDecision {
	deliver := RouteDecision{Action: Deliver, Resources: []string{res}}
	switch in.Kind {
	case IQ:
		if (in.Type == "get" || in.Type == "set") && !in.SenderSharesPresence {
			// "SHOULD NOT deliver the IQ stanza but instead SHOULD return a
			// <service-unavailable/> stanza error ... to prevent presence
			// leaks".
			return RouteDecision{Action: Bounce, Rule: "8.5.3.1 iq get/set from an entity without presence"}
		}
		deliver.Rule = "8.5.3.1 iq to the matching resource"
	case Presence:
		switch in.Type {
		case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
			return RouteDecision{Action: HandleSubscription, Rule: "8.5.3.1 presence subscription: section 3"}
		case "probe":
			return RouteDecision{Action: HandleProbe, Rule: "8.5.3.1 presence probe: 4.3"}
		}
		deliver.Rule = "8.5.3.1 presence to the matching resource"
	default:
		deliver.Rule = "8.5.3.1 message to the matching resource"
	}
	return deliver
}

// messageType normalises a message 'type': RFC 6121 5.2.2 says an absent
// type is "normal" and an unknown one is to be treated as "normal".
func messageType(t string) string {
	switch t {
	case "chat", "groupchat", "headline", "error", "normal":
		return t
	}
	return "normal"
}

func presenceType(t string) string {
	if t == "" {
		return "available"
	}
	return t
}

// nonNegative returns the available resources with a priority of zero or
// more, sorted by name.
func nonNegative(v *PresenceView) []string {
	return names(slices.DeleteFunc(v.Available(), func(r Resource) bool { return r.Priority < 0 }))
}

func names(rs []Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// routeBlocked is XEP-0191 3.3 for a stanza from a blocked JID: presence
// of any type is dropped without an error; a message gets
// service-unavailable (an error message is dropped, RFC 6120 8.3.1); an IQ
// get or set gets service-unavailable and a result or error is dropped.
func routeBlocked(in RouteInput) RouteDecision {
	switch in.Kind {
	case Presence:
		return RouteDecision{Action: Ignore, Rule: "XEP-0191 3.3 presence from a blocked JID"}
	case IQ:
		if in.Type != "get" && in.Type != "set" {
			return RouteDecision{Action: Ignore, Rule: "XEP-0191 3.3 iq " + in.Type + " from a blocked JID"}
		}
		return RouteDecision{Action: Bounce, Rule: "XEP-0191 3.3 iq from a blocked JID: service-unavailable"}
	}
	if messageType(in.Type) == "error" {
		return RouteDecision{Action: Ignore, Rule: "XEP-0191 3.3 message error from a blocked JID"}
	}
	return RouteDecision{Action: Bounce, Rule: "XEP-0191 3.3 message from a blocked JID: service-unavailable"}
}

package domain

import "xmppd/events"

// Transition is what RFC 6121 Appendix A says happens when a subscription
// input arrives in a state: the new state, and for outbound inputs whether
// the stanza is routed to the contact (A.2), for inbound inputs whether it
// is delivered to the user (A.3), together with the table notes.
type Transition struct {
	Before, After events.SubscriptionState
	// Changed is false for the "no state change" cells.
	Changed bool
	// Route (outbound inputs only): the server routes the stanza to the
	// contact. False for the "M.N." (MUST NOT) and "S.N." (SHOULD NOT)
	// cells, which xmppd does not route.
	Route bool
	// Deliver (inbound inputs only): the server delivers the stanza to the
	// user. False for the "S.N." cells, which xmppd does not deliver.
	Deliver bool
	// Push: the roster item's visible form (its 'subscription' and 'ask'
	// attributes, RFC 6121 2.1.2.2 and 2.1.2.5) changes, so the server
	// pushes it to the interested resources (2.1.6) if the contact has a
	// roster item. Moving in or out of "Pending In" alone is not visible.
	Push bool
	// Preapprove: A.2.3 note [1], an outbound "subscribed" in this state is
	// a subscription pre-approval (section 3.4), if the server supports it.
	Preapprove bool
	// MayCancelPreapproval: A.2.4 note [1], an outbound "unsubscribed" in
	// this state cancels a pre-approval, if there is one (section 3.4).
	MayCancelPreapproval bool
	// AutoReply is the presence type the server sends to the contact on
	// the user's behalf: "subscribed" for A.3.1 note [2], "unsubscribed"
	// for A.3.2 note [1]; empty if none.
	AutoReply string
}

// Subscription is RFC 6121 Appendix A: the single place where xmppd decides
// how a subscription input changes a subscription state. Every cell of
// tables 2 to 9 is in the switch below, in the order of the appendix; a
// "no state change" cell leaves After equal to Before. An unknown state is
// treated as "None" (A.1: "a subscription state of 'None' includes the
// case of the contact not being in the user's roster at all").
func Subscription(s events.SubscriptionState, in events.SubscriptionInput) Transition {
	if !validState(s) {
		s = events.StateNone
	}
	t := Transition{Before: s, After: s}
	switch in {
	case events.OutSubscribe: // A.2.1 table 2: always MUST route.
		t.Route = true
		switch s {
		case events.StateNone:
			t.After = events.StateNonePendingOut
		case events.StateNonePendingIn:
			t.After = events.StateNonePendingOutIn
		case events.StateFrom:
			t.After = events.StateFromPendingOut
		}
	case events.OutUnsubscribe: // A.2.2 table 3: always MUST route.
		t.Route = true
		switch s {
		case events.StateNonePendingOut, events.StateTo:
			t.After = events.StateNone
		case events.StateNonePendingOutIn, events.StateToPendingIn:
			t.After = events.StateNonePendingIn
		case events.StateFromPendingOut, events.StateBoth:
			t.After = events.StateFrom
		}
	case events.OutSubscribed: // A.2.3 table 4.
		switch s {
		case events.StateNone, events.StateNonePendingOut, events.StateTo:
			t.Preapprove = true // M.N. route; pre-approval [1]
		case events.StateNonePendingIn:
			t.Route, t.After = true, events.StateFrom
		case events.StateNonePendingOutIn:
			t.Route, t.After = true, events.StateFromPendingOut
		case events.StateToPendingIn:
			t.Route, t.After = true, events.StateBoth
		} // From, From + Pending Out, Both: M.N., no state change.
	case events.OutUnsubscribed: // A.2.4 table 5.
		switch s {
		case events.StateNone, events.StateNonePendingOut, events.StateTo:
			t.MayCancelPreapproval = true // S.N. route; no state change [1]
		case events.StateNonePendingIn, events.StateFrom:
			t.Route, t.After = true, events.StateNone
		case events.StateNonePendingOutIn, events.StateFromPendingOut:
			t.Route, t.After = true, events.StateNonePendingOut
		case events.StateToPendingIn, events.StateBoth:
			t.Route, t.After = true, events.StateTo
		}
	case events.InSubscribe: // A.3.1 table 6.
		switch s {
		case events.StateNone:
			t.Deliver, t.After = true, events.StateNonePendingIn
		case events.StateNonePendingOut:
			t.Deliver, t.After = true, events.StateNonePendingOutIn
		case events.StateTo:
			t.Deliver, t.After = true, events.StateToPendingIn
		case events.StateFrom, events.StateFromPendingOut, events.StateBoth:
			t.AutoReply = "subscribed" // [2] SHOULD auto-reply
		} // the Pending In states: S.N. deliver, no state change.
	case events.InUnsubscribe: // A.3.2 table 7: every change delivers and auto-replies [1].
		switch s {
		case events.StateNonePendingIn, events.StateFrom:
			t.After = events.StateNone
		case events.StateNonePendingOutIn, events.StateFromPendingOut:
			t.After = events.StateNonePendingOut
		case events.StateToPendingIn, events.StateBoth:
			t.After = events.StateTo
		}
		if t.After != s {
			t.Deliver, t.AutoReply = true, "unsubscribed"
		}
	case events.InSubscribed: // A.3.3 table 8: only a pending out request changes.
		switch s {
		case events.StateNonePendingOut:
			t.After = events.StateTo
		case events.StateNonePendingOutIn:
			t.After = events.StateToPendingIn
		case events.StateFromPendingOut:
			t.After = events.StateBoth
		}
		t.Deliver = t.After != s
	case events.InUnsubscribed: // A.3.4 table 9: a pending out request or a subscription ends.
		switch s {
		case events.StateNonePendingOut, events.StateTo:
			t.After = events.StateNone
		case events.StateNonePendingOutIn, events.StateToPendingIn:
			t.After = events.StateNonePendingIn
		case events.StateFromPendingOut, events.StateBoth:
			t.After = events.StateFrom
		}
		t.Deliver = t.After != s
	}
	t.Changed = t.After != s
	t.Push = SubscriptionAttr(t.After) != SubscriptionAttr(s) || Ask(t.After) != Ask(s)
	return t
}

// IsOutbound reports whether in is one of the four outbound inputs (A.2).
func IsOutbound(in events.SubscriptionInput) bool {
	switch in {
	case events.OutSubscribe, events.OutSubscribed, events.OutUnsubscribe, events.OutUnsubscribed:
		return true
	}
	return false
}

// SubscriptionAttr is the roster item's 'subscription' attribute for a
// state (A.1 and RFC 6121 2.1.2.5): "none", "to", "from" or "both".
func SubscriptionAttr(s events.SubscriptionState) string {
	switch s {
	case events.StateTo, events.StateToPendingIn:
		return "to"
	case events.StateFrom, events.StateFromPendingOut:
		return "from"
	case events.StateBoth:
		return "both"
	}
	return "none"
}

// Ask reports whether the roster item carries ask='subscribe' (A.1: the
// "Pending Out" states; RFC 6121 2.1.2.2).
func Ask(s events.SubscriptionState) bool {
	return s == events.StateNonePendingOut || s == events.StateNonePendingOutIn || s == events.StateFromPendingOut
}

// PendingIn reports whether the contact has a subscription request the
// user has not answered (A.1 states 3, 4 and 6).
func PendingIn(s events.SubscriptionState) bool {
	return s == events.StateNonePendingIn || s == events.StateNonePendingOutIn || s == events.StateToPendingIn
}

// HasFrom reports whether the contact is subscribed to the user's presence
// ("From", "From + Pending Out" or "Both"): the contacts that receive the
// user's presence broadcasts (RFC 6121 4.2.2) and may probe it (4.3.2).
func HasFrom(s events.SubscriptionState) bool {
	return s == events.StateFrom || s == events.StateFromPendingOut || s == events.StateBoth
}

// HasTo reports whether the user is subscribed to the contact's presence
// ("To", "To + Pending In" or "Both"): the contacts the user's server
// probes at initial presence (RFC 6121 4.2.2, 4.3.1).
func HasTo(s events.SubscriptionState) bool {
	return s == events.StateTo || s == events.StateToPendingIn || s == events.StateBoth
}

func validState(s events.SubscriptionState) bool {
	switch s {
	case events.StateNone, events.StateNonePendingOut, events.StateNonePendingIn, events.StateNonePendingOutIn,
		events.StateTo, events.StateToPendingIn, events.StateFrom, events.StateFromPendingOut, events.StateBoth:
		return true
	}
	return false
}

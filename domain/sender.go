package domain

import "mellium.im/xmpp/jid"

// Sender is what an account knows of a stanza's sender, as delivery to
// a full JID depends on it (RouteInput.SenderTrusted, SenderSharesPresence).
type Sender struct {
	// Trusted: the sender is the user, is in the user's roster, is
	// authorised to see the user's presence, or has received directed
	// presence from the user. RFC 6121 8.1: such a sender gets an error
	// where a stranger gets silence.
	Trusted bool
	// SharesPresence: the user shares presence with the sender (a
	// subscription "from" or "both", or directed presence), or the sender
	// is the user. RFC 6121 8.5.3.1 lets only such senders send IQ get and
	// set to the user's resources.
	SharesPresence bool
}

// KnowSender works out what the account a, whose presence view is p and
// bare JID bare, knows of the sender from. The walk over every
// resource's directed presence is only made when neither the sender
// being the user nor the subscription settles it.
func KnowSender(a *Account, p *PresenceView, bare string, from jid.JID, fromBare string) Sender {
	if fromBare == bare {
		return Sender{Trusted: true, SharesPresence: true}
	}
	c := a.Contact(fromBare)
	if HasFrom(c.Subscription) {
		return Sender{Trusted: true, SharesPresence: true}
	}
	directed := p != nil && len(p.SentDirectedTo(from)) > 0
	return Sender{Trusted: c.InRoster || directed, SharesPresence: directed}
}

// RouteUsesSender reports whether Route can depend on what the account
// knows of the sender: only for a stanza to a full JID (RFC 6121 8.5.3;
// 8.1 for messages with no matching resource, 8.5.3.1 for IQs). To a
// bare JID (8.5.2), the case of almost every chat message, the sender's
// standing changes nothing, so KnowSender need not run;
// TestRouteIgnoresSenderForBareJIDs holds Route to that.
func RouteUsesSender(in RouteInput) bool {
	return in.To.Resourcepart() != ""
}

package im

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// clientPresence handles presence from x's client: broadcast (no 'to',
// RFC 6121 4.2, 4.4, 4.5), subscription management (section 3), directed
// presence (4.6) and probes.
func (s *Core) clientPresence(ctx context.Context, x *session, st stanza.Stanza, meta events.Meta) {
	if st.To.Equal(jid.JID{}) {
		switch st.Type {
		case "", "unavailable":
			s.broadcast(ctx, x, st, meta)
		case "error":
		default:
			// A subscription stanza or probe needs an address (3.1.1: "the
			// value of the 'to' attribute MUST be a bare JID").
			s.reply(x, errorReply(st.El, errBadRequest))
		}
		return
	}
	if s.toServer(st.To) {
		// Presence to the server itself changes nothing here.
		return
	}
	switch st.Type {
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		s.outboundSubscription(ctx, x, st, meta)
	case "", "unavailable":
		s.directed(ctx, x, st, meta)
	default:
		// "probe" from a client (4.3 leaves probing to servers but a
		// client's probe is answered by the same rules) and "error".
		s.forward(st.El, meta)
	}
}

// broadcast decides broadcast presence and, when a resource becomes
// available with a non-negative priority (initial presence, or a priority
// raised from negative), delivers the offline queue (XEP-0160 section 3,
// step 5: "When the recipient next sends non-negative available presence
// to the server"; RFC 6121 8.5.2.2.1 delivers nothing to negative
// priorities).
func (s *Core) broadcast(ctx context.Context, x *session, st stanza.Stanza, meta events.Meta) {
	show, status, priority := presenceFields(st.El)
	cmd := domain.PresenceBroadcast{
		Resource: x.resource, Available: st.Type == "", Show: show, Status: status, Priority: priority,
	}
	keep := clientKeepsPhoto(st.El)
	nowReachable, initial := false, false
	d, err := s.execute(ctx, x.bare, events.PresenceStream(x.bare), &meta, func(a *domain.Account, p *domain.PresenceView) (domain.Decision, error) {
		// XEP-0398 section 4, for the subscribers it goes to (avatar.go).
		cmd.Stanza = userPresenceXML(st.El, cmd.Available, keep, a.SubscriberAvatarHash)
		r, _ := p.Resource(x.resource)
		nowReachable = cmd.Available && priority >= 0 && (!r.Available || r.Priority < 0)
		initial = cmd.Available && !r.Available
		return domain.DecideBroadcast(a, p, cmd)
	})
	if err != nil {
		s.replyErr(x, st, err)
		return
	}
	s.perform(ctx, x.bare, meta, d.Effects)
	if cmd.Available {
		// XEP-0163 4.3.1 and 4.3.2: caps say which notifications the
		// client wants; initial presence brings the last published items.
		s.pepPresence(x, st.El, initial)
	}
	if nowReachable {
		s.deliverOffline(ctx, x, meta)
	}
}

// directed decides directed presence (4.6).
func (s *Core) directed(ctx context.Context, x *session, st stanza.Stanza, meta events.Meta) {
	cmd := domain.DirectedPresence{Resource: x.resource, To: st.To, Available: st.Type == ""}
	keep, to := clientKeepsPhoto(st.El), st.To.Bare().String()
	d, err := s.execute(ctx, x.bare, events.PresenceStream(x.bare), &meta, func(a *domain.Account, p *domain.PresenceView) (domain.Decision, error) {
		// XEP-0398 section 4: "The hash MUST also be injected into
		// directed presences", the hash of what the addressee may see.
		cmd.Stanza = userPresenceXML(st.El, cmd.Available, keep, func() string { return a.AvatarHash(to) })
		return domain.DecideDirected(a, p, cmd)
	})
	if err != nil {
		s.replyErr(x, st, err)
		return
	}
	s.perform(ctx, x.bare, meta, d.Effects)
}

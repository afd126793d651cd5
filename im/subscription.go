package im

import (
	"context"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// outboundSubscription records the user's side of a subscription stanza
// in account-<user> (RFC 6121 3.1.2, 3.1.5, 3.2.2, 3.3.2, 3.4.2; Appendix
// A.2) and carries out the effects; routing the stanza to a local contact
// enqueues the contact's side on the contact's actor (subscriptionIn).
func (s *Core) outboundSubscription(ctx context.Context, x *session, st stanza.Stanza, meta events.Meta) {
	cmd := domain.OutboundSubscription{Type: st.Type, To: st.To, Stanza: encode(st.El)}
	d, err := s.execute(ctx, x.bare, events.AccountStream(x.bare), &meta, func(a *domain.Account, _ *domain.PresenceView) (domain.Decision, error) {
		return domain.DecideOutbound(a, cmd)
	})
	if err != nil {
		s.replyErr(x, st, err)
		return
	}
	s.perform(ctx, x.bare, meta, d.Effects)
}

// subscriptionIn records the contact's side of a subscription stanza
// routed to the local account bare (3.1.3, 3.1.6, 3.2.3, 3.3.3; Appendix
// A.3), on bare's actor. A local sender's server has already stamped the
// stanza from its bare JID (3.1.2); 'to' is treated as the bare JID
// (8.5.3.2.2, 3.1.3).
func (s *Core) subscriptionIn(ctx context.Context, bare string, el *stanza.Element, meta events.Meta) {
	from := s.addrOf(el, "from").Bare()
	el.SetAttr("from", from.String())
	el.SetAttr("to", bare)
	cmd := domain.InboundSubscription{Type: el.Attr("type"), From: from, Stanza: encode(el)}
	d, err := s.execute(ctx, bare, events.AccountStream(bare), &meta, func(a *domain.Account, _ *domain.PresenceView) (domain.Decision, error) {
		return domain.DecideInbound(a, cmd)
	})
	if err != nil {
		s.log.Warn("im: inbound subscription", "to", bare, "from", from.String(), "err", err)
		return
	}
	s.perform(ctx, bare, meta, d.Effects)
	s.pepSubscribed(bare, from.String(), d.Events)
}

package im

import (
	"context"
	"encoding/xml"
	"log/slog"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// inbound delivers a stanza from a local entity to the local account bare
// (RFC 6121 8.5), on bare's actor, so delivery is decided against the
// same presence state the account's own commands change. meta is the
// provenance of the command that sent it: events recorded here (the
// contact's side of a subscription, offline storage) carry it.
func (s *Core) inbound(ctx context.Context, bare string, el *stanza.Element, meta events.Meta) {
	s.inboundThen(ctx, bare, el, meta, 0, nil)
}

// inboundThen is inbound for the copy of an available broadcast recorded
// at log position at (domain.RouteInput.BroadcastAt; 0 for any other
// stanza), calling done (if not nil) once the stanza is handled. A
// message to archive is archived first, off the actor, and handled once
// durable (archive_order.go); whatever reaches the account meanwhile
// waits behind it, so the account's stanzas keep their order (RFC 6120
// 10.1).
func (s *Core) inboundThen(ctx context.Context, bare string, el *stanza.Element, meta events.Meta, at uint64, done func()) {
	if s.archiveFirst(bare, el, meta, at, done) {
		return
	}
	if s.pipes.busy(bare) {
		s.pipes.add(bare, &pipeStep{ready: true, run: func(ctx context.Context) {
			s.inboundNow(ctx, bare, el, meta, at, done)
		}})
		return
	}
	s.inboundNow(ctx, bare, el, meta, at, done)
}

// inboundNow routes a stanza to bare now (RFC 6121 8.5), on bare's actor.
func (s *Core) inboundNow(ctx context.Context, bare string, el *stanza.Element, meta events.Meta, at uint64, done func()) {
	if done != nil {
		defer done()
	}
	fromA, to := s.address(el, "from"), s.addrOf(el, "to")
	from := fromA.JID
	in := s.routeInput(bare, el, to, at)
	var dec domain.RouteDecision
	for {
		dec = s.route(bare, &in, fromA)
		if dec.Action != domain.Deliver {
			break
		}
		// The delivery rule (delivery.go): only sessions that can still
		// be written to; without them, decide again around the others.
		var buf [4]*session // most stanzas go to one or two resources
		targets, gone := s.live(bare, dec.Resources, buf[:0])
		if len(gone) > 0 {
			in.Gone = append(in.Gone, gone...)
			continue
		}
		if tracked(in) {
			s.sendTracked(bare, targets, el, meta)
		} else {
			for _, x := range targets {
				x.sess.Send(el)
			}
		}
		if in.Kind == domain.Message {
			s.carbonReceived(bare, targets, el)
		}
		break
	}
	switch dec.Action {
	case domain.StoreOffline:
		if err := s.storeOffline(ctx, bare, "message", el, meta); err != nil {
			// XEP-0160 section 3: a full offline queue is service-unavailable;
			// a store that refuses the write is resource-constraint, wait
			// (RFC 6120 8.3.3.18): the sender may try again later.
			s.bounce(el, condition(err), meta)
		}
	case domain.Bounce:
		s.bounce(el, errServiceUnavailable, meta)
	case domain.HandleIQ:
		sender := s.reg.Resource(fromA.Bare, from.Resourcepart())
		s.accountIQ(ctx, bare, sender, s.stanzaOf(el), meta)
	case domain.HandleSubscription:
		s.subscriptionIn(ctx, bare, el, meta)
	case domain.HandleProbe:
		s.probe(ctx, bare, el, meta)
	case domain.ReplyUnsubscribed:
		// 8.5.1: a probe to a missing account is answered as an existing
		// account answers a stranger (4.3.2 #1), revealing nothing.
		s.forward(presenceEl("", to.Bare(), from, "unsubscribed", el.Attr("id")), meta)
	case domain.Deliver, domain.Ignore:
	}
	if s.log.Enabled(ctx, slog.LevelDebug) { // spares every stanza the formatting
		s.log.Debug("im: routed", "to", to.String(), "from", from.String(), "action", dec.Action.String(), "rule", dec.Rule, "gone", in.Gone)
	}
}

// routeInput is what domain.Route needs to know of el, to bare.
func (s *Core) routeInput(bare string, el *stanza.Element, to jid.JID, at uint64) domain.RouteInput {
	acc, _ := s.views.Accounts.Get(bare)
	in := domain.RouteInput{Kind: kindOf(el), Type: el.Attr("type"), To: to, AccountExists: acc.Exists, BroadcastAt: at}
	if in.Kind == domain.Message {
		in.Content = messageContent(el)
	}
	return in
}

// route decides delivery of a stanza to the account bare (domain.Route)
// from the account's views, working out what the account knows of the
// sender only where the rules can depend on it.
func (s *Core) route(bare string, in *domain.RouteInput, fromA *stanza.Address) (dec domain.RouteDecision) {
	found := s.views.WithAccount(bare, func(a *domain.Account, p *domain.PresenceView) {
		if domain.RouteUsesSender(*in) {
			k := domain.KnowSender(a, p, bare, fromA.JID, fromA.Bare)
			in.SenderTrusted, in.SenderSharesPresence = k.Trusted, k.SharesPresence
		}
		in.SenderBlocked = a.Blocks(fromA.JID)
		dec = domain.Route(*in, p)
	})
	if !found {
		dec = domain.Route(*in, nil)
	}
	return dec
}

// tracked reports whether a delivered stanza must reach a session or be
// routed again (delivery.go): messages, and IQ requests, whose sender
// awaits an answer. Presence and IQ responses lost with a closing session
// need nothing more: the session's end is broadcast, and nobody waits.
func tracked(in domain.RouteInput) bool {
	switch in.Kind {
	case domain.Message:
		return true
	case domain.IQ:
		return in.Type == "get" || in.Type == "set"
	}
	return false
}

// bounce returns an error for el to its (local) sender.
func (s *Core) bounce(el *stanza.Element, e stanza.Error, meta events.Meta) {
	if reply := errorReply(el, e); reply != nil {
		s.forward(reply, meta)
	}
}

// probe answers a presence probe on the account's behalf (4.3.2) without
// leaking presence: DecideProbe says what the prober may learn. A local
// prober's view says which of its resources the account's broadcasts
// already reached (domain.Probe.ProberAvailableAt); it is read before the
// account's own view, as WithAccount allows one account at a time.
func (s *Core) probe(ctx context.Context, bare string, el *stanza.Element, meta events.Meta) {
	p := domain.Probe{From: s.addrOf(el, "from"), To: s.addrOf(el, "to"), ID: el.Attr("id")}
	if domain.IsLocalAccount(p.From, s.cfg.Domain) {
		s.views.WithAccount(p.From.Bare().String(), func(_ *domain.Account, v *domain.PresenceView) {
			p.ProberAvailableAt = v.LatestAvailableAt()
		})
	}
	d, _ := s.decide(bare, func(a *domain.Account, v *domain.PresenceView) (domain.Decision, error) {
		return domain.DecideProbe(a, v, p), nil
	})
	s.perform(ctx, bare, meta, d.Effects)
}

// address parses an address attribute of el through the address cache
// (an empty Address if absent or bad).
func (s *Core) address(el *stanza.Element, attr string) *stanza.Address {
	a, err := s.addrs.Parse(el.Attr(attr))
	if err != nil {
		return &stanza.Address{}
	}
	return a
}

func kindOf(el *stanza.Element) domain.StanzaKind {
	switch el.Name.Local {
	case "presence":
		return domain.Presence
	case "iq":
		return domain.IQ
	}
	return domain.Message
}

// messageContent classifies a message for offline storage from the names
// of its children (domain.ClassifyMessage: chat states and no-store hints
// are not stored, XEP-0160 section 3, XEP-0334).
func messageContent(el *stanza.Element) domain.MessageContent {
	var buf [8]xml.Name // a message rarely has more children
	names := buf[:0]
	for _, c := range el.Children {
		if ce, ok := c.(*stanza.Element); ok {
			names = append(names, ce.Name)
		}
	}
	return domain.ClassifyMessage(names)
}

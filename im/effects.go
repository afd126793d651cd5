package im

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// perform carries out a decision's effects for the account bare, in
// order, after its events are committed and applied (DESIGN.md flow step
// 6). It runs on bare's actor. Stanzas addressed to a JID (SendPresence,
// even to bare's own JID) are forwarded to the addressee's actor, which
// decides delivery (8.5); stanzas the domain addresses to bare's own
// resources are sent to their sessions directly.
func (s *Core) perform(ctx context.Context, bare string, meta events.Meta, effects []domain.Effect) {
	user := s.mustJID(bare)
	var at uint64 // the broadcast's position, read once (sendBroadcast)
	var copies stanzaCache
	for _, ef := range effects {
		switch e := ef.(type) {
		case domain.RosterPush:
			// 2.1.6: to every interested resource.
			for _, x := range s.reg.Interested(bare) {
				x.sess.Send(pushEl(x.full, e))
			}
		case domain.SendPresence:
			if e.Broadcast {
				if at == 0 {
					at = s.broadcastAt(bare, e.From.Resourcepart())
				}
				s.sendBroadcast(e, &meta, at, &copies)
				continue
			}
			s.sendPresence(e, meta)
		case domain.DeliverToUser:
			s.deliverToUser(ctx, bare, e, meta)
		case domain.DeliverToResource:
			if x := s.reg.Resource(bare, e.Resource); x != nil {
				to := x.full
				if e.Type == "subscribe" {
					// 3.1.3: a stored subscription request keeps the
					// bare JID it was addressed to (as Prosody does).
					to = user
				}
				x.sess.Send(presenceEl(e.Stanza, e.From, to, e.Type, ""))
			}
		case domain.SendCurrentPresenceTo:
			for _, p := range s.expand(bare, func(v *domain.PresenceView) []domain.SendPresence { return v.CurrentPresenceTo(user, e.Contact) }) {
				s.sendPresence(p, meta)
			}
		case domain.SendUnavailableTo:
			for _, p := range s.expand(bare, func(v *domain.PresenceView) []domain.SendPresence { return v.UnavailableTo(user, e.Contact) }) {
				s.sendPresence(p, meta)
			}
		case domain.SendProbe:
			// 4.3.1: probes go from the user's bare JID.
			s.sendPresence(domain.SendPresence{From: user, To: e.Contact, Type: "probe"}, meta)
		}
	}
}

// sendPresence builds the presence stanza of e and forwards it.
func (s *Core) sendPresence(e domain.SendPresence, meta events.Meta) {
	el := presenceEl(e.Stanza, e.From, e.To, e.Type, e.ID)
	if e.Stanza == "" && !e.Delay.IsZero() {
		withDelay(el, s.cfg.Domain, e.Delay)
	}
	s.forward(el, meta)
}

// broadcastAt is the log position of the event that recorded the current
// presence of bare's resource (0 if it is not available). perform runs on
// bare's actor right after a broadcast's event was applied, and only this
// actor records that resource's presence, so it is the broadcast's.
func (s *Core) broadcastAt(bare, resource string) uint64 {
	var at uint64
	s.views.WithAccount(bare, func(_ *domain.Account, v *domain.PresenceView) {
		if r, ok := v.Resource(resource); ok && r.Available {
			at = r.StanzaAt
		}
	})
	return at
}

// sendBroadcast forwards the copy of an available broadcast recorded at
// log position at to a contact: the contact's actor routes it by that
// position (domain.RouteInput.BroadcastAt).
func (s *Core) sendBroadcast(e domain.SendPresence, meta *events.Meta, at uint64, copies *stanzaCache) {
	s.forwardAt(copies.presenceEl(e.Stanza, e.From, e.To, e.Type, e.ID), meta, at, nil)
}

// deliverToUser delivers an inbound stanza to the user's bare JID (8.5.2.1.2):
// to the available resources, or to the interested ones (3.1.6 #1, 3.2.3
// #1, 3.3.3 #1); with nobody to receive it and KeepIfOffline, it is kept
// for the next available resource.
func (s *Core) deliverToUser(ctx context.Context, bare string, e domain.DeliverToUser, meta events.Meta) {
	el := presenceEl(e.Stanza, e.From, s.mustJID(bare), e.Type, "")
	targets := s.reg.Interested(bare)
	if !e.Interested {
		targets = s.available(bare)
	}
	sent := 0
	for _, x := range targets {
		if x.sess.Send(el) == nil {
			sent++
		}
	}
	if sent == 0 && e.KeepIfOffline {
		if err := s.storeOffline(ctx, bare, "presence", el, meta); err != nil {
			// What it told is not lost: the subscription state it announced
			// is in the user's roster, which the client reads at its next
			// login (RFC 6121 2.6, 3.1.6, 3.2.3, 3.3.3).
			s.log.Warn("im: subscription request not stored offline", "to", bare, "from", el.Attr("from"), "err", err)
		}
	}
}

// available returns the live sessions of bare's available resources.
func (s *Core) available(bare string) []*session {
	var names []string
	s.views.WithAccount(bare, func(_ *domain.Account, v *domain.PresenceView) {
		for _, r := range v.Available() {
			names = append(names, r.Name)
		}
	})
	var out []*session
	for _, n := range names {
		if x := s.reg.Resource(bare, n); x != nil {
			out = append(out, x)
		}
	}
	return out
}

// expand reads the account's presence view.
func (s *Core) expand(bare string, fn func(v *domain.PresenceView) []domain.SendPresence) []domain.SendPresence {
	var out []domain.SendPresence
	s.views.WithAccount(bare, func(_ *domain.Account, v *domain.PresenceView) { out = fn(v) })
	return out
}

func (s *Core) fullOf(bare, resource string) jid.JID {
	j, err := s.mustJID(bare).WithResource(resource)
	if err != nil {
		return s.mustJID(bare)
	}
	return j
}

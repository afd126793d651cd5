package im

import (
	"context"
	"errors"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// blockingIQ answers XEP-0191 requests from the account's own resources:
// get the block list (3.2), block (3.3), unblock (3.4) and unblock all
// (3.5). Block list changes are events in the account's stream, with the
// session as actor.
func (s *Core) blockingIQ(ctx context.Context, bare string, x *session, st stanza.Stanza, q *stanza.Element, meta events.Meta) {
	if st.From.Bare().String() != bare {
		// Only the user manages its block list: to anyone else the
		// namespace is not there (RFC 6120 8.4).
		s.reply(x, errorReply(st.El, errServiceUnavailable))
		return
	}
	switch {
	case st.Type == "get" && q.Name.Local == "blocklist":
		var list []string
		s.views.WithAccount(bare, func(a *domain.Account, _ *domain.PresenceView) { list = a.BlockList() })
		// 3.2: a resource that asked for the list gets the pushes.
		x.blocklist.Store(true)
		x.sess.Send(iqResult(st.El, st.To).AddChild(blockingEl("blocklist", list)))
		return
	case st.Type == "set" && (q.Name.Local == "block" || q.Name.Local == "unblock"):
	default:
		s.reply(x, errorReply(st.El, errBadRequest))
		return
	}
	var items []string
	for _, it := range q.Elements() {
		if it.Name.Local == "item" && it.Name.Space == stanza.NSBlocking {
			items = append(items, it.Attr("jid"))
		}
	}
	d, err := s.execute(ctx, bare, events.AccountStream(bare), &meta, func(a *domain.Account, p *domain.PresenceView) (domain.Decision, error) {
		if q.Name.Local == "block" {
			return domain.DecideBlock(a, p, items)
		}
		return domain.DecideUnblock(a, p, items)
	})
	if err != nil {
		s.replyErr(x, st, err)
		return
	}
	x.sess.Send(iqResult(st.El, st.To))
	var rest []domain.Effect
	for _, e := range d.Effects {
		if p, ok := e.(domain.BlockingPush); ok {
			s.blockingPush(bare, p)
			continue
		}
		rest = append(rest, e)
	}
	s.perform(ctx, bare, meta, rest)
	if q.Name.Local == "unblock" {
		s.pepAfterUnblock(bare, rest)
	}
}

// pepAfterUnblock sends the available resources of each contact that
// gets the user's presence again (3.4, 3.5) the user's last PEP items, as
// an initial presence would have (XEP-0163 4.3.2): what was published
// while the contact was blocked (a new avatar, a new device list) would
// otherwise reach it only with the next publish.
func (s *Core) pepAfterUnblock(bare string, effects []domain.Effect) {
	done := map[string]bool{}
	for _, e := range effects {
		p, ok := e.(domain.SendPresence)
		if !ok || p.Type != "" || !domain.IsLocalAccount(p.To, s.cfg.Domain) {
			continue
		}
		contact := p.To.Bare().String()
		if done[contact] {
			continue
		}
		done[contact] = true
		for _, x := range s.available(contact) {
			s.pepSendLastOf(bare, x)
		}
	}
}

// blockingPush sends a block or unblock push to every resource of the
// account that has requested the block list (3.3: "all of the user's
// resources that have requested the blocklist").
func (s *Core) blockingPush(bare string, p domain.BlockingPush) {
	name := "unblock"
	if p.Block {
		name = "block"
	}
	for _, x := range s.reg.All(bare) {
		if !x.blocklist.Load() {
			continue
		}
		push := stanza.New(stanza.NSClient, "iq", "type", "set", "id", "block"+newID()[:12], "to", x.fullStr)
		x.sess.Send(push.AddChild(blockingEl(name, p.JIDs)))
	}
}

// blockingEl is <name xmlns='urn:xmpp:blocking'> with an item per JID.
func blockingEl(name string, jids []string) *stanza.Element {
	el := stanza.New(stanza.NSBlocking, name)
	for _, j := range jids {
		el.AddChild(stanza.New(stanza.NSBlocking, "item", "jid", j))
	}
	return el
}

// refuseBlocked refuses a stanza from x's client to an address its block
// list blocks (XEP-0191 3.3): <not-acceptable/> with <blocked/> qualified
// by urn:xmpp:blocking:errors. It reports whether it refused.
func (s *Core) refuseBlocked(x *session, st stanza.Stanza) bool {
	if st.To.Equal(jid.JID{}) {
		return false
	}
	var err error
	s.views.WithAccount(x.bare, func(a *domain.Account, _ *domain.PresenceView) { err = domain.BlockedOutbound(a, st.To) })
	if !errors.Is(err, domain.ErrBlocked) {
		return false
	}
	if st.Type == "error" || (st.Kind == stanza.KindIQ && st.Type == "result") {
		return true // a response to a blocked JID is dropped: nothing to answer
	}
	reply := errorReply(st.El, stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAcceptable})
	if reply != nil {
		errEl := reply.Elements()[len(reply.Elements())-1]
		errEl.AddChild(stanza.New(stanza.NSBlockingErrors, "blocked"))
	}
	s.reply(x, reply)
	return true
}

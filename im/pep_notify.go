package im

import (
	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// pepEffects carries out the notifications of a committed PEP decision
// of the account bare.
func (s *Core) pepEffects(bare string, effects []domain.Effect) {
	for _, e := range effects {
		if n, ok := e.(domain.PEPNotify); ok {
			s.pepNotify(bare, n)
		}
	}
}

// pepNotify sends an event notification (XEP-0060 7.1.2.1, 7.2.2.1,
// 8.4.2) from the owner's bare JID as a headline message (XEP-0163
// section 4.3: "type='headline'"), to every resource of the owner, and,
// unless the node is whitelist, to every available resource of each
// contact with a subscription from the owner ("from" or "both", section
// 4.3.1: the implicit subscription by presence; for an open node too,
// since nobody else has one) whose client wants the node (NODE+notify).
// Contacts on other servers are not reached: xmppd has no s2s yet.
func (s *Core) pepNotify(bare string, n domain.PEPNotify) {
	ev := pepEvent(n)
	from := bare
	// XEP-0163 4 #3: the owner's resources, subject to notification
	// filtering like anyone's.
	for _, x := range s.reg.All(bare) {
		if x.pep.wants(n.Node) {
			x.sess.Send(pepMessage(from, x.fullStr, ev))
		}
	}
	if n.Access == domain.AccessWhitelist {
		return
	}
	var contacts []string
	s.views.WithAccount(bare, func(a *domain.Account, _ *domain.PresenceView) {
		for _, c := range a.Roster() {
			if domain.HasFrom(c.Subscription) && domain.IsLocalAccount(s.mustJID(c.JID), s.cfg.Domain) {
				contacts = append(contacts, c.JID)
			}
		}
	})
	for _, c := range contacts {
		for _, x := range s.available(c) {
			if x.pep.wants(n.Node) && !s.blockedBy(bare, x.full) {
				x.sess.Send(pepMessage(from, x.fullStr, ev))
			}
		}
	}
}

// blockedBy reports whether owner's block list covers addr (XEP-0191
// 3.3: nothing of owner's reaches a blocked address, PEP notifications
// included).
func (s *Core) blockedBy(owner string, addr jid.JID) bool {
	blocked := false
	s.views.WithAccount(owner, func(a *domain.Account, _ *domain.PresenceView) { blocked = a.Blocks(addr) })
	return blocked
}

// pepSendLast sends x the last published item of each node it wants
// notifications of, among those of its own account and of every local
// contact whose presence it receives (XEP-0163 4.3.2; XEP-0060 6.1.7,
// pubsub#send_last_published_item "on_sub_and_presence"), as the
// contact's server would on receiving its presence.
func (s *Core) pepSendLast(x *session) {
	owners := []string{x.bare}
	s.views.WithAccount(x.bare, func(a *domain.Account, _ *domain.PresenceView) {
		for _, c := range a.Roster() {
			if domain.HasTo(c.Subscription) && domain.IsLocalAccount(s.mustJID(c.JID), s.cfg.Domain) {
				owners = append(owners, c.JID)
			}
		}
	})
	for _, owner := range owners {
		s.pepSendLastOf(owner, x)
	}
}

// pepSubscribed sends the user's available resources the last items of
// contact's nodes when evs gave the user a subscription to contact's
// presence (XEP-0163 4.3.2: the contact's approval is an implicit
// subscription to its PEP nodes).
func (s *Core) pepSubscribed(bare, contact string, evs []events.Payload) {
	if !domain.IsLocalAccount(s.mustJID(contact), s.cfg.Domain) {
		return
	}
	for _, e := range evs {
		if c, ok := e.(events.SubscriptionChanged); ok && c.Contact == contact && domain.HasTo(c.After) && !domain.HasTo(c.Before) {
			for _, x := range s.available(bare) {
				s.pepSendLastOf(contact, x)
			}
			return
		}
	}
}

// pepSendLastOf sends x the last item of each node of owner's that x's
// user may read and x's client wants.
func (s *Core) pepSendLastOf(owner string, x *session) {
	var last []domain.PEPNotify
	s.views.WithAccount(owner, func(a *domain.Account, _ *domain.PresenceView) {
		if owner != x.bare && a.Blocks(x.full) {
			return // XEP-0191 3.3
		}
		for _, n := range a.PEPVisible(x.bare) {
			if it, ok := n.Last(); ok && x.pep.wants(n.Name) {
				last = append(last, domain.PEPNotify{Node: n.Name, Access: n.Config.AccessModel, Items: []domain.PEPItem{it}})
			}
		}
	})
	for _, n := range last {
		x.sess.Send(pepMessage(owner, x.fullStr, pepEvent(n)))
	}
}

// pepEvent is the <event/> of a notification: the published items, the
// retracted ids, or the node's deletion.
func pepEvent(n domain.PEPNotify) *stanza.Element {
	ev := stanza.New(stanza.NSPubSubEvent, "event")
	if n.Deleted {
		return ev.AddChild(stanza.New(stanza.NSPubSubEvent, "delete", "node", n.Node))
	}
	items := stanza.New(stanza.NSPubSubEvent, "items", "node", n.Node)
	for _, it := range n.Items {
		items.AddChild(pepItemEl(stanza.NSPubSubEvent, it))
	}
	for _, id := range n.Retract {
		items.AddChild(stanza.New(stanza.NSPubSubEvent, "retract", "id", id))
	}
	return ev.AddChild(items)
}

// pepMessage wraps a notification for one recipient.
func pepMessage(from, to string, ev *stanza.Element) *stanza.Element {
	m := stanza.New(stanza.NSClient, "message", "type", "headline", "from", from, "to", to, "id", "pep-"+newID()[:12])
	return m.AddChild(ev.Copy())
}

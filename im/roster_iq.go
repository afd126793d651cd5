package im

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// rosterGet answers a roster get (RFC 6121 2.1.3, 2.2) with roster
// versioning (2.6.3), and makes x an interested resource (2.1.6).
// Reading the roster records nothing.
func (s *Core) rosterGet(_ context.Context, bare string, x *session, st stanza.Stanza, q *stanza.Element) {
	ver, hasVer := q.LookupAttr("ver")
	cmd := domain.RosterGet{From: st.From, To: st.To, Ver: ver, HasVer: hasVer}
	var res domain.RosterResult
	var err error
	var cached stanza.Encoded // the whole roster at res.Ver, rendered before
	var full bool
	decide := func(a *domain.Account) {
		var ver string
		if full, ver, err = domain.PlanRosterGet(a, cmd); err != nil {
			return
		}
		if full {
			if q, ok := s.rosters.get(bare, ver); ok {
				cached, res.Ver = q, ver
				return
			}
		}
		res, err = domain.DecideRosterGet(a, cmd)
	}
	found := s.views.WithAccount(bare, func(a *domain.Account, _ *domain.PresenceView) { decide(a) })
	if !found {
		decide(domain.NewAccount(s.mustJID(bare), s.cfg.Policy))
	}
	if err != nil {
		s.replyErr(x, st, err)
		return
	}
	s.reg.SetInterested(x)
	reply := iqResult(st.El, st.To)
	switch {
	case cached != nil:
		reply.Children = append(reply.Children, cached)
	case !res.Unchanged:
		query := stanza.New(stanza.NSRoster, "query", "ver", res.Ver)
		query.Children = make([]stanza.Node, 0, len(res.Items))
		for _, it := range res.Items {
			query.AddChild(itemEl(it))
		}
		if full {
			// The same bytes answer every full get until the roster changes.
			q := stanza.Encoded(query.AppendXML(nil, ""))
			s.rosters.put(bare, res.Ver, q)
			reply.Children = append(reply.Children, q)
		} else {
			reply.AddChild(query)
		}
	}
	x.sess.Send(reply)
	// 2.6.3: after the empty result, the interim pushes, in order.
	for _, p := range res.Pushes {
		x.sess.Send(pushEl(x.full, p))
	}
}

// rosterSet decides a roster set (2.1.5, 2.3 to 2.5): the result goes
// first, then the effects (the pushes to every interested resource, the
// requester included, and the unsubscribe/unsubscribed of a removal), the
// order of the examples in 2.3.2 and the order Prosody and ejabberd use.
func (s *Core) rosterSet(ctx context.Context, bare string, x *session, st stanza.Stanza, q *stanza.Element, meta events.Meta) {
	cmd := domain.RosterSet{From: st.From, To: st.To}
	for _, it := range q.Elements() {
		if it.Name.Local != "item" || it.Name.Space != stanza.NSRoster {
			continue
		}
		item := domain.RosterSetItem{JID: it.Attr("jid"), Name: it.Attr("name"), Subscription: it.Attr("subscription"),
			Ask: it.Attr("ask"), Approved: it.Attr("approved")}
		for _, g := range it.Elements() {
			if g.Name.Local == "group" && g.Name.Space == stanza.NSRoster {
				item.Groups = append(item.Groups, g.Text())
			}
		}
		cmd.Items = append(cmd.Items, item)
	}
	d, err := s.execute(ctx, bare, events.AccountStream(bare), &meta, func(a *domain.Account, _ *domain.PresenceView) (domain.Decision, error) {
		return domain.DecideRosterSet(a, cmd)
	})
	if err != nil {
		s.replyErr(x, st, err)
		return
	}
	x.sess.Send(iqResult(st.El, st.To))
	s.perform(ctx, bare, meta, d.Effects)
}

// itemEl renders a roster item (2.1.2).
func itemEl(it domain.RosterItem) *stanza.Element {
	el := stanza.New(stanza.NSRoster, "item", "jid", it.JID)
	if it.Name != "" {
		el.SetAttr("name", it.Name)
	}
	el.SetAttr("subscription", it.Subscription)
	if it.Ask {
		el.SetAttr("ask", "subscribe")
	}
	if it.Approved {
		el.SetAttr("approved", "true")
	}
	for _, g := range it.Groups {
		el.AddChild(stanza.New(stanza.NSRoster, "group").AddText(g))
	}
	return el
}

// pushEl is a roster push to one resource (2.1.6): an IQ set with no
// 'from' (a client accepts a push with no 'from' or from its bare JID).
func pushEl(to jid.JID, p domain.RosterPush) *stanza.Element {
	query := stanza.New(stanza.NSRoster, "query").AddChild(itemEl(p.Item))
	if p.Ver != "" {
		query.SetAttr("ver", p.Ver)
	}
	return stanza.New(stanza.NSClient, "iq", "type", "set", "id", "push"+newID()[:12], "to", to.String()).AddChild(query)
}

func (s *Core) mustJID(str string) jid.JID {
	j, _ := s.addrs.ParseJID(str)
	return j
}

package im

import (
	"encoding/xml"

	"xmppd/domain"
	"xmppd/stanza"
)

// XEP-0280 Message Carbons. Whether a session enabled carbons is a
// setting of that session (session.carbons), not account state: it is
// not recorded, and a new session starts without it (section 4). Carbons
// are best-effort copies beside the delivery (delivery.go): they are
// never what counts as a message's delivery, and a copy a closing session
// loses is not routed again.

// carbonsIQ answers <enable/> and <disable/> (XEP-0280 sections 4 and 5)
// sent by x to its own account bare.
func (s *Core) carbonsIQ(bare string, x *session, st stanza.Stanza, q *stanza.Element) {
	switch {
	case x.bare != bare:
		// 4.1, 5.1: not-allowed for a request about another's carbons.
		s.reply(x, errorReply(st.El, stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAllowed}))
	case st.Type != "set" || (q.Name.Local != "enable" && q.Name.Local != "disable"):
		s.reply(x, errorReply(st.El, errBadRequest))
	default:
		// 10.1: enabling twice (or disabling twice) is no error, and
		// changes nothing.
		s.setCarbons(x, q.Name.Local == "enable")
		s.reply(x, iqResult(st.El, x.full.Bare()))
	}
}

// setCarbons turns x's carbons on or off, keeping count of the sessions
// that have them on (carbonTargets' fast path).
func (s *Core) setCarbons(x *session, on bool) {
	if x.carbons.Swap(on) != on {
		if on {
			s.carbonsOn.Add(1)
		} else {
			s.carbonsOn.Add(-1)
		}
	}
}

// carbonReceived sends a <received/> copy of el, just delivered to the
// sessions got of the account bare, to bare's other carbons-enabled
// sessions (XEP-0280 section 7: never to those that got the original).
func (s *Core) carbonReceived(bare string, got []*session, el *stanza.Element) {
	to := s.carbonTargets(bare, el, func(x *session) bool {
		for _, g := range got {
			if g == x {
				return false
			}
		}
		return true
	})
	s.sendCarbons(bare, to, "received", el)
}

// carbonSent sends a <sent/> copy of the message st that x sends to
// x's other carbons-enabled sessions (XEP-0280 section 8; never back to
// x, whether or not it enabled carbons). A message to the account's own
// bare JID gets none: its resources receive it (and their copies) as
// recipients.
func (s *Core) carbonSent(x *session, st stanza.Stanza) {
	if s.carbonsOn.Load() == 0 || (st.To.Localpart() == x.full.Localpart() && st.To.Domainpart() == x.full.Domainpart()) {
		return
	}
	to := s.carbonTargets(x.bare, st.El, func(y *session) bool { return y != x })
	s.sendCarbons(x.bare, to, "sent", st.El)
}

// carbonTargets returns the carbons-enabled live sessions of bare that
// keep accepts, if el is eligible for carbons at all (domain.CarbonEligible).
func (s *Core) carbonTargets(bare string, el *stanza.Element, keep func(*session) bool) []*session {
	if s.carbonsOn.Load() == 0 {
		return nil // no session of any account has carbons on
	}
	var out []*session
	s.reg.Each(bare, func(x *session) {
		if x.carbons.Load() && !x.sess.Closing() && keep(x) {
			out = append(out, x)
		}
	})
	if len(out) == 0 || !domain.CarbonEligible(childNames(el), el.Attr("type")) {
		return nil
	}
	return out
}

// sendCarbons wraps el in <kind xmlns='urn:xmpp:carbons:2'> and a
// XEP-0297 <forwarded/>, from the account's bare JID to each session's
// full JID, keeping el's type (sections 7 and 8).
func (s *Core) sendCarbons(bare string, to []*session, kind string, el *stanza.Element) {
	if len(to) == 0 {
		return
	}
	orig := el.Copy() // el may still be routed (offline storage) while these are written
	typ := el.Attr("type")
	for _, x := range to {
		w := stanza.New(stanza.NSClient, "message", "from", bare, "to", x.fullStr)
		if typ != "" {
			w.SetAttr("type", typ)
		}
		w.AddChild(stanza.New(stanza.NSCarbons, kind).AddChild(stanza.New(stanza.NSForward, "forwarded").AddChild(orig)))
		x.sess.Send(w)
	}
}

// childNames names el's child elements.
func childNames(el *stanza.Element) []xml.Name {
	var names []xml.Name
	for _, c := range el.Children {
		if ce, ok := c.(*stanza.Element); ok {
			names = append(names, ce.Name)
		}
	}
	return names
}

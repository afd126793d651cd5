package im

import (
	"context"
	"slices"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// clientIQ handles an IQ from x's client. With no 'to' or to the user's
// bare JID the server answers on the account's behalf (RFC 6120 10.3.3;
// RFC 6121 8.5.2.1.3: "the server MUST handle it directly on behalf of
// the user"); IQs to the domain that c2s did not answer (ping, disco) are
// service-unavailable (RFC 6120 8.4); anything else goes to the addressed
// account's actor.
// nsCommands is XEP-0050's node of the ad-hoc command list.
const nsCommands = "http://jabber.org/protocol/commands"

func (s *Core) clientIQ(ctx context.Context, x *session, st stanza.Stanza, meta events.Meta) {
	if s.registerIQ(ctx, x, st, meta) {
		return
	}
	switch {
	case st.To.Equal(jid.JID{}) || st.To.Equal(x.full.Bare()):
		s.accountIQ(ctx, x.bare, x, st, meta)
	case s.toServer(st.To):
		if q := st.El.Elements(); st.Type == "get" && len(q) == 1 && isQuery(q[0], stanza.NSDiscoItems) && (q[0].Attr("node") == "" || q[0].Attr("node") == nsCommands) {
			// XEP-0030 section 4: the server has no items to list (as
			// Prosody answers with no components); XEP-0050 section 2.2:
			// nor ad-hoc commands (Gajim's "Execute Command" asks, and
			// shows an error for anything but a list).
			res := stanza.New(stanza.NSDiscoItems, "query")
			if n := q[0].Attr("node"); n != "" {
				res.SetAttr("node", n)
			}
			s.reply(x, iqResult(st.El, st.To).AddChild(res))
			return
		}
		if s.serverInfo(x, st) {
			return
		}
		if st.Type == "get" || st.Type == "set" {
			s.reply(x, errorReply(st.El, errServiceUnavailable))
		}
	default:
		s.forward(st.El, meta)
	}
}

// accountIQ answers a get or set for the account bare on its behalf. x is
// the requesting session when the request comes from one of bare's own
// resources; roster requests from anyone else are refused by the domain
// (2.1.5: forbidden).
func (s *Core) accountIQ(ctx context.Context, bare string, x *session, st stanza.Stanza, meta events.Meta) {
	if st.Type != "get" && st.Type != "set" {
		return // results and errors for the account itself: nothing awaits them
	}
	if x == nil {
		return // the requester's session is gone: nobody to answer
	}
	els := st.El.Elements()
	if len(els) != 1 {
		s.reply(x, errorReply(st.El, errBadRequest))
		return
	}
	q := els[0]
	switch {
	case q.Name.Space == stanza.NSRoster && q.Name.Local == "query" && st.Type == "get":
		s.rosterGet(ctx, bare, x, st, q)
	case q.Name.Space == stanza.NSRoster && q.Name.Local == "query":
		s.rosterSet(ctx, bare, x, st, q, meta)
	case q.Name.Space == stanza.NSBlocking:
		s.blockingIQ(ctx, bare, x, st, q, meta)
	case st.Type == "get" && (isQuery(q, stanza.NSDiscoInfo) || isQuery(q, stanza.NSDiscoItems)) && q.Attr("node") == "",
		st.Type == "get" && q.Name.Space == stanza.NSPing && q.Name.Local == "ping":
		s.accountDisco(bare, x, st, q)
	case isPubSub(q):
		s.pepIQ(ctx, bare, x, st, q, meta)
	case q.Name.Space == stanza.NSMAM:
		s.mamIQ(ctx, bare, x, st, q, meta)
	case q.Name.Space == stanza.NSCarbons:
		s.carbonsIQ(bare, x, st, q)
	case s.storageIQ(ctx, bare, x, st, q, meta):
	case isQuery(q, stanza.NSLast):
		s.lastActivityIQ(bare, x, st)
	default:
		// RFC 6120 8.4: "a <service-unavailable/> error if the recipient
		// does not support the namespace".
		s.reply(x, errorReply(st.El, errServiceUnavailable))
	}
}

// accountDisco answers disco#info and disco#items (XEP-0030 sections 3.1
// and 4.1; the "account/registered" identity of the XEP-0030 registry,
// and no items) and XEP-0199 pings sent to an account's bare JID, on its
// behalf, as Prosody and ejabberd do, for the account itself and for
// entities the account shares presence with. Others learn nothing, not
// even that the account exists (RFC 6121 8.5 and the security
// considerations: service-unavailable, as for a missing account).
func (s *Core) accountDisco(bare string, x *session, st stanza.Stanza, q *stanza.Element) {
	from := st.From.Bare()
	allowed := false
	s.views.WithAccount(bare, func(a *domain.Account, _ *domain.PresenceView) {
		allowed = a.Exists && (from.String() == bare || domain.HasFrom(a.Contact(from.String()).Subscription))
	})
	if !allowed {
		s.reply(x, errorReply(st.El, errServiceUnavailable))
		return
	}
	reply := iqResult(st.El, s.mustJID(bare))
	switch q.Name.Space {
	case stanza.NSDiscoInfo:
		info := stanza.New(stanza.NSDiscoInfo, "query")
		info.AddChild(stanza.New(stanza.NSDiscoInfo, "identity", "category", "account", "type", "registered"))
		// XEP-0163 section 6.1: the account is a PEP service.
		info.AddChild(stanza.New(stanza.NSDiscoInfo, "identity", "category", "pubsub", "type", "pep"))
		for _, f := range slices.Concat([]string{stanza.NSDiscoInfo}, pepFeatures, avatarFeatures, bookmarksFeatures, mamFeatures) {
			info.AddChild(stanza.New(stanza.NSDiscoInfo, "feature", "var", f))
		}
		reply.AddChild(info)
	case stanza.NSDiscoItems:
		reply.AddChild(s.pepDiscoItems(bare, from.String()))
	}
	s.reply(x, reply)
}

func isQuery(el *stanza.Element, ns string) bool {
	return el.Name.Local == "query" && el.Name.Space == ns
}

// stanzaOf wraps a forwarded element as a stanza.Stanza for the account
// handlers, which answer through the sender's session when it is local.
func (s *Core) stanzaOf(el *stanza.Element) stanza.Stanza {
	return stanza.Stanza{El: el, Kind: stanza.Kind(el.Name.Local), Type: el.Attr("type"), ID: el.Attr("id"),
		From: s.addrOf(el, "from"), To: s.addrOf(el, "to")}
}

package server

import (
	"context"

	"xmppd/adapters/xmlnode"
	"xmppd/domain"
	"xmppd/events"
)

// storeOffline keeps a stanza for the account bare (XEP-0160; RFC 6121
// 8.5.2.2.1 "O"): offline.queued in offline-<bare>, with the stanza whole.
// It runs on bare's actor.
func (s *Server) storeOffline(ctx context.Context, bare, kind string, el *xmlnode.Element, meta events.Meta) {
	q := events.OfflineQueued{Kind: kind, From: el.Attr("from"), Stanza: encode(el)}
	_, err := s.execute(ctx, bare, events.OfflineStream(bare), &meta, func(*domain.Account, *domain.PresenceView) (domain.Decision, error) {
		return domain.Decision{Events: []events.Payload{q}}, nil
	})
	if err != nil {
		s.log.Error("server: store offline", "to", bare, "err", err)
	}
}

// deliverOffline sends x every stanza queued for its account, oldest
// first, each with a XEP-0203 <delay/> stamped when it was queued (XEP-0160
// section 3; XEP-0203 section 3: "from" is the server that delayed it),
// and records offline.delivered through the last one.
func (s *Server) deliverOffline(ctx context.Context, x *session, meta events.Meta) {
	items := s.views.Offline(x.bare)
	if len(items) == 0 {
		return
	}
	for _, it := range items {
		el, err := parseStanza(it.Stanza)
		if err != nil {
			s.log.Error("server: stored stanza does not parse", "account", x.bare, "version", it.Version, "err", err)
			continue
		}
		x.sess.Send(withDelay(el, s.cfg.Domain, it.Recorded))
	}
	done := events.OfflineDelivered{Through: items[len(items)-1].Version, Resource: x.resource}
	_, err := s.execute(ctx, x.bare, events.OfflineStream(x.bare), &meta, func(*domain.Account, *domain.PresenceView) (domain.Decision, error) {
		return domain.Decision{Events: []events.Payload{done}}, nil
	})
	if err != nil {
		s.log.Error("server: record offline delivery", "account", x.bare, "err", err)
	}
}

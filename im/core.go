package im

import (
	"context"

	"xmppd/stanza"

	"mellium.im/xmpp/stream"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/router"
)

// Bound records a new session (session.started in presence-<bare>, RFC
// 6120 7). A session already bound to the same full JID is ended first
// and closed with <conflict/> (RFC 6120 7.7.2.2 option 2, "terminate the
// existing session"; 4.9.3.3): its end is recorded here, before the new
// start, so the views never lose the new resource to the old session's
// late end.
func (s *Core) Bound(ctx context.Context, sess router.Session) error {
	if s.stopping.Load() {
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}
	}
	x := &session{sess: sess, full: sess.JID(), fullStr: sess.JID().String(), bare: sess.JID().Bare().String(), resource: sess.JID().Resourcepart(),
		pending: make(chan struct{}, maxPendingStanzas)}
	x.release = func() { <-x.pending }
	o := sess.Origin()
	x.origin.Store(&o)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommandTimeout)
	defer cancel()
	err := s.actors.do(ctx, x.bare, func(ctx context.Context) error { return s.startSession(ctx, x) })
	if err != nil && ctx.Err() != nil {
		// c2s refuses the bind and will not call Ended: if the start is
		// still recorded later, end it right after (the actor keeps order).
		s.actors.enqueue(x.bare, func(ctx context.Context) {
			if s.reg.Get(sess.ID()) == x {
				s.endSession(ctx, x, events.SessionEnded{Cause: events.EndBindFailed, Detail: "bind timed out"})
			}
		})
	}
	return err
}

func (s *Core) startSession(ctx context.Context, x *session) error {
	if a, _ := s.views.Accounts.Get(x.bare); !a.Exists {
		// Deleted between authentication and binding.
		return stanza.Error{Type: stanza.Auth, Condition: stanza.NotAuthorized}
	}
	// An earlier session of this resource whose end the store refused is
	// ended first, or its late end would remove the new one from the
	// views (ends.go).
	if err := s.recordPendingEnds(ctx, x.bare, x.resource); err != nil {
		return err
	}
	if err := s.checkResources(x); err != nil {
		return err
	}
	if old := s.reg.Resource(x.bare, x.resource); old != nil {
		if err := s.endSession(ctx, old, events.SessionEnded{Cause: events.EndConflict, Condition: stream.Conflict.Err}); err != nil {
			return err
		}
		old.sess.CloseWithError(stream.Conflict)
	}
	meta := s.sessionMeta(x, "")
	o := x.origin.Load()
	_, err := s.execute(ctx, x.bare, events.PresenceStream(x.bare), &meta, func(_ *domain.Account, _ *domain.PresenceView) (domain.Decision, error) {
		return domain.Decision{Events: []events.Payload{events.SessionStarted{
			Resource: x.resource, ClientAddr: o.Addr, Node: s.cfg.Node, TLS: o.TLS, Mechanism: o.Mechanism,
		}}}, nil
	})
	if err != nil {
		return err
	}
	s.reg.Add(x)
	return nil
}

// maxPendingStanzas is how many stanzas of one session may be in hand
// (waiting on its account's actor, or for a message, on the recipient's)
// before c2s stops reading from that client.
const maxPendingStanzas = 128

// Stanza hands a client's stanza to its account's actor and returns at
// once (the c2s reader must not wait), unless the client already has
// maxPendingStanzas in hand: then it waits for one to finish.
//
// A message records nothing on the sender's side (message.go), so when
// nothing the session sent before is still waiting on its account's
// actor it is routed from here, straight to the recipient's actor,
// rather than through the sender's: the hop would only add a queue and a
// goroutine switch. The order of the session's stanzas is kept (RFC 6120
// 10.1): everything it sent earlier has been handed on already.
func (s *Core) Stanza(ctx context.Context, sess router.Session, st stanza.Stanza) {
	s.StanzaThen(ctx, sess, st, nil)
}

// StanzaThen is Stanza, calling handled (if not nil) once st's fate is
// durable (router.Reporting): a message once it is archived (when it is
// to be) and delivered, stored offline, bounced or dropped; anything
// else once the command it became has returned, its events committed.
// That is when the session's slot is released too.
func (s *Core) StanzaThen(ctx context.Context, sess router.Session, st stanza.Stanza, handled func()) {
	x := s.reg.Get(sess.ID())
	if x == nil {
		if handled != nil {
			handled()
		}
		return
	}
	select {
	case x.pending <- struct{}{}:
	case <-ctx.Done():
		if handled != nil {
			handled()
		}
		return
	}
	release := x.release
	if handled != nil {
		release = func() {
			x.release()
			handled()
		}
	}
	if st.Kind == stanza.KindIQ && x.answers(st) {
		// Not for the actor, which may be the one waiting for it.
		release()
		return
	}
	if st.Kind == stanza.KindMessage && x.onActor.Load() == 0 {
		if s.reg.IsEnded(x) {
			release()
			return
		}
		s.clientMessage(x, st, s.messageMeta(x, st.ID), release)
		return
	}
	x.onActor.Add(1)
	s.actors.enqueue(x.bare, func(ctx context.Context) {
		defer x.onActor.Add(-1)
		if s.reg.IsEnded(x) {
			release()
			return
		}
		s.clientStanza(ctx, x, st, release)
	})
}

// Ended records the end of a session: unavailable presence on its behalf
// if it was available or had sent directed presence (RFC 6121 4.5.2,
// 4.6.3), then session.ended with c2s's cause and condition (during
// shutdown, c2s reports events.EndShutdown and <system-shutdown/>). During
// shutdown it also waits until every account has delivered what the ends
// caused, because c2s closes the other sessions right after (their users
// should still see this one go offline).
func (s *Core) Ended(sess router.Session, why router.End) {
	x := s.reg.Get(sess.ID())
	if x == nil {
		return
	}
	end := events.SessionEnded{Cause: why.Cause, Condition: why.Condition, Detail: why.Detail}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommandTimeout)
	defer cancel()
	err := s.actors.do(ctx, x.bare, func(ctx context.Context) error { return s.endSession(ctx, x, end) })
	if err != nil {
		s.log.Error("im: record session end", "jid", x.full.String(), "err", err)
	}
	if s.stopping.Load() {
		s.actors.drain(ctx)
	}
}

// endSession records x's end, once, and forgets it; end says why (its
// Resource is x's). It runs on x's account's actor.
func (s *Core) endSession(ctx context.Context, x *session, end events.SessionEnded) error {
	if !s.reg.MarkEnded(x) {
		return nil
	}
	defer s.reg.Remove(x)
	s.setCarbons(x, false)
	end.Resource = x.resource
	meta := s.sessionMeta(x, "")
	if err := s.recordEnd(ctx, x.bare, end, meta); err != nil {
		// Not forgotten (ends.go): recorded once the store takes writes.
		s.ends.add(x.sess.ID(), pendingEnd{bare: x.bare, end: end, meta: meta})
		return err
	}
	return nil
}

// recordEnd decides and records the end of bare's resource end.Resource
// (also for sessions lost by a killed process) and broadcasts what it
// implies.
func (s *Core) recordEnd(ctx context.Context, bare string, end events.SessionEnded, meta events.Meta) error {
	d, err := s.execute(ctx, bare, events.PresenceStream(bare), &meta, func(a *domain.Account, p *domain.PresenceView) (domain.Decision, error) {
		return domain.DecideSessionEnd(a, p, end), nil
	})
	if err != nil {
		return err
	}
	s.perform(ctx, bare, meta, d.Effects)
	return nil
}

// sessionMeta is the provenance of an event caused by x: the full JID,
// session, client address and, if any, the stanza's id.
func (s *Core) sessionMeta(x *session, stanzaID string) events.Meta {
	return events.Meta{
		Actor: x.fullStr, SessionID: x.sess.ID(), ClientAddr: x.origin.Load().Addr,
		StanzaID: stanzaID, CorrelationID: NewCorrelationID(), Node: s.cfg.Node,
	}
}

// messageMeta is sessionMeta without a correlation id, which costs a
// random UUID per message: a message to a live session writes no event,
// and the append of one that does (offline storage) makes the id then.
func (s *Core) messageMeta(x *session, stanzaID string) events.Meta {
	return events.Meta{
		Actor: x.fullStr, SessionID: x.sess.ID(), ClientAddr: x.origin.Load().Addr,
		StanzaID: stanzaID, Node: s.cfg.Node,
	}
}

// serverMeta is the provenance of what the server does on its own.
func (s *Core) serverMeta() events.Meta {
	return events.Meta{Actor: "server:" + s.cfg.Node, CorrelationID: NewCorrelationID(), Node: s.cfg.Node}
}

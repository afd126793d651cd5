package im

import (
	"context"
	"time"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/router"
)

// XEP-0198 section 5. A suspended session stays in the registry, bound and
// available: what is routed to it waits in its transport for the client
// to resume, and if it never does, the transport hands every stanza not
// acknowledged back through its receipts once the session has ended
// (delivery.go), so they go to the account's other resources or offline
// storage, as the XEP's section 4 asks. The core only records the two
// transitions, so that replay and audit show them.

// Suspended records session.suspended.
func (s *Core) Suspended(sess router.Session, why router.End, unacked int, within time.Duration) {
	x := s.reg.Get(sess.ID())
	if x == nil {
		return
	}
	s.recordSessionEvent(x, func() events.Payload {
		return events.SessionSuspended{Resource: x.resource, Cause: why.Cause, Detail: why.Detail,
			Unacked: unacked, ResumeWithinSeconds: int64(within / time.Second)}
	})
}

// Resumed records session.resumed with where the new connection comes
// from, which the session's later events carry too.
func (s *Core) Resumed(sess router.Session, resent int) {
	x := s.reg.Get(sess.ID())
	if x == nil {
		return
	}
	o := sess.Origin()
	x.origin.Store(&o)
	s.recordSessionEvent(x, func() events.Payload {
		return events.SessionResumed{Resource: x.resource, ClientAddr: o.Addr, TLS: o.TLS, Mechanism: o.Mechanism, Resent: resent}
	})
}

// recordSessionEvent appends the event ev makes to x's presence stream, on
// x's account's actor (in order with the session's other events), unless
// x's end was recorded first.
func (s *Core) recordSessionEvent(x *session, ev func() events.Payload) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommandTimeout)
	defer cancel()
	err := s.actors.do(ctx, x.bare, func(ctx context.Context) error {
		if s.reg.IsEnded(x) {
			return nil
		}
		meta := s.sessionMeta(x, "")
		p := ev()
		_, err := s.execute(ctx, x.bare, events.PresenceStream(x.bare), &meta, func(*domain.Account, *domain.PresenceView) (domain.Decision, error) {
			return domain.Decision{Events: []events.Payload{p}}, nil
		})
		return err
	})
	if err != nil {
		s.log.Error("im: record session transition", "jid", x.fullStr, "err", err)
	}
}

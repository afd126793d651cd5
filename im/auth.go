package im

import (
	"context"
	"net"
	"time"

	"xmppd/events"
	"xmppd/router"
)

// AuthFailed records a failed login (DESIGN.md, Security: "failed logins
// throttled per address and account and recorded") as session.auth_failed
// in server-<domain>. Not in the account's streams: the username is
// whatever the client sent, and a stream per guessed name would let anyone
// create streams at will. The throttle's decision (delayed, refused) is
// part of the record. c2s calls it from the connection's goroutine.
//
// Attempts the throttle refused are answered at once, so an address can
// make them as fast as it opens connections: of those, only an address's
// first in each RefusalLogConfig.Interval is recorded whole, and the rest
// are counted into session.auth_refusals_summarised (authrefusals.go).
func (s *Core) AuthFailed(ctx context.Context, f router.AuthFailure) {
	decision := f.Throttle
	if decision == "" {
		decision = events.ThrottleNone
	}
	if decision == events.ThrottleRefused {
		whole, sum := s.refusals.refused(f.AddrKey, s.now())
		if sum != nil {
			s.recordRefusals(ctx, *sum)
		}
		if !whole {
			return
		}
	}
	meta := events.Meta{Actor: "server:" + s.cfg.Node, ClientAddr: f.Addr, CorrelationID: NewCorrelationID(), Node: s.cfg.Node}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommandTimeout)
	defer cancel()
	p := events.AuthFailed{Username: f.Username, Mechanism: f.Mechanism, ClientAddr: f.Addr, Condition: f.Condition,
		Throttle: decision, DelayMillis: f.Delay.Milliseconds()}
	if _, err := s.append(ctx, events.ServerStream(s.cfg.Domain), events.Any, meta, []events.Payload{p}); err != nil {
		s.log.Error("im: record failed login", "addr", f.Addr, "err", err)
	}
}

// hostOf is the IP address of an ip:port (the address itself when it has
// no port).
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// recordRefusals appends one summary of refused logins; the log refusing
// it, its count goes back to the book, for the next summary.
func (s *Core) recordRefusals(ctx context.Context, sum events.AuthRefusalsSummarised) {
	meta := events.Meta{Actor: "server:" + s.cfg.Node, CorrelationID: NewCorrelationID(), Node: s.cfg.Node}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommandTimeout)
	defer cancel()
	if _, err := s.append(ctx, events.ServerStream(s.cfg.Domain), events.Any, meta, []events.Payload{sum}); err != nil {
		s.refusals.restore(sum)
		s.log.Error("im: record refused logins; they are counted into the next summary", "addr", sum.ClientAddr, "count", sum.Count, "err", err)
	}
}

// summariseRefusals records, every quarter Interval until ctx ends, the
// summaries whose Interval has passed: an address that stops trying
// still has its last refusals recorded.
func (s *Core) summariseRefusals(ctx context.Context) {
	t := time.NewTicker(max(s.refusals.cfg.Interval/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, sum := range s.refusals.due(s.now(), false) {
				s.recordRefusals(ctx, sum)
			}
		}
	}
}

// flushRefusals records every pending summary, due or not: at shutdown,
// once no client can fail a login any more.
func (s *Core) flushRefusals(ctx context.Context) {
	for _, sum := range s.refusals.due(s.now(), true) {
		s.recordRefusals(ctx, sum)
	}
}

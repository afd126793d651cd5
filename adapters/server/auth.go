package server

import (
	"context"

	"xmppd/adapters/c2s"
	"xmppd/events"
)

// AuthFailed records a failed login (DESIGN.md, Security: "failed logins
// throttled per address and account and recorded") as session.auth_failed
// in server-<domain>. Not in the account's streams: the username is
// whatever the client sent, and a stream per guessed name would let anyone
// create streams at will. The throttle's decision (delayed, refused) is
// part of the record. c2s calls it from the connection's goroutine.
func (s *Server) AuthFailed(ctx context.Context, f c2s.AuthFailure) {
	meta := events.Meta{Actor: "server:" + s.cfg.Node, ClientAddr: f.Addr, CorrelationID: newID(), Node: s.cfg.Node}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommandTimeout)
	defer cancel()
	decision := f.Throttle
	if decision == "" {
		decision = events.ThrottleNone
	}
	p := events.AuthFailed{Username: f.Username, Mechanism: f.Mechanism, ClientAddr: f.Addr, Condition: f.Condition,
		Throttle: decision, DelayMillis: f.Delay.Milliseconds()}
	if _, err := s.append(ctx, events.ServerStream(s.cfg.Domain), events.Any, meta, []events.Payload{p}); err != nil {
		s.log.Error("server: record failed login", "addr", f.Addr, "err", err)
	}
}

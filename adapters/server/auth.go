package server

import (
	"context"

	"xmppd/events"
)

// AuthFailed records a failed login (DESIGN.md, Security: "failed logins
// throttled per address and account and recorded") as session.auth_failed
// in server-<domain>. Not in the account's streams: the username is
// whatever the client sent, and a stream per guessed name would let anyone
// create streams at will. c2s calls it from the connection's goroutine.
func (s *Server) AuthFailed(ctx context.Context, username, mechanism, addr, condition string) {
	meta := events.Meta{Actor: "server:" + s.cfg.Node, ClientAddr: addr, CorrelationID: newID(), Node: s.cfg.Node}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommandTimeout)
	defer cancel()
	p := events.AuthFailed{Username: username, Mechanism: mechanism, ClientAddr: addr, Condition: condition}
	if _, err := s.append(ctx, events.ServerStream(s.cfg.Domain), events.Any, meta, []events.Payload{p}); err != nil {
		s.log.Error("server: record failed login", "addr", addr, "err", err)
	}
}

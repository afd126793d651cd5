package c2s_test

import (
	"context"
	"testing"
	"time"
	"xmppd/router"

	"xmppd/adapters/c2s"
	"xmppd/events"
)

// TestEndedSaysWhy: the core hears why each session ended, in the terms
// of session.ended schema 2: a cause, and the RFC 6120 section 4.9.3
// condition sent (or, when the client closed, received). Conflict, stream
// errors, Close and the slow reader have their own tests.
func TestEndedSaysWhy(t *testing.T) {
	cases := []struct {
		name   string
		cfg    func(*c2s.Config, *c2s.Deps)
		act    func(t *testing.T, ts *testServer, c *rawClient)
		cause  events.SessionEndCause
		cond   string
		detail bool // Detail is not empty
	}{
		{"client closes its stream (4.4)", nil, func(_ *testing.T, _ *testServer, c *rawClient) {
			c.send(`</stream:stream>`)
		}, events.EndClientClosed, "", false},
		{"client sends a stream error (4.9)", nil, func(_ *testing.T, _ *testServer, c *rawClient) {
			c.send(`<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`)
		}, events.EndClientClosed, "policy-violation", true},
		{"connection dropped without </stream:stream>", nil, func(_ *testing.T, _ *testServer, c *rawClient) {
			c.conn.Close()
		}, events.EndConnectionLost, "", true},
		{"silent past the read timeout (4.9.3.4)", func(cfg *c2s.Config, _ *c2s.Deps) { cfg.ReadTimeout = 100 * time.Millisecond },
			func(_ *testing.T, _ *testServer, c *rawClient) { c.expectStreamError("connection-timeout") },
			events.EndTimeout, "connection-timeout", false},
		{"server shutdown (4.9.3.19)", nil, func(t *testing.T, ts *testServer, c *rawClient) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			go ts.srv.Shutdown(ctx)
			c.expectStreamError("system-shutdown")
		}, events.EndShutdown, "system-shutdown", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.cfg)
			c, _, full := login(t, ts, "alice", "secret", "")
			sess := ts.core.session(full)
			tc.act(t, ts, c)
			var got router.End
			waitFor(t, "Ended", func() bool {
				var ok bool
				got, ok = ts.core.endedReason(sess.ID())
				return ok
			})
			if got.Cause != tc.cause || got.Condition != tc.cond || (got.Detail != "") != tc.detail {
				t.Errorf("ended %+v, want cause %s condition %q (detail: %v)", got, tc.cause, tc.cond, tc.detail)
			}
		})
	}
}

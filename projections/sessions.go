package projections

import (
	"time"

	"xmppd/events"
)

// Session is one open c2s session as the presence stream records it: from
// its session.started to its session.ended. A session still open when its
// process died stays open here; at start-up the server finds those of its
// node (OpenSessionsOnNode) and records their end.
type Session struct {
	JID        string    `json:"jid"` // bare
	Resource   string    `json:"resource"`
	SessionID  string    `json:"session"`
	Node       string    `json:"node"`
	ClientAddr string    `json:"addr"`
	TLS        string    `json:"tls,omitempty"`
	Mechanism  string    `json:"mechanism,omitempty"`
	Started    time.Time `json:"started"`
	// Suspended is when the session lost its connection while resumable
	// (session.suspended, XEP-0198); nil while it has one.
	Suspended *time.Time `json:"suspended,omitempty"`
}

// foldSession applies a session event of s's presence stream, decoded
// into p. Called with s.mu held for writing.
func (s *accountState) foldSession(e *events.Envelope, p events.Payload) {
	switch p := p.(type) {
	case events.SessionStarted:
		// A resource is bound once at a time (RFC 6120 7.7.2.2 conflict
		// ends the old session first); a second start replaces the first.
		s.sessions[p.Resource] = Session{
			JID: s.bare, Resource: p.Resource, SessionID: e.SessionID, Node: p.Node,
			ClientAddr: p.ClientAddr, TLS: p.TLS, Mechanism: p.Mechanism, Started: e.Recorded,
		}
	case events.SessionEnded:
		delete(s.sessions, p.Resource)
	case events.SessionSuspended:
		if x, ok := s.sessions[p.Resource]; ok {
			at := e.Recorded
			x.Suspended = &at
			s.sessions[p.Resource] = x
		}
	case events.SessionResumed:
		// On a new connection, perhaps from another network.
		if x, ok := s.sessions[p.Resource]; ok {
			x.Suspended = nil
			x.ClientAddr, x.TLS, x.Mechanism = p.ClientAddr, p.TLS, p.Mechanism
			s.sessions[p.Resource] = x
		}
	}
}

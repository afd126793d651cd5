package c2s

import (
	"context"
	"time"

	"xmppd/events"
)

// Core is the server's IM logic, which c2s hands bound sessions and their
// stanzas to.
//
// Contract:
//   - Bound is called once per session, from its reader goroutine, after
//     the resource is chosen and before the client learns it. Return a
//     stanza.Error to refuse the resource (e.g. <conflict/>, RFC 6120
//     section 7.7.2.2); any other error refuses with internal-server-error.
//     To replace an older session with the same full JID (RFC 6120 section
//     7.7.2.2, "terminate the existing session"), call
//     old.CloseWithError(stream.Conflict) and return nil.
//   - Stanza is called from the session's reader goroutine for every
//     stanza in order, after c2s stamped 'from' and checked 'to'. The
//     reader reads nothing more until Stanza returns, so Stanza must not
//     block for long: hand the work to the account's serial queue and
//     return. It must not keep st.El after returning unless it owns it:
//     c2s does not touch it again, so keeping it is allowed.
//   - Ended is called exactly once for every session Bound accepted, when
//     the session ends for any reason (client close, error, server
//     shutdown), from the session's reader goroutine or, on shutdown, from
//     the goroutine calling Server.Shutdown, before any session gets its
//     <system-shutdown/>, so the core can still broadcast unavailable
//     presence to the others. After a stream error Ended can come up to a
//     couple of seconds late (the client is given time to close its side),
//     i.e. after a replacing session with the same full JID was bound:
//     key sessions by ID, not by JID. end says why, for session.ended.
type Core interface {
	Bound(ctx context.Context, s *Session) error
	Stanza(ctx context.Context, s *Session, st Stanza)
	Ended(s *Session, end End)
}

// End is why a session ended, in the terms of session.ended (schema 2).
// When closing began for one reason (a stream error, Close, Shutdown) and
// the connection then ended otherwise, the first reason is reported.
type End struct {
	Cause events.SessionEndCause
	// Condition is the RFC 6120 section 4.9.3 stream error condition sent
	// (or, for events.EndClientClosed, received); empty if none.
	Condition string
	// Detail is for people: the stream error's text or the network error.
	Detail string
}

// Credentials looks up an account's stored SCRAM keys by its username,
// already through PRECIS UsernameCaseMapped. ok is false for no account.
type Credentials interface {
	Credentials(ctx context.Context, username string) (set events.CredentialsSet, ok bool, err error)
}

// AuthObserver hears of every failed authentication, for the event log.
// It is called from the connection's goroutine and must not block long.
type AuthObserver interface {
	AuthFailed(ctx context.Context, f AuthFailure)
}

// AuthFailure is one failed SASL exchange.
type AuthFailure struct {
	Username  string // as the client sent it, truncated; "" if none
	Mechanism string // as the client named it, truncated
	Addr      string // the client's ip:port
	Condition string // the SASL failure condition sent (e.g. "not-authorized")
	// Throttle is what the failed-login throttle decided, and Delay how
	// long the answer was held back.
	Throttle events.ThrottleDecision
	Delay    time.Duration
}

// Throttle decides how an authentication attempt is answered and learns
// the outcome of each. addr is the client's IP address (no port);
// username is "" when not yet known. Check may be called twice for one
// attempt (before and after the name is known). Safe for concurrent use.
type Throttle interface {
	Check(addr, username string) ThrottleVerdict
	Record(addr, username string, ok bool)
}

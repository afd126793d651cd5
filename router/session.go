package router

import (
	"context"
	"time"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppd/events"
	"xmppd/stanza"
)

// Session is one bound client session, as a transport offers it to the
// core. Implementations are safe for concurrent use.
type Session interface {
	// ID is a random identifier of the session, for the event log.
	ID() string
	// JID is the session's full JID (localpart@domain/resource).
	JID() jid.JID
	// Origin says where the session comes from, for session.started.
	Origin() Origin
	// Send queues el for the client without blocking (el may be reused
	// once Send returns). It fails once the session is closing.
	Send(el *stanza.Element) error
	// SendReceipt is Send, and r (if not nil) learns whether el was
	// written: every stanza is then either written or handed back. When
	// SendReceipt returns an error, r has already heard false.
	SendReceipt(el *stanza.Element, r Receipt) error
	// CloseWithError ends the stream with e (RFC 6120 section 4.9) after
	// what is already queued.
	CloseWithError(e stream.Error)
	// Closing reports whether closing has begun: from then on nothing more
	// is written but what was queued before.
	Closing() bool
	// ClosingBegun is closed when closing begins, for a wait that must end
	// when the session goes away.
	ClosingBegun() <-chan struct{}
}

// Acknowledging is what a Session may also offer (found by type
// assertion) when its client acknowledges what it receives (XEP-0198
// stream management): a Receipt then hears Written(true) only once the
// client acknowledged the stanza, not when it was written.
type Acknowledging interface {
	// AcksReceipts reports whether receipts now wait for the client's
	// acknowledgement.
	AcksReceipts() bool
	// LinkLost is closed when the session's current connection is lost
	// (the session is suspended, waiting to be resumed) or closing
	// begins: a wait for acknowledgements ends there.
	LinkLost() <-chan struct{}
}

// Origin is where a session comes from, as session.started records it.
type Origin struct {
	Addr      string // the client's ip:port
	TLS       string // e.g. "TLS 1.3 TLS_AES_128_GCM_SHA256"; "" without TLS
	Mechanism string // the SASL mechanism the client authenticated with
}

// Receipt learns what became of one stanza given to SendReceipt: exactly
// one call of Written, with true once its bytes were all handed to the
// connection, or false once they never will be (the session was closing
// already, its queue overflowed, a write failed or timed out). Without
// stream management (XEP-0198) "written" is the most a server knows: it
// is what delivery means for the core's accounting. Written is called
// with none of the session's locks held, from the transport's writer or
// from SendReceipt's caller before SendReceipt returns; it must not block.
type Receipt interface {
	Written(ok bool)
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

// Core is the IM core, which a transport hands bound sessions and their
// stanzas to.
//
// Contract:
//   - Bound is called once per session, from its reader goroutine, after
//     the resource is chosen and before the client learns it. Return a
//     stanza.Error to refuse the resource (e.g. <conflict/>, RFC 6120
//     section 7.7.2.2); any other error refuses with internal-server-error.
//     To replace an older session with the same full JID (RFC 6120 section
//     7.7.2.2, "terminate the existing session"), the core calls
//     old.CloseWithError(stream.Conflict) and returns nil.
//   - Stanza is called from the session's reader goroutine for every
//     stanza in order, after the transport stamped 'from' and checked
//     'to'. The reader reads nothing more until Stanza returns, so Stanza
//     must not block for long: hand the work to the account's serial queue
//     and return. The transport does not touch st.El again.
//   - Ended is called exactly once for every session Bound accepted, when
//     the session ends for any reason (client close, error, server
//     shutdown), from the session's reader goroutine or, on shutdown, from
//     the goroutine shutting the transport down, before any session gets
//     its <system-shutdown/>, so the core can still broadcast unavailable
//     presence to the others. After a stream error Ended can come up to a
//     couple of seconds late (the client is given time to close its side),
//     i.e. after a replacing session with the same full JID was bound:
//     key sessions by ID, not by JID.
//   - Suspended and Resumed (XEP-0198 section 5) are called for a session
//     whose client enabled stream resumption: Suspended when its
//     connection was lost (why says how, as End would have), after which
//     the session stays bound and keeps accepting stanzas, which wait for
//     the client; Resumed when the client took it up again on a new
//     connection, whose Origin the session now reports. A suspended session
//     that is not resumed in time ends with Ended (cause
//     events.EndResumptionExpired). Neither is called after Ended.
type Core interface {
	Bound(ctx context.Context, s Session) error
	Stanza(ctx context.Context, s Session, st stanza.Stanza)
	Ended(s Session, end End)
	Suspended(s Session, why End, unacked int, resumeWithin time.Duration)
	Resumed(s Session, resent int)
}

// Reporting is a Core that tells a transport when each stanza it was
// handed has met its fate durably: a message archived and delivered,
// stored offline or bounced; a command's events committed. XEP-0198
// acknowledges a client's stanza only then (section 4, 'h'), so that a
// crash after the acknowledgement cannot lose it.
//
// StanzaThen is Stanza, and calls handled exactly once, from any
// goroutine, when st's fate is durable (or st was dropped: its session
// ended first). A transport that needs no report calls Stanza.
type Reporting interface {
	StanzaThen(ctx context.Context, s Session, st stanza.Stanza, handled func())
}

// AuthObserver hears of every failed authentication, for the event log.
// A transport calls it from the connection's goroutine and must not block long.
type AuthObserver interface {
	AuthFailed(ctx context.Context, f AuthFailure)
}

// AuthFailure is one failed SASL exchange.
type AuthFailure struct {
	Username  string // as the client sent it, truncated; "" if none
	Mechanism string // as the client named it, truncated
	Addr      string // the client's ip:port
	// AddrKey is the client's address as the throttle counts it (IPv4 as
	// is, IPv6 by its /64), for books kept about refused addresses.
	AddrKey   string
	Condition string // the SASL failure condition sent (e.g. "not-authorized")
	// Throttle is what the failed-login throttle decided, and Delay how
	// long the answer was held back.
	Throttle events.ThrottleDecision
	Delay    time.Duration
}

// Registrar creates accounts for XEP-0077 in-band registration, which a
// transport offers before authentication only when it has one.
// Register returns a stanza.Error to refuse (e.g. <conflict/> when the
// username is taken, <not-acceptable/> for a username the server will
// not take); any other error is the server's own failure.
type Registrar interface {
	Register(ctx context.Context, username, password string, from Origin) error
}

package c2s

import (
	"encoding/xml"
	"errors"
	"io"
	"net"
	"os"
	"xmppd/router"

	"mellium.im/xmpp/stream"

	"xmppd/events"
	"xmppd/stanza"
)

// Errors returned by Session.Send.
var (
	// ErrClosed: the session is closing or closed; nothing more is sent.
	ErrClosed = errors.New("c2s: session closed")
	// ErrQueueFull: the client reads too slowly; the stanza was dropped and
	// the session is being closed with <resource-constraint/>.
	ErrQueueFull = errors.New("c2s: output queue full")
)

// errClientClosed: the client sent </stream:stream> (RFC 6120 section 4.4).
var errClientClosed = errors.New("c2s: client closed the stream")

// peerStreamError: the client sent a <stream:error/> and is going away.
type peerStreamError struct{ cond string }

func (e peerStreamError) Error() string { return "c2s: client stream error: " + e.cond }

// withText returns e with one human-readable text.
func withText(e stream.Error, text string) stream.Error {
	e.Text = []struct {
		Lang  string
		Value string
	}{{Lang: "en", Value: text}}
	return e
}

// streamErrorFor maps what ended a read to the stream error to send, and
// reports false when none is due (the client left or the network failed).
// This is the one place where decoder and network errors are translated.
func streamErrorFor(err error) (stream.Error, bool) {
	var se stream.Error
	var syn *xml.SyntaxError
	var nerr net.Error
	switch {
	case errors.As(err, &se):
		return se, true
	case errors.As(err, new(handledTooHigh)):
		var e handledTooHigh
		errors.As(err, &e)
		se, _ := e.streamError()
		return se, true
	case errors.Is(err, errClientClosed), errors.As(err, new(peerStreamError)), errors.As(err, new(quietError)):
		return stream.Error{}, false
	case errors.Is(err, errTooBig):
		// RFC 6120 section 4.9.3.14 and 13.12 item 4.
		return withText(stream.PolicyViolation, "stanza too large"), true
	case errors.Is(err, errFlood):
		// RFC 6120 section 4.9.3.14: a local service policy, the stanza rate.
		return withText(stream.PolicyViolation, "too many stanzas for too long: over the server's stanza rate"), true
	case errors.Is(err, stanza.ErrTooDeep), errors.Is(err, stanza.ErrTooMany):
		return withText(stream.PolicyViolation, "stanza too complex"), true
	case errors.Is(err, stanza.ErrRestricted):
		// RFC 6120 section 4.9.3.18 and 11.1.
		return stream.RestrictedXML, true
	case errors.Is(err, stanza.ErrBadName), errors.Is(err, stanza.ErrDuplicateAttr):
		return stream.NotWellFormed, true
	case errors.Is(err, stanza.ErrUnboundPrefix):
		// RFC 6120 sections 11.3 item 4 and 4.9.3.13: not
		// namespace-well-formed, so neither routed nor delivered.
		return withText(stream.NotWellFormed, "undeclared namespace prefix"), true
	case errors.Is(err, errUnsupportedEncoding):
		// RFC 6120 sections 11.6 and 4.9.3.22.
		return withText(stream.UnsupportedEncoding, "only UTF-8 is supported"), true
	case errors.As(err, &syn) && syn.Msg == "invalid UTF-8":
		// RFC 6120 section 4.9.3.22: "improperly encoded the stream (e.g.,
		// by violating the rules of the [UTF-8] encoding)".
		return withText(stream.UnsupportedEncoding, "invalid UTF-8"), true
	case errors.As(err, &syn):
		// RFC 6120 section 4.9.3.13.
		return stream.NotWellFormed, true
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		// RFC 6120 section 4.9.3.4.
		return stream.ConnectionTimeout, true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return stream.Error{}, false
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return stream.Error{}, false
	}
	return stream.InternalServerError, true
}

// sentEnd is why a session ends when the server sends it e.
func sentEnd(e stream.Error) router.End {
	why := router.End{Cause: events.EndStreamError, Condition: e.Err}
	switch e.Err {
	case stream.Conflict.Err:
		why.Cause = events.EndConflict
	case stream.ConnectionTimeout.Err:
		why.Cause = events.EndTimeout
	case stream.SystemShutdown.Err:
		why.Cause = events.EndShutdown
	}
	for _, t := range e.Text {
		why.Detail = t.Value
	}
	return why
}

// readEnd is why a session ends when its read ended with err and
// streamErrorFor found no stream error due: the client closed its stream,
// with </stream:stream> or a stream error of its own, or the connection
// is gone.
func readEnd(err error) router.End {
	var pe peerStreamError
	switch {
	case errors.Is(err, errClientClosed):
		return router.End{Cause: events.EndClientClosed}
	case errors.As(err, &pe):
		return router.End{Cause: events.EndClientClosed, Condition: pe.cond, Detail: "the client sent a stream error"}
	}
	why := router.End{Cause: events.EndConnectionLost}
	if err != nil {
		why.Detail = err.Error()
	}
	return why
}

// writeEnd is why a session ends when writing to it failed with err.
func writeEnd(err error) router.End {
	return router.End{Cause: events.EndConnectionLost, Detail: "write failed: " + err.Error()}
}

// quietError ends a connection without a stream error, when none can be
// delivered (a failed TLS handshake leaves no channel to write it on).
type quietError struct{ err error }

func (e quietError) Error() string { return e.err.Error() }
func (e quietError) Unwrap() error { return e.err }

package domain

import (
	"errors"
	"fmt"
)

// ErrorKind classifies a domain error so the core can map it to one
// stanza error condition (RFC 6120 8.3.3) in one place.
type ErrorKind int

const (
	// Internal is a broken invariant: internal-server-error.
	Internal ErrorKind = iota
	// BadRequest is a malformed request: bad-request.
	BadRequest
	// NotAcceptable is a request the server will not accept as given
	// (too long, empty): not-acceptable.
	NotAcceptable
	// NotAllowed is a request no entity may make here: not-allowed.
	NotAllowed
	// Forbidden is a request this sender may not make: forbidden.
	Forbidden
	// ItemNotFound names something the requester may know is missing
	// (its own roster item): item-not-found.
	ItemNotFound
	// ServiceUnavailable hides information the requester may not see
	// (whether an account exists, whether a resource is online): never
	// use ItemNotFound for that.
	ServiceUnavailable
	// JIDMalformed is an address that is not a valid JID (RFC 7622):
	// jid-malformed.
	JIDMalformed
	// PolicyViolation is a request over a quota the operator set (the
	// roster's size): policy-violation, type modify (RFC 6120 8.3.3.12:
	// "violated some local service policy"). The requester can fix it
	// (remove an item first); waiting alone does not help, so it is not
	// resource-constraint.
	PolicyViolation
	// Conflict is a request that clashes with what exists (an account
	// created twice): conflict (RFC 6120 8.3.3.2).
	Conflict
	// NotAuthorized is a request the sender may make only with some
	// credential it lacks, such as a presence subscription to a PEP
	// node's owner (XEP-0060 6.5.9.4): not-authorized.
	NotAuthorized
)

var kindNames = [...]string{"internal", "bad-request", "not-acceptable", "not-allowed", "forbidden", "item-not-found", "service-unavailable", "jid-malformed", "policy-violation", "conflict", "not-authorized"}

// String returns the RFC 6120 condition name the kind maps to.
func (k ErrorKind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Error is a domain decision's refusal: the operation, its kind and a
// human-readable reason (which the adapter may put in the stanza error's
// <text/>; it never names information the requester may not see).
type Error struct {
	Op     string // "roster set", "outbound subscribe", ...
	Kind   ErrorKind
	Reason string
	Err    error // an underlying cause, such as a JID parse error; may be nil
	// App is an application-specific condition (RFC 6120 8.3.2) of
	// XEP-0060 section 14 (namespace pubsub#errors), such as
	// "precondition-not-met"; empty for none.
	App string
}

func (e *Error) Error() string {
	s := "domain: " + e.Op + ": " + e.Kind.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func newError(op string, k ErrorKind, reason string) *Error {
	return &Error{Op: op, Kind: k, Reason: reason}
}

// KindOf returns the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

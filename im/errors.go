package im

import (
	"errors"

	"xmppd/domain"
	"xmppd/stanza"
)

// condition maps an error to the stanza error returned to the requester
// (RFC 6120 8.3.3); a stanza.Error is returned as it is. This is the one place domain Kinds become conditions;
// information the requester may not see is service-unavailable (STYLE.md),
// and anything that is not a domain refusal is internal-server-error.
func condition(err error) stanza.Error {
	var se stanza.Error
	if errors.As(err, &se) {
		return se
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		return stanza.Error{Type: stanza.Wait, Condition: stanza.InternalServerError}
	}
	switch de.Kind {
	case domain.BadRequest:
		return stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}
	case domain.NotAcceptable:
		return stanza.Error{Type: stanza.Modify, Condition: stanza.NotAcceptable}
	case domain.NotAllowed:
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAllowed}
	case domain.Forbidden:
		return stanza.Error{Type: stanza.Auth, Condition: stanza.Forbidden}
	case domain.ItemNotFound:
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound}
	case domain.ServiceUnavailable:
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}
	case domain.JIDMalformed:
		return stanza.Error{Type: stanza.Modify, Condition: stanza.JIDMalformed}
	case domain.Conflict:
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.Conflict}
	case domain.NotAuthorized:
		return stanza.Error{Type: stanza.Auth, Condition: stanza.NotAuthorized}
	case domain.PolicyViolation:
		// RFC 6120 8.3.3.12: "modify or wait depending on the policy"; a
		// full roster is fixed by removing an item, not by waiting.
		return stanza.Error{Type: stanza.Modify, Condition: stanza.PolicyViolation}
	}
	return stanza.Error{Type: stanza.Wait, Condition: stanza.InternalServerError}
}

// Conditions the core sends without a domain error.
var (
	errServiceUnavailable = stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}
	// RFC 6120 8.3.3.15: there is no server-to-server connection yet, so
	// every other domain is unreachable.
	errRemoteServerNotFound = stanza.Error{Type: stanza.Cancel, Condition: stanza.RemoteServerNotFound}
	errBadRequest           = stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}
	// RFC 6120 7.6.2.1: "If the account has reached a limit on the number
	// of simultaneous connected resources allowed, the server MUST return
	// a <resource-constraint/> stanza error".
	errTooManyResources = stanza.Error{Type: stanza.Wait, Condition: stanza.ResourceConstraint}
)

// errorReply is the error stanza answering req (RFC 6120 8.3.1): same
// kind and id, type='error', from the address req was sent to, to its
// sender, with the original payload left out. A request with no 'to' was
// handled on the account's behalf and the reply has no 'from' (as in the
// examples of RFC 6121 2.1.3 and 2.3.3). It returns nil for a request that
// is itself an error: an error is never answered with an error.
func errorReply(req *stanza.Element, e stanza.Error) *stanza.Element {
	if req.Attr("type") == "error" {
		return nil
	}
	reply := stanza.New(stanza.NSClient, req.Name.Local, "type", "error")
	if id, ok := req.LookupAttr("id"); ok {
		reply.SetAttr("id", id)
	}
	if to := req.Attr("to"); to != "" {
		reply.SetAttr("from", to)
	}
	if f := req.Attr("from"); f != "" {
		reply.SetAttr("to", f)
	}
	errEl := stanza.New(stanza.NSClient, "error", "type", string(e.Type))
	errEl.AddChild(stanza.New(stanza.NSStanzas, string(e.Condition)))
	return reply.AddChild(errEl)
}

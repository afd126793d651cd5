package stanza

import (
	"encoding/xml"

	mstanza "mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"
)

// Error is a stanza error (RFC 6120 section 8.3): a type, a defined
// condition and optional texts by language. It is mellium's type, named
// here so that every tier speaks of stanza errors through this package.
type Error = mstanza.Error

// ErrorType is the 'type' of a stanza error (RFC 6120 section 8.3.2).
type ErrorType = mstanza.ErrorType

// Condition is a defined stanza error condition (RFC 6120 section 8.3.3).
type Condition = mstanza.Condition

// The error types of RFC 6120 section 8.3.2.
const (
	Auth     = mstanza.Auth
	Cancel   = mstanza.Cancel
	Continue = mstanza.Continue
	Modify   = mstanza.Modify
	Wait     = mstanza.Wait
)

// The defined conditions of RFC 6120 section 8.3.3 that xmppd sends.
const (
	BadRequest            = mstanza.BadRequest
	Conflict              = mstanza.Conflict
	FeatureNotImplemented = mstanza.FeatureNotImplemented
	Forbidden             = mstanza.Forbidden
	InternalServerError   = mstanza.InternalServerError
	ItemNotFound          = mstanza.ItemNotFound
	JIDMalformed          = mstanza.JIDMalformed
	NotAcceptable         = mstanza.NotAcceptable
	NotAllowed            = mstanza.NotAllowed
	NotAuthorized         = mstanza.NotAuthorized
	PolicyViolation       = mstanza.PolicyViolation
	RecipientUnavailable  = mstanza.RecipientUnavailable
	RemoteServerNotFound  = mstanza.RemoteServerNotFound
	ResourceConstraint    = mstanza.ResourceConstraint
	ServiceUnavailable    = mstanza.ServiceUnavailable
	UndefinedCondition    = mstanza.UndefinedCondition
	UnexpectedRequest     = mstanza.UnexpectedRequest
)

// ErrorReply is the error stanza answering req (RFC 6120 section 8.3.1):
// the same kind and id, type='error', from the address given (none if
// from is ""), to req's sender, with e's condition and texts, and without
// req's payload. It returns nil when req is itself an error: an error is
// never answered with an error. This is the one place stanza errors are
// rendered.
func ErrorReply(req *Element, from string, e Error) *Element {
	if req.Attr("type") == "error" {
		return nil
	}
	reply := New(NSClient, req.Name.Local, "type", "error")
	if id, ok := req.LookupAttr("id"); ok {
		reply.SetAttr("id", id)
	}
	if from != "" {
		reply.SetAttr("from", from)
	}
	if to := req.Attr("from"); to != "" {
		reply.SetAttr("to", to)
	}
	errEl := New(NSClient, "error", "type", string(e.Type))
	errEl.AddChild(New(NSStanzas, string(e.Condition)))
	for lang, text := range e.Text {
		errEl.AddChild(textElement(NSStanzas, lang, text))
	}
	return reply.AddChild(errEl)
}

// StreamError is a <stream:error/> with e's condition and texts (RFC 6120
// section 4.9), written with the 'stream' prefix a stream header declares.
// This is the one place stream errors are rendered.
func StreamError(e stream.Error) []byte { return StreamErrorWith(e, nil) }

// StreamErrorWith is StreamError with an application-specific condition
// element (RFC 6120 section 4.9.4), if app is not nil.
func StreamErrorWith(e stream.Error, app *Element) []byte {
	b := append([]byte("<stream:error>"), New(NSStreamErrors, e.Err).AppendXML(nil, "")...)
	for _, t := range e.Text {
		b = textElement(NSStreamErrors, t.Lang, t.Value).AppendXML(b, "")
	}
	if app != nil {
		b = app.AppendXML(b, "")
	}
	return append(b, "</stream:error>"...)
}

// textElement is a <text/> in space, with xml:lang if lang is not "".
func textElement(space, lang, text string) *Element {
	t := New(space, "text").AddText(text)
	if lang != "" {
		t.Attrs = append(t.Attrs, xml.Attr{Name: xml.Name{Space: NSXML, Local: "lang"}, Value: lang})
	}
	return t
}

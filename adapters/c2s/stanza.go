package c2s

import (
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"

	"xmppd/adapters/xmlnode"
)

// Kind is the kind of a stanza: its element name.
type Kind string

// The three stanza kinds of RFC 6120 section 8.
const (
	KindMessage  Kind = "message"
	KindPresence Kind = "presence"
	KindIQ       Kind = "iq"
)

// Stanza is one stanza from a client, as handed to the Core.
type Stanza struct {
	// El is the stanza with 'from' set to the session's full JID and 'to'
	// (if any) in canonical form. The Core owns it.
	El   *xmlnode.Element
	Kind Kind
	Type string // the 'type' attribute, "" if absent
	ID   string // the 'id' attribute, "" if absent
	From jid.JID
	To   jid.JID // zero if the stanza has no 'to'
}

// handle checks one top-level element from the client and delivers it.
// A returned error ends the stream with it.
func (s *Session) handle(el *xmlnode.Element) error {
	var kind Kind
	switch el.Name.Local {
	case "message", "presence", "iq":
		kind = Kind(el.Name.Local)
		if el.Name.Space != nsClient {
			// RFC 6120 section 4.9.3.10: a stanza in a namespace other
			// than the stream's content namespace.
			return stream.InvalidNamespace
		}
	default:
		// RFC 6120 section 4.9.3.24.
		return stream.UnsupportedStanzaType
	}
	s.srv.metrics.StanzaIn(string(kind))

	// RFC 6120 section 8.1.2.1: the server stamps 'from' with the full
	// JID of the session, overriding whatever the client wrote.
	el.SetAttr("from", s.full)
	st := Stanza{El: el, Kind: kind, Type: el.Attr("type"), ID: el.Attr("id"), From: s.jid}

	if to, ok := el.LookupAttr("to"); ok {
		if to == "" {
			el.RemoveAttr("to")
		} else {
			a, err := ParseAddress(to)
			if err != nil {
				// RFC 6120 section 8.3.3.8.
				s.replyError(st, stanza.Error{Type: stanza.Modify, Condition: stanza.JIDMalformed})
				return nil
			}
			el.SetAttr("to", a.Full)
			st.To = a.JID
		}
	}
	if kind == KindIQ && !validIQ(el) {
		// RFC 6120 section 8.2.3: an id, a type, and for get and set
		// exactly one payload element.
		s.replyError(st, stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest})
		return nil
	}
	if s.serverIQ(st) {
		return nil
	}
	s.srv.core.Stanza(s.c.ctx, s, st)
	return nil
}

func validIQ(el *xmlnode.Element) bool {
	if el.Attr("id") == "" {
		return false
	}
	switch el.Attr("type") {
	case "get", "set":
		return len(el.Elements()) == 1
	case "result", "error":
		return true
	}
	return false
}

// replyError answers st with a stanza error (RFC 6120 section 8.3), never
// answering an error with an error (section 8.3.1).
func (s *Session) replyError(st Stanza, e stanza.Error) {
	if st.Type == "error" {
		return
	}
	from := s.srv.cfg.Domain
	if !st.To.Equal(jid.JID{}) {
		from = st.To.String()
	}
	s.Send(stanzaError(st.El, from, s.full, e))
}

// toServer reports whether st is addressed to the server itself: no 'to'
// (the server answers for the account, RFC 6120 section 10.3) or the bare
// domain.
func (s *Session) toServer(st Stanza, allowEmpty bool) bool {
	if st.To.Equal(jid.JID{}) {
		return allowEmpty
	}
	return st.To.Localpart() == "" && st.To.Resourcepart() == "" && st.To.Domainpart() == s.srv.cfg.Domain
}

// result is an empty IQ result to st.
func (s *Session) result(st Stanza) *xmlnode.Element {
	r := xmlnode.New(nsClient, "iq", "type", "result", "id", st.ID)
	if !st.To.Equal(jid.JID{}) {
		r.SetAttr("from", st.To.String())
	}
	return r.SetAttr("to", s.full)
}

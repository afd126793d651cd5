package c2s

import (
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppd/domain"
	"xmppd/router"
	"xmppd/stanza"
)

// handle checks one top-level element from the client and delivers it.
// A returned error ends the stream with it.
func (s *Session) handle(el *stanza.Element) error {
	if s.csiNonza(el) {
		return nil
	}
	if ok, err := s.smNonza(el); ok {
		return err
	}
	var kind stanza.Kind
	switch el.Name.Local {
	case "message", "presence", "iq":
		kind = stanza.Kind(el.Name.Local)
		if el.Name.Space != stanza.NSClient {
			// RFC 6120 section 4.9.3.10: a stanza in a namespace other
			// than the stream's content namespace.
			return stream.InvalidNamespace
		}
	default:
		// RFC 6120 section 4.9.3.24.
		return stream.UnsupportedStanzaType
	}
	s.srv.metrics.StanzaIn(string(kind))
	// XEP-0198: counted as handled once its fate is durable
	// (sm_inbound.go): at once if c2s answers or refuses it here; when
	// the core says so if the core reports fates; else once the core
	// has it.
	handled := s.received()
	defer func() {
		if handled != nil {
			handled()
		}
	}()

	// RFC 6120 section 8.1.2.1: the server stamps 'from' with the full
	// JID of the session, overriding whatever the client wrote.
	el.SetAttr("from", s.full)
	st := stanza.Stanza{El: el, Kind: kind, Type: el.Attr("type"), ID: el.Attr("id"), From: s.jid}

	if to, ok := el.LookupAttr("to"); ok {
		if to == "" {
			el.RemoveAttr("to")
		} else {
			a, err := s.srv.addrs.Parse(to)
			if err != nil {
				// RFC 6120 section 8.3.3.8.
				s.replyError(st, stanza.Error{Type: stanza.Modify, Condition: stanza.JIDMalformed})
				return nil
			}
			el.SetAttr("to", a.Full)
			st.To = a.JID
		}
	}
	if kind == stanza.KindIQ && !validIQ(el) {
		// RFC 6120 section 8.2.3: an id, a type, and for get and set
		// exactly one payload element.
		s.replyError(st, stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest})
		return nil
	}
	if s.serverIQ(st) {
		return nil
	}
	if r, ok := s.srv.core.(router.Reporting); ok && handled != nil {
		r.StanzaThen(s.c.ctx, s, st, handled)
		handled = nil // the core calls it
		return nil
	}
	s.srv.core.Stanza(s.c.ctx, s, st)
	return nil
}

func validIQ(el *stanza.Element) bool {
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
func (s *Session) replyError(st stanza.Stanza, e stanza.Error) {
	if st.Type == "error" {
		return
	}
	from := s.srv.cfg.Domain
	if !st.To.Equal(jid.JID{}) {
		from = st.To.String()
	}
	if r := stanza.ErrorReply(st.El, from, e); r != nil {
		s.Send(r)
	}
}

// toServer reports whether st is addressed to the server itself: no 'to'
// (the server answers for the account, RFC 6120 section 10.3) or the bare
// domain.
func (s *Session) toServer(st stanza.Stanza, allowEmpty bool) bool {
	if st.To.Equal(jid.JID{}) {
		return allowEmpty
	}
	return domain.IsServer(st.To, s.srv.cfg.Domain)
}

// result is an empty IQ result to st.
func (s *Session) result(st stanza.Stanza) *stanza.Element {
	r := stanza.New(stanza.NSClient, "iq", "type", "result", "id", st.ID)
	if !st.To.Equal(jid.JID{}) {
		r.SetAttr("from", st.To.String())
	}
	return r.SetAttr("to", s.full)
}

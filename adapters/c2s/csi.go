package c2s

import "xmppd/stanza"

// XEP-0352 Client State Indication. A client that tells the server it is
// inactive (a phone with its screen off) gets no presence updates until
// it is active again: the server holds them, keeping only the newest from
// each full JID, and sends them on <active/> or just before anything else
// it writes to the client (a message, an IQ, a subscription request), so
// the order the client sees stays the order they were sent in (XEP-0352
// section 5.1). Nothing else is held back; nothing held is a stanza whose
// sender waits for it (presence carries no receipt).

// maxHeldPresences bounds what one inactive session holds: past it, what
// is held is sent, and holding starts again.
const maxHeldPresences = 512

// heldPresence is one presence stanza, encoded, from one full JID.
type heldPresence struct {
	from string
	b    []byte
}

// csiNonza handles <active/> and <inactive/> and reports whether el was
// one (section 4.2). Run on the reader, in order with the stanzas: an
// <active/> has flushed what was held before the next stanza is handled
// (section 5.1).
func (s *Session) csiNonza(el *stanza.Element) bool {
	if el.Name.Space != stanza.NSCSI || len(el.Children) != 0 {
		return false
	}
	switch el.Name.Local {
	case "inactive":
		s.mu.Lock()
		s.inactive = true
		s.csiInactive.Store(true)
		s.mu.Unlock()
	case "active":
		s.mu.Lock()
		s.inactive = false
		s.csiInactive.Store(false)
		s.mu.Unlock()
		s.flushHeld()
	default:
		return false
	}
	return true
}

// holdPresence keeps the encoded presence b of el while the session is
// inactive, in place of an earlier one from the same sender, and reports
// whether it did. Only presence that states availability is held
// (available or unavailable); subscription requests and answers, probes
// and errors are sent at once.
func (s *Session) holdPresence(el *stanza.Element, b []byte) bool {
	if el.Name.Local != "presence" {
		return false
	}
	if typ := el.Attr("type"); typ != "" && typ != "unavailable" {
		return false
	}
	from := el.Attr("from")
	s.mu.Lock()
	if !s.inactive || s.closing {
		s.mu.Unlock()
		return false
	}
	for i := range s.held {
		if s.held[i].from == from {
			// Newest last: the replaced one moves to the end.
			copy(s.held[i:], s.held[i+1:])
			s.held[len(s.held)-1] = heldPresence{from, b}
			s.mu.Unlock()
			return true
		}
	}
	full := len(s.held) >= maxHeldPresences
	s.held = append(s.held, heldPresence{from, b})
	s.mu.Unlock()
	if full {
		s.flushHeld()
	}
	return true
}

// flushHeld queues what is held, oldest first.
func (s *Session) flushHeld() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for _, h := range held {
		s.enqueue(h.b, nil)
	}
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// bind binds resource (RFC 6120 §7) and, for an old server that still
// requires one, establishes an RFC 3921 session.
func (s *session) bind(feats elem, resource string) error {
	if !feats.hasChild("bind") {
		return failed("bind", errors.New("server offers no resource binding"))
	}
	// feats aliases the reader's buffer, which the bind result reuses.
	sessFeat, sessOffered := feats.childText("session")
	if err := s.send("<iq type='set' id='b0'><bind xmlns='" + nsBind + "'><resource>" +
		escapeXML(resource) + "</resource></bind></iq>"); err != nil {
		return failed("bind", err)
	}
	e, err := s.awaitIQ("b0")
	if err != nil {
		return failed("bind", err)
	}
	if s.jid, _ = e.childText("jid"); s.jid == "" {
		return failed("bind", fmt.Errorf("bind result without a JID: %.200s", e.raw))
	}
	// RFC 3921 sessions: only old servers still require one; RFC 6121
	// servers mark it optional or omit it.
	if sessOffered && !strings.Contains(sessFeat, "optional") {
		if err := s.send("<iq type='set' id='s0'><session xmlns='" + nsSession + "'/></iq>"); err != nil {
			return failed("bind", err)
		}
		if _, err := s.awaitIQ("s0"); err != nil {
			return failed("bind", err)
		}
	}
	return nil
}

// rosterGet fetches the roster and returns how many items it holds.
func (s *session) rosterGet(id string) (int, error) {
	if err := s.send("<iq type='get' id='" + id + "'><query xmlns='" + nsRoster + "'/></iq>"); err != nil {
		return 0, failed("roster", err)
	}
	e, err := s.awaitIQ(id)
	if err != nil {
		return 0, failed("roster", err)
	}
	return e.countChildren("item"), nil
}

// errIQReply means an IQ was answered with type "error".
var errIQReply = errors.New("error reply")

// awaitIQ reads until the IQ reply with id arrives, answering requests
// and skipping anything else on the way (a scenario that pipelines uses
// its own read loop instead). An error reply is an error.
func (s *session) awaitIQ(id string) (elem, error) {
	for {
		e, err := s.read()
		if err != nil {
			return elem{}, err
		}
		if e.is("error") {
			return elem{}, fmt.Errorf("stream error: %.200s", e.raw)
		}
		if !e.is("iq") || e.attr("id") != id {
			s.answerIQ(e)
			continue
		}
		if e.attr("type") == "error" {
			return elem{}, fmt.Errorf("%w: %.300s", errIQReply, e.raw)
		}
		return e, nil
	}
}

// answerIQ replies to a request the server sends the client: pings and
// roster pushes get a result, anything else service-unavailable, as RFC 6120 §8.2.3 asks of
// every entity. It reports whether e was such a request.
func (s *session) answerIQ(e elem) bool {
	if !e.is("iq") {
		return false
	}
	typ := e.attr("type")
	if typ != "get" && typ != "set" {
		return false
	}
	id, from := escapeXML(e.attr("id")), escapeXML(e.attr("from"))
	to := ""
	if from != "" {
		to = " to='" + from + "'"
	}
	if typ == "set" && e.hasChild("query") && bytes.Contains(e.raw, []byte(nsRoster)) {
		// A roster push: RFC 6121 §2.1.6 asks the client to acknowledge it.
		s.sendStanza("<iq type='result' id='" + id + "'" + to + "/>")
		return true
	}
	if e.hasChild("ping") {
		s.sendStanza("<iq type='result' id='" + id + "'" + to + "/>")
		return true
	}
	s.sendStanza("<iq type='error' id='" + id + "'" + to + "><error type='cancel'>" +
		"<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
	return true
}

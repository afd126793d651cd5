package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The client side of XEP-0198 Stream Management and XEP-0280 Message
// Carbons, as much as the benchmark needs: enable with resumption, count
// stanzas both ways (modulo 2^32, section 4), answer the server's <r/>,
// ask for acks now and then and check the server's <a h/>, resume a
// session on a new connection (section 5), enable carbons and tell a
// carbon copy from a direct delivery.

const (
	nsSM      = "urn:xmpp:sm:3"
	nsCarbons = "urn:xmpp:carbons:2"
	nsForward = "urn:xmpp:forward:0"
)

// smRequestEvery is how many stanzas a client sends between two <r/>.
const smRequestEvery = 50

// errSMRefused means the server did not enable stream management, or did
// not resume a session.
var errSMRefused = errors.New("refused")

// seqAtOrAfter reports whether sequence number a is b or later, modulo
// 2^32 (serial number arithmetic): h wraps to zero after 2^32-1
// (XEP-0198 section 4), so a plain comparison is wrong near the wrap.
func seqAtOrAfter(a, b uint32) bool { return int32(a-b) >= 0 }

// smState is one session's stream management counters.
//
// in is touched only by the goroutine that reads the session. out and
// the request queue change under the session's write lock (so a count
// and the bytes it counts go out in the same order); the reader reads
// out atomically and pops the queue under mu.
type smState struct {
	id     string // SM-ID for <resume previd/>; empty: not resumable
	in     uint32 // stanzas received since <enabled/> (or carried over by a resumption)
	out    atomic.Uint32
	every  uint32 // send <r/> after this many stanzas (0: never)
	mu     sync.Mutex
	asked  []uint32 // out at each <r/> we sent and no <a/> has covered yet, oldest first
	checks smChecks
}

// smChecks counts what the client verified of the server's acks.
type smChecks struct {
	requests  atomic.Int64 // <r/> sent
	answered  atomic.Int64 // of which covered by an <a h/> at least as high
	acks      atomic.Int64 // <a/> received
	tooHigh   atomic.Int64 // <a h/> above what we sent
	serverRs  atomic.Int64 // the server's <r/>, answered
	badAckMsg atomic.Pointer[string]
}

// received counts one stanza read from the server (message, presence
// or iq; nonzas do not count).
func (sm *smState) received() { sm.in++ }

// sent counts one stanza written, under the session's write lock, and
// says whether an <r/> should follow it; if so it records the count the
// server's answer must reach.
func (sm *smState) sent() (ask bool) {
	n := sm.out.Add(1)
	if sm.every == 0 || n%sm.every != 0 {
		return false
	}
	sm.mu.Lock()
	sm.asked = append(sm.asked, n)
	sm.mu.Unlock()
	sm.checks.requests.Add(1)
	return true
}

// request records an <r/> sent outside the every-N rhythm, under the
// session's write lock, as the last of what was sent so far.
func (sm *smState) request() {
	sm.mu.Lock()
	sm.asked = append(sm.asked, sm.out.Load())
	sm.mu.Unlock()
	sm.checks.requests.Add(1)
}

// acked checks the server's <a h/>: h may not exceed what was sent, and
// every request at or below h is answered. It returns an error for an h
// that is too high (a server that claims stanzas it never got).
func (sm *smState) acked(h uint32) error {
	sm.checks.acks.Add(1)
	out := sm.out.Load()
	if !seqAtOrAfter(out, h) {
		sm.checks.tooHigh.Add(1)
		return fmt.Errorf("<a h='%d'/> but only %d stanzas sent", h, out)
	}
	sm.mu.Lock()
	n := 0
	for n < len(sm.asked) && seqAtOrAfter(h, sm.asked[n]) {
		n++
	}
	sm.asked = sm.asked[n:]
	sm.mu.Unlock()
	sm.checks.answered.Add(int64(n))
	return nil
}

// unanswered is how many of our <r/> no <a/> has covered.
func (sm *smState) unanswered() int {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return len(sm.asked)
}

// isStanza reports whether e counts for h: message, presence or iq.
func isStanza(e elem) bool { return e.is("message") || e.is("presence") || e.is("iq") }

// smAckXML is <a h/>.
func smAckXML(h uint32) string {
	return "<a xmlns='" + nsSM + "' h='" + strconv.FormatUint(uint64(h), 10) + "'/>"
}

const smRequestXML = "<r xmlns='" + nsSM + "'/>"

// parseH reads the h attribute of <a/>, <resumed/> or <failed/>.
func parseH(e elem) (uint32, error) {
	h, err := strconv.ParseUint(e.attr("h"), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("bad h in %.200s", e.raw)
	}
	return uint32(h), nil
}

// read returns the next element the scenario should see. With stream
// management on it counts stanzas and deals with <r/> and <a/> itself,
// so nothing above it sees them.
func (s *session) read() (elem, error) {
	for {
		e, nonza, err := s.readSM()
		if err != nil || !nonza {
			return e, err
		}
	}
}

// readSM reads one element. With stream management on it counts a
// stanza, answers an <r/> and checks an <a h/>, reporting those two as
// nonza; a bad ack is recorded in the counters rather than ending the
// session.
func (s *session) readSM() (e elem, nonza bool, err error) {
	e, err = s.r.next()
	if err != nil || s.sm == nil || e.open {
		return e, false, err
	}
	switch {
	case isStanza(e):
		s.sm.received()
	case e.is("r"):
		s.sm.checks.serverRs.Add(1)
		return e, true, s.send(smAckXML(s.sm.in))
	case e.is("a"):
		h, err := parseH(e)
		if err == nil {
			err = s.sm.acked(h)
		}
		if err != nil {
			msg := err.Error()
			s.sm.checks.badAckMsg.CompareAndSwap(nil, &msg)
		}
		return e, true, nil
	}
	return e, false, nil
}

// sendStanza writes one stanza, counting it when stream management is
// on and asking for an ack every smRequestEvery stanzas.
func (s *session) sendStanza(x string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.sm != nil && s.sm.sent() {
		x += smRequestXML
	}
	_, err := s.conn.Write([]byte(x))
	return err
}

// requestAck sends <r/> and records it as a request to be answered.
func (s *session) requestAck() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.sm.request()
	_, err := s.conn.Write([]byte(smRequestXML))
	return err
}

// enableSM sends <enable/> (with resumption if resume) and waits for
// <enabled/>; counting starts there. A server that did not offer
// stream management after authentication, or answers <failed/>, refuses.
func (s *session) enableSM(offered, resume bool) error {
	if !offered {
		return failed("sm", fmt.Errorf("%w: the server offers no %s", errSMRefused, nsSM))
	}
	x := "<enable xmlns='" + nsSM + "'/>"
	if resume {
		x = "<enable xmlns='" + nsSM + "' resume='true'/>"
	}
	if err := s.send(x); err != nil {
		return failed("sm", err)
	}
	for {
		e, err := s.read()
		if err != nil {
			return failed("sm", err)
		}
		switch {
		case e.is("enabled"):
			sm := &smState{every: smRequestEvery}
			if resume {
				if r := e.attr("resume"); r != "true" && r != "1" {
					return failed("sm", fmt.Errorf("%w: resumption: %.200s", errSMRefused, e.raw))
				}
				if sm.id = e.attr("id"); sm.id == "" {
					return failed("sm", fmt.Errorf("%w: resumption without an id: %.200s", errSMRefused, e.raw))
				}
			}
			s.sm = sm
			return nil
		case e.is("failed"):
			return failed("sm", fmt.Errorf("%w: %.200s", errSMRefused, e.raw))
		case e.is("error"):
			return failed("sm", fmt.Errorf("stream error: %.200s", e.raw))
		default:
			s.answerIQ(e) // stanzas before <enabled/> do not count
		}
	}
}

// enableCarbons sends the XEP-0280 enable IQ and waits for its result.
func (s *session) enableCarbons() error {
	if err := s.sendStanza("<iq type='set' id='c0'><enable xmlns='" + nsCarbons + "'/></iq>"); err != nil {
		return failed("carbons", err)
	}
	if _, err := s.awaitIQ("c0"); err != nil {
		return failed("carbons", err)
	}
	return nil
}

// resumeSM asks, on a freshly authenticated stream, to take up the
// session prev was (section 5), acknowledging what prev had received.
// On <resumed/> it checks the server's h against what prev sent and
// carries the counters over.
func (s *session) resumeSM(prev *smState) error {
	if err := s.send("<resume xmlns='" + nsSM + "' previd='" + escapeXML(prev.id) + "' h='" +
		strconv.FormatUint(uint64(prev.in), 10) + "'/>"); err != nil {
		return failed("resume", err)
	}
	for {
		e, err := s.r.next()
		if err != nil {
			return failed("resume", err)
		}
		switch {
		case e.is("resumed"):
			h, err := parseH(e)
			if err != nil {
				return failed("resume", err)
			}
			// We keep no copies to resend, so the server must have
			// handled all we sent before the cut.
			if out := prev.out.Load(); h != out {
				return failed("resume-h", fmt.Errorf("<resumed h='%d'/> but %d stanzas were sent", h, out))
			}
			s.sm = prev
			return nil
		case e.is("failed"):
			return failed("resume", fmt.Errorf("%w: %.200s", errSMRefused, e.raw))
		case e.is("error"):
			return failed("resume", fmt.Errorf("stream error: %.200s", e.raw))
		}
	}
}

// resumeSession cuts nothing: it connects anew, authenticates as user
// and resumes prev's stream management session on the new connection
// (section 5). The new session carries prev's JID and counters. The
// whole exchange must finish within cfg.timeout.
func resumeSession(ctx context.Context, cfg *clientConfig, user, password string, prev *session) (*session, error) {
	deadline := time.Now().Add(cfg.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := cfg.dialer.DialContext(dctx, "tcp", cfg.addr)
	if err != nil {
		return nil, failed("dial", err)
	}
	s := &session{conn: conn, raw: conn, r: newElemReader(conn), jid: prev.jid}
	feats, err := s.authenticated(dctx, cfg, deadline, user, password, nil)
	if err == nil && !feats.hasChild("sm") {
		err = failed("resume", fmt.Errorf("%w: no stream management offered after authentication", errSMRefused))
	}
	if err == nil {
		err = s.resumeSM(prev.sm)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// carbonKind says how a message reached a resource.
type carbonKind int

const (
	deliveredDirect carbonKind = iota // addressed to this resource (or its bare JID)
	carbonSent                        // XEP-0280 <sent/>: another resource of ours sent it
	carbonReceived                    // XEP-0280 <received/>: another resource of ours got it
	carbonForged                      // a carbon wrapper not from our own bare JID (section 11)
)

func (k carbonKind) String() string {
	return [...]string{"direct", "sent carbon", "received carbon", "forged carbon"}[k]
}

// classifyCarbon tells a direct delivery from a carbon copy. A copy is a
// message from the user's own bare JID (or with no from, which RFC 6120
// §8.1.2.1 makes the same) wrapping the original in <sent/> or
// <received/> and a XEP-0297 <forwarded/>; a wrapper from anyone else
// is forged and must be ignored (XEP-0280 section 11).
func classifyCarbon(e elem, ownBare string) carbonKind {
	var kind carbonKind
	switch {
	case isCarbonWrapper(e.raw, "sent"):
		kind = carbonSent
	case isCarbonWrapper(e.raw, "received"):
		kind = carbonReceived
	default:
		return deliveredDirect
	}
	if from := e.attr("from"); from != "" && !strings.EqualFold(from, ownBare) {
		return carbonForged
	}
	return kind
}

// isCarbonWrapper reports whether the message raw has a child <tag/> in
// the carbons namespace that holds a <forwarded/>.
func isCarbonWrapper(raw []byte, tag string) bool {
	i := indexTag(raw[1:], tag)
	if i < 0 {
		return false
	}
	rest := raw[1+i:]
	end := bytes.IndexByte(rest, '>')
	if end < 0 || !bytes.Contains(rest[:end], []byte(nsCarbons)) {
		return false
	}
	return indexTag(rest, "forwarded") >= 0
}

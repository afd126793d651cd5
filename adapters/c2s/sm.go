package c2s

import (
	"strconv"
	"sync"
	"time"

	"mellium.im/xmpp/stream"

	"xmppd/events"
	"xmppd/router"
	"xmppd/stanza"
)

// XEP-0198 Stream Management.
//
// Once the client enables it, every stanza written to it is kept, with
// its receipt, until the client acknowledges it (<a h/>): only then does
// its sender's router.Receipt hear that it was delivered. When the
// session ends, whatever was not acknowledged is handed back through the
// receipts, so the core delivers it to another resource, stores it
// offline or bounces it (section 4: "in the same way that it would treat
// a stanza sent to an unavailable resource").
//
// With resumption (section 5), a session whose connection is lost (not a
// clean </stream:stream>: section 7) is suspended instead of ended: it
// stays bound and available, stanzas for it wait, and the client may
// take it up again on a new connection with <resume/>, after
// authenticating as the same user; the stanzas it had not acknowledged
// are then sent again, followed by what waited. A session not resumed
// within the resumption timeout ends (events.EndResumptionExpired), and
// what it held is handed back as above.
//
// Counting (section 4): h counts stanzas (message, presence, iq), not
// nonzas, modulo 2^32, from the <enabled/> on; sequence numbers carry
// over to a resumed stream.

// smState is one session's stream management state, guarded by the
// session's mu, except in, which has its own (sm_inbound.go).
type smState struct {
	// id is the SM-ID, empty unless the session may be resumed; timeout
	// is how long it waits to be, once suspended.
	id      string
	timeout time.Duration
	// in counts the client's stanzas received and handled.
	in *inbound
	// acked is the client's last h: stanzas written and acknowledged.
	// unacked are the stanzas written (or being written) since, in order;
	// unackedBytes their size.
	acked        uint32
	unacked      []outItem
	unackedBytes int
	// requested: an <r/> is unanswered (since askedAt); another is sent
	// only after the client's <a/>, so a burst asks once.
	requested bool
	askedAt   time.Time
	// ackTimer checks, every Config.AckTimeout, that an <r/> has not gone
	// unanswered that long (checkAck).
	ackTimer *time.Timer
	// idle is signalled when the writer stops (Session.writing turns
	// false), for a resumption waiting to take the write side over.
	idle *sync.Cond
}

// maxExpiredSMIDs bounds how many ended resumable sessions are remembered so
// that <resume/> can be answered with the h they had reached (section
// 5, Example 14), and smForgetAfter how long each is.
const (
	maxExpiredSMIDs = 10000
	smForgetAfter   = time.Hour
)

// expiredSM is what is remembered of a resumable session that ended.
type expiredSM struct {
	user string
	h    uint32
	at   time.Time
}

// smRegistry finds resumable sessions by SM-ID.
type smRegistry struct {
	mu       sync.Mutex
	sessions map[string]*Session
	expired  map[string]expiredSM
	order    []string // expired ids, oldest first
}

func (r *smRegistry) add(id string, s *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions == nil {
		r.sessions = map[string]*Session{}
	}
	r.sessions[id] = s
}

func (r *smRegistry) get(id string) *Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[id]
}

// remove forgets s, remembering the h it reached.
func (r *smRegistry) remove(id string, s *Session, h uint32, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions[id] != s {
		return
	}
	delete(r.sessions, id)
	if r.expired == nil {
		r.expired = map[string]expiredSM{}
	}
	for len(r.order) > 0 && (len(r.order) >= maxExpiredSMIDs || now.Sub(r.expired[r.order[0]].at) > smForgetAfter) {
		delete(r.expired, r.order[0])
		r.order = r.order[1:]
	}
	r.expired[id] = expiredSM{user: s.jid.Localpart(), h: h, at: now}
	r.order = append(r.order, id)
}

// expiredH is the h an ended session of user reached, if remembered.
func (r *smRegistry) expiredH(id, user string) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.expired[id]
	return e.h, ok && e.user == user
}

// all lists the resumable sessions, attached or suspended.
func (r *smRegistry) all() []*Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Session, 0, len(r.sessions))
	for _, s := range r.sessions {
		out = append(out, s)
	}
	return out
}

// smNonza handles a stream management element on a bound stream,
// reporting whether el was one; a returned error ends the stream.
func (s *Session) smNonza(el *stanza.Element) (bool, error) {
	if el.Name.Space != stanza.NSSM {
		return false, nil
	}
	s.mu.Lock()
	sm := s.sm
	s.mu.Unlock()
	switch el.Name.Local {
	case "enable":
		if sm != nil {
			// Section 4: at most one attempt.
			s.sendNonza(smFailed("unexpected-request", nil))
			return true, nil
		}
		s.enableSM(el)
	case "r":
		if sm == nil {
			return true, withText(stream.UnsupportedStanzaType, "stream management is not enabled")
		}
		// Section 4: answered at once, with the stanzas handled so far
		// (sm_inbound.go: those whose fate is durable); the rest are
		// acknowledged unasked once they are.
		s.sendNonza(smAck(sm.in.answerRequest()))
	case "a":
		if sm == nil {
			return true, withText(stream.UnsupportedStanzaType, "stream management is not enabled")
		}
		h, err := parseH(el.Attr("h"))
		if err != nil {
			return true, withText(stream.BadFormat, "<a/> without a valid 'h'")
		}
		return true, s.acknowledged(h)
	case "resume":
		// Only instead of binding (section 5).
		s.sendNonza(smFailed("unexpected-request", nil))
	default:
		return true, stream.UnsupportedStanzaType
	}
	return true, nil
}

// enableSM answers <enable/> (section 4), with resumption when the client
// asks for it and the server allows it, for the shorter of the client's
// 'max' and Config.ResumeTimeout.
func (s *Session) enableSM(el *stanza.Element) {
	sm := &smState{idle: sync.NewCond(&s.mu), in: newInbound()}
	enabled := stanza.New(stanza.NSSM, "enabled")
	if wantsResume(el.Attr("resume")) && s.srv.cfg.ResumeTimeout > 0 {
		sm.timeout = s.srv.cfg.ResumeTimeout
		if m, err := strconv.ParseUint(el.Attr("max"), 10, 32); err == nil && m > 0 && time.Duration(m)*time.Second < sm.timeout {
			sm.timeout = time.Duration(m) * time.Second
		}
		sm.id = randomID() + randomID()
		enabled.SetAttr("id", sm.id).SetAttr("resume", "true").SetAttr("max", strconv.Itoa(int(sm.timeout/time.Second)))
		s.srv.sm.add(sm.id, s)
	}
	s.mu.Lock()
	// What is queued and not yet written goes out before <enabled/>: the
	// client does not count it.
	for i := range s.queue {
		s.queue[i].untracked = true
	}
	s.sm = sm
	if d := s.srv.cfg.AckTimeout; d > 0 {
		sm.ackTimer = time.AfterFunc(d, s.checkAck)
	}
	s.mu.Unlock()
	s.sendNonza(enabled.AppendXML(nil, stanza.NSClient))
}

// checkAck runs every Config.AckTimeout while the session lasts: a client
// that has left an <r/> unanswered that long is taken to be gone (a
// connection that died without a word, which TCP may take many minutes
// to notice), so its connection is cut: the reader then suspends the
// session, or ends it, and in either case nothing unacknowledged is lost.
func (s *Session) checkAck() {
	d := s.srv.cfg.AckTimeout
	s.mu.Lock()
	sm := s.sm
	if s.closing {
		s.mu.Unlock()
		return
	}
	late := !s.detached && sm.requested && s.srv.now().Sub(sm.askedAt) >= d
	nc := s.nc
	sm.ackTimer.Reset(d)
	s.mu.Unlock()
	if late {
		s.srv.log.Debug("c2s: no acknowledgement in time; connection cut", "session", s.id, "jid", s.full, "ack_timeout", d)
		nc.Close()
	}
}

// wantsResume reads the xs:boolean 'resume' (section 5: "true" or "1").
func wantsResume(v string) bool { return v == "true" || v == "1" }

// parseH reads an 'h' attribute, an xs:unsignedInt.
func parseH(v string) (uint32, error) {
	h, err := strconv.ParseUint(v, 10, 32)
	return uint32(h), err
}

// received counts one stanza of the client's and returns its handled
// report (sm_inbound.go), or nil before stream management is enabled.
func (s *Session) received() func() {
	if s.sm == nil { // set only on the reader's goroutine
		return nil
	}
	return s.receive(s.sm.in)
}

// acknowledged takes the client's h: the stanzas it covers are
// delivered. An h beyond what was sent ends the stream (section 6).
func (s *Session) acknowledged(h uint32) error {
	s.mu.Lock()
	sm := s.sm
	done, err := sm.ack(h)
	sm.requested = false
	again := len(sm.unacked) > 0 && len(s.queue) == 0 && !s.closing
	if again {
		sm.requested, sm.askedAt = true, s.srv.now()
	}
	s.mu.Unlock()
	report(done, true)
	if err != nil {
		return err
	}
	if again {
		// Stanzas written after our <r/> are still unacknowledged and
		// nothing more is queued to ask with. (With something queued,
		// the writer asks after that batch: track.)
		s.sendNonza([]byte(smRequest))
	}
	return nil
}

// ack moves the stanzas h covers out of unacked and returns them.
func (sm *smState) ack(h uint32) ([]outItem, error) {
	k := h - sm.acked // modulo 2^32
	if int64(k) > int64(len(sm.unacked)) {
		sent := sm.acked + uint32(len(sm.unacked))
		return nil, handledTooHigh{h: h, sent: sent}
	}
	done := make([]outItem, k)
	copy(done, sm.unacked[:k])
	for _, it := range done {
		sm.unackedBytes -= len(it.b)
	}
	rest := copy(sm.unacked, sm.unacked[k:])
	clear(sm.unacked[rest:])
	sm.unacked = sm.unacked[:rest]
	if rest == 0 {
		sm.unacked = nil
	}
	sm.acked = h
	return done, nil
}

// track is called by the writer, with s.mu held, on a batch it is about
// to write: the stanzas in it are now unacknowledged, their receipts
// kept in unacked (cleared in batch, so that reporting the batch leaves
// them alone), and an <r/> is added if none is outstanding.
func (sm *smState) track(batch []outItem, now time.Time) []outItem {
	for i := range batch {
		if batch[i].untracked {
			continue
		}
		sm.unacked = append(sm.unacked, batch[i])
		sm.unackedBytes += len(batch[i].b)
		// Kept until acknowledged, perhaps sent again: neither reported
		// nor recycled with the batch.
		batch[i].r, batch[i].buf = nil, nil
	}
	if len(sm.unacked) > 0 && !sm.requested {
		// Also for a batch of nonzas only (our <a/> answers): stanzas
		// written earlier may still wait for a request.
		sm.requested, sm.askedAt = true, now
		batch = append(batch, outItem{b: []byte(smRequest), untracked: true})
	}
	return batch
}

const smRequest = "<r xmlns='urn:xmpp:sm:3'/>"

// sendNonza queues b, which XEP-0198 does not count.
func (s *Session) sendNonza(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.queue = append(s.queue, outItem{b: b, untracked: true})
	s.qbytes += len(b)
	s.queued.Store(int32(len(s.queue)))
	s.startWriterLocked()
}

// smAck is <a h/>.
func smAck(h uint32) []byte {
	b := strconv.AppendUint([]byte("<a xmlns='urn:xmpp:sm:3' h='"), uint64(h), 10)
	return append(b, "'/>"...)
}

// smFailed is <failed/> with a stanza error condition (section 6) and,
// if h is not nil, the h reached (section 5, Example 14).
func smFailed(condition string, h *uint32) []byte {
	f := stanza.New(stanza.NSSM, "failed")
	if h != nil {
		f.SetAttr("h", strconv.FormatUint(uint64(*h), 10))
	}
	f.AddChild(stanza.New(stanza.NSStanzas, condition))
	return f.AppendXML(nil, stanza.NSClient)
}

// handledTooHigh is section 6's undefined-condition stream error with
// <handled-count-too-high/>.
type handledTooHigh struct{ h, sent uint32 }

func (e handledTooHigh) Error() string {
	return "you acknowledged " + strconv.FormatUint(uint64(e.h), 10) + " stanzas, but I only sent you " + strconv.FormatUint(uint64(e.sent), 10) + " so far"
}

// streamError is the stream error sent for e, and its application
// condition.
func (e handledTooHigh) streamError() (stream.Error, *stanza.Element) {
	el := stanza.New(stanza.NSSM, "handled-count-too-high", "h", strconv.FormatUint(uint64(e.h), 10), "send-count", strconv.FormatUint(uint64(e.sent), 10))
	return withText(stream.UndefinedCondition, e.Error()), el
}

// suspendable reports whether a reader that stopped with err lost its
// connection (a network error, or a read or stanza timeout: a client
// that went silent is most likely gone) rather than ended the stream
// (</stream:stream>, a stream error from either side): only the first is
// suspended (section 7).
func suspendable(err error) (router.End, bool) {
	if se, ok := streamErrorFor(err); ok {
		if se.Err == stream.ConnectionTimeout.Err {
			return sentEnd(se), true
		}
		return router.End{}, false
	}
	why := readEnd(err)
	return why, why.Cause == events.EndConnectionLost
}

// suspend is stop's first step: a resumable session whose connection was
// lost is kept, detached from it, and reported suspended. It reports
// whether it did.
func (s *Session) suspend(c *conn, err error) bool {
	why, ok := suspendable(err)
	s.mu.Lock()
	if s.c != c {
		// A resumption took the session over; this reader is done.
		done := s.readerDone
		s.mu.Unlock()
		c.nc.Close()
		s.srv.unregister(c)
		close(done)
		return true
	}
	if !ok || s.sm == nil || s.sm.id == "" || s.closing {
		s.mu.Unlock()
		return false
	}
	s.detached = true
	s.linkLostLocked()
	if s.keepalive != nil {
		s.keepalive.Stop()
	}
	timeout := s.sm.timeout
	if s.expiry != nil {
		s.expiry.Stop()
	}
	s.expiry = time.AfterFunc(timeout, func() {
		why := router.End{Cause: events.EndResumptionExpired}
		if s.beginExpire(why) {
			s.finishExpire(why)
		}
	})
	unacked := len(s.sm.unacked)
	done := s.readerDone
	s.mu.Unlock()
	c.nc.Close()
	s.srv.unregister(c)
	s.srv.log.Debug("c2s: session suspended", "session", s.id, "jid", s.full, "cause", why.Cause, "err", err)
	s.srv.core.Suspended(s, why, unacked, timeout)
	close(done)
	return true
}

func (s *Session) beginExpire(why router.End) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.beginExpireLocked(why)
}

// beginExpireLocked starts ending a suspended session: nothing more is
// queued to it. Called with s.mu held; false if it is not suspended or
// already ending.
func (s *Session) beginExpireLocked(why router.End) bool {
	if !s.detached || s.closing {
		return false
	}
	s.closing = true
	s.closed.Store(true)
	close(s.begun)
	s.linkLostLocked()
	s.why = why
	if s.expiry != nil {
		s.expiry.Stop()
	}
	return true
}

// finishExpire ends a suspended session: the core hears it end, then
// what it held is handed back.
func (s *Session) finishExpire(why router.End) {
	s.srv.smCounts.expired.Add(1)
	s.srv.log.Debug("c2s: suspended session ends", "session", s.id, "jid", s.full, "cause", why.Cause)
	s.forgetSM()
	s.end(why)
	s.giveBack()
	close(s.done)
}

// forgetSM removes the session from the resumable ones, remembering the
// h it reached.
func (s *Session) forgetSM() {
	s.mu.Lock()
	sm := s.sm
	s.mu.Unlock()
	if sm != nil && sm.id != "" {
		s.srv.sm.remove(sm.id, s, sm.in.count(), s.srv.now())
	}
}

// giveBack reports every stanza not acknowledged, and every one still
// queued, as not delivered, once the core has heard the session end (so
// it routes them elsewhere, not here).
func (s *Session) giveBack() {
	s.mu.Lock()
	var items []outItem
	if s.sm != nil {
		items = s.sm.unacked
		s.sm.unacked, s.sm.unackedBytes = nil, 0
	}
	items = append(items, s.queue...)
	s.queue, s.qbytes = nil, 0
	s.queued.Store(0)
	s.held = nil
	s.mu.Unlock()
	report(items, false)
}

// resumeSettle bounds how long a resumption waits for the stanzas of the
// lost connection to be handled before answering with the h they reached:
// the client sends again whatever h leaves out, so a short wait spares
// duplicates, and a failing store costs the client a resend, not a stall.
const resumeSettle = 5 * time.Second

// errResumeGone: the session ended before it could be resumed.
type errResumeGone struct{}

func (errResumeGone) Error() string { return "c2s: the session to resume has ended" }

// takeOver attaches s to c, which the client authenticated as s's user,
// and whose <resume/> acknowledged h (section 5). A session whose old
// connection is still open (not yet seen to be lost) is first detached
// from it. It returns the h to send in <resumed/> and how many stanzas
// will be sent again.
func (s *Session) takeOver(c *conn, h uint32) (in uint32, resent int, err error) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return 0, 0, errResumeGone{}
	}
	if !s.detached {
		// Section 5: the old stream is closed. A stream error cannot be
		// written to it safely while its writer may be busy; closing the
		// connection ends its reader, which suspends the session.
		old, done := s.nc, s.readerDone
		s.mu.Unlock()
		old.Close()
		<-done
		s.mu.Lock()
	}
	if s.closing || !s.detached || s.c == c {
		s.mu.Unlock()
		return 0, 0, errResumeGone{}
	}
	for s.writing {
		s.sm.idle.Wait()
	}
	sm := s.sm
	done, err := sm.ack(h)
	if err != nil {
		s.mu.Unlock()
		return 0, 0, err
	}
	if s.expiry != nil {
		s.expiry.Stop()
	}
	// Sent again first, then what waited, then presence that CSI held
	// (XEP-0352 5.2: a resumed stream starts active).
	resend := sm.unacked
	sm.unacked, sm.unackedBytes, sm.requested = nil, 0, false
	queue := append(resend, s.queue...)
	for _, hp := range s.held {
		queue = append(queue, outItem{b: hp.b})
	}
	s.held, s.inactive = nil, false
	s.csiInactive.Store(false)
	s.queue, s.qbytes = queue, 0
	for _, it := range queue {
		s.qbytes += len(it.b)
	}
	s.queued.Store(int32(len(queue)))
	s.c, s.nc = c, c.nc
	s.addr, s.tls, s.mech = c.addr, c.tlsInfo, c.mech
	s.detached = false
	s.readerDone = make(chan struct{})
	s.lost, s.lostClosed = nil, false
	s.idleDeadline = time.Time{}
	// The resuming goroutine writes <resumed/> before anything queued
	// (startWriting hands the write side over).
	s.writing = true
	s.mu.Unlock()
	// The old reader has stopped: what it handed the core is all there
	// is, and h covers what of it is durable (sm_inbound.go).
	in = sm.in.settle(resumeSettle)
	report(done, true)
	return in, len(resend), nil
}

// resume answers <resume/> in place of binding (section 5): the bound
// session it names, if it is the authenticated user's and still there,
// continues on this connection. Otherwise <failed/>, after which the
// client may bind (section 5: "the server SHOULD allow the client to bind
// a resource at this point"). It returns the session, or (nil, nil) to go
// on negotiating.
func (c *conn) resume(el *stanza.Element) (*Session, error) {
	if c.srv.cfg.ResumeTimeout <= 0 {
		return nil, c.write(smFailed("feature-not-implemented", nil))
	}
	h, err := parseH(el.Attr("h"))
	previd := el.Attr("previd")
	if err != nil || previd == "" {
		return nil, c.write(smFailed("bad-request", nil))
	}
	s := c.srv.sm.get(previd)
	if s == nil || s.jid.Localpart() != c.user {
		var hp *uint32
		if h, ok := c.srv.sm.expiredH(previd, c.user); ok {
			hp = &h
		}
		c.srv.smCounts.failed.Add(1)
		return nil, c.write(smFailed("item-not-found", hp))
	}
	if err := c.srv.register(c, s); err != nil {
		return nil, err
	}
	in, resent, err := s.takeOver(c, h)
	if err != nil {
		c.srv.unregister(c)
		c.srv.smCounts.failed.Add(1)
		if e, ok := err.(handledTooHigh); ok {
			se, _ := e.streamError()
			return nil, se
		}
		return nil, c.write(smFailed("item-not-found", nil))
	}
	c.srv.smCounts.resumed.Add(1)
	resumed := stanza.New(stanza.NSSM, "resumed", "previd", previd, "h", strconv.FormatUint(uint64(in), 10))
	if err := c.write(resumed.AppendXML(nil, stanza.NSClient)); err != nil {
		// Lost again already: suspended again, with what it held.
		s.mu.Lock()
		s.writing = false
		s.mu.Unlock()
		s.suspend(c, err)
		return nil, quietError{err}
	}
	c.srv.log.Debug("c2s: session resumed", "session", s.id, "jid", s.full, "addr", c.addr, "resent", resent)
	c.srv.core.Resumed(s, resent)
	return s, nil
}

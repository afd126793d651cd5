package im

import (
	"time"

	"xmppd/stanza"
)

// A stanza written to a connection is not yet a stanza the client has:
// the kernels' buffers hold megabytes, and a client that stops reading,
// or whose network drops, never sees them. Until stream management
// (XEP-0198) acknowledges stanzas, the server learns what a client has
// read by asking: an IQ it sends after the stanzas must be answered (RFC
// 6120 8.2.3: a result or an error), and the client reads and answers in
// order, so the answer covers everything sent before it. Offline delivery
// (offline.go) records a window of stored stanzas as delivered only once
// such an answer came; a window whose session ended first is delivered
// again to the next session: at least once, never lost. After one
// window goes unanswered (a client that stopped reading looks the same as
// one that breaks the rule and never answers) the rest is sent without
// waiting, and recorded only if the client answers once it is all
// written; a client that never answers gets it all again next time.

// ackOutcome is what became of a request for the client's answer.
type ackOutcome int

const (
	ackAnswered ackOutcome = iota // the client answered: it read everything before
	ackGone                       // the session ended or is closing first
	ackSilent                     // the session is alive but did not answer in time
)

// awaitClientAck sends x's client a XEP-0199 ping from the server and
// waits until it answers, the session ends or wait passes.
func (s *Core) awaitClientAck(x *session, wait time.Duration) ackOutcome {
	id := "ack-" + newID()
	ch := make(chan struct{})
	x.ackMu.Lock()
	x.ack, x.acked = id, ch
	x.ackMu.Unlock()
	defer func() {
		x.ackMu.Lock()
		x.ack, x.acked = "", nil
		x.ackMu.Unlock()
	}()
	ping := stanza.New(stanza.NSClient, "iq", "type", "get", "id", id, "from", s.cfg.Domain, "to", x.fullStr)
	ping.AddChild(stanza.New(stanza.NSPing, "ping"))
	if x.sess.Send(ping) != nil {
		return ackGone
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ch:
		return ackAnswered
	case <-x.sess.ClosingBegun():
		// Not Done: that comes only after the core recorded the end,
		// which waits on this very actor.
	case <-t.C:
	}
	select {
	case <-ch: // the answer raced the end
		return ackAnswered
	default:
	}
	if x.sess.Closing() {
		return ackGone
	}
	return ackSilent
}

// answers reports whether st, from x's client, is the answer an
// awaitClientAck waits for, and if so wakes it. It runs on x's reader.
func (x *session) answers(st stanza.Stanza) bool {
	if st.Type != "result" && st.Type != "error" {
		return false
	}
	if x.pep.answers(st) { // a caps disco#info answer (pep_caps.go)
		return true
	}
	x.ackMu.Lock()
	defer x.ackMu.Unlock()
	if x.ack == "" || st.ID != x.ack {
		return false
	}
	close(x.acked)
	x.ack, x.acked = "", nil
	return true
}

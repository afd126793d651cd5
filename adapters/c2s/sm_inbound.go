package c2s

import (
	"sync"
	"time"
)

// XEP-0198's h for the client's stanzas counts what the server has
// handled (section 4), and a client drops from its resend queue what h
// covers: a stanza counted and then lost is lost for good. So a stanza is
// counted only once its fate is durable: with a core that reports it
// (router.Reporting), once the core says so (a message archived and
// delivered, stored offline or bounced; a roster set committed); without
// one, once the core has it, as before. The count is of a prefix: h = n
// says that the client's first n stanzas are handled, however their
// fates finish out of order (a message to one account waiting on the
// disk, a ping answered at once).

// inbound counts the client's stanzas since <enabled/>: received by the
// reader, and handled, in order. Its own lock: fates are reported from
// the core's goroutines.
type inbound struct {
	mu       sync.Mutex
	received uint32 // modulo 2^32, as h
	handled  uint32
	// done[i] says whether stanza handled+1+i is handled; len(done) is
	// received-handled.
	done []bool
	// owed, if set, is an <a/> the client is owed: an <r/> was answered
	// short of what it had sent, so once handled reaches owedAt an <a/>
	// goes unasked (section 4: "either party MAY send an <a/> element at
	// any time").
	owed   bool
	owedAt uint32
	// settled is signalled whenever handled moves, for a resumption
	// waiting for the old connection's stanzas (settle).
	settled *sync.Cond
}

func newInbound() *inbound {
	in := &inbound{}
	in.settled = sync.NewCond(&in.mu)
	return in
}

// receive counts one stanza read and returns its handled report, which
// its caller calls exactly once, from any goroutine. It runs on the
// reader.
func (s *Session) receive(in *inbound) func() {
	in.mu.Lock()
	in.received++
	in.done = append(in.done, false)
	seq := in.received
	in.mu.Unlock()
	return func() { s.handledIn(in, seq) }
}

// handledIn records that stanza seq is handled, moves h over every
// handled stanza at its front, and pays an owed <a/> once h reaches it.
func (s *Session) handledIn(in *inbound, seq uint32) {
	in.mu.Lock()
	in.done[seq-in.handled-1] = true
	n := 0
	for n < len(in.done) && in.done[n] {
		n++
	}
	if n == 0 {
		in.mu.Unlock()
		return
	}
	if n == len(in.done) {
		in.done = in.done[:0] // the common case: reuse the array from here
	} else {
		in.done = in.done[n:]
	}
	in.handled += uint32(n)
	h := in.handled
	pay := in.owed && h-in.owedAt < 1<<31 // h reached owedAt, modulo 2^32
	if pay {
		in.owed = false
	}
	in.settled.Broadcast()
	in.mu.Unlock()
	if pay {
		s.sendNonza(smAck(h))
	}
}

// answerRequest is the h for an <r/>: what is handled now. If the client
// sent more, it is owed an <a/> once that is handled too.
func (in *inbound) answerRequest() uint32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.handled != in.received {
		in.owed, in.owedAt = true, in.received
	}
	return in.handled
}

// count is the h reached.
func (in *inbound) count() uint32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.handled
}

// settle waits up to wait for every stanza received to be handled and
// returns the h reached: a resumption answers with it (section 5), and
// the client sends again whatever it does not cover.
func (in *inbound) settle(wait time.Duration) uint32 {
	t := time.AfterFunc(wait, func() {
		in.mu.Lock()
		in.settled.Broadcast()
		in.mu.Unlock()
	})
	defer t.Stop()
	deadline := time.Now().Add(wait)
	in.mu.Lock()
	defer in.mu.Unlock()
	for in.handled != in.received && time.Now().Before(deadline) {
		in.settled.Wait()
	}
	return in.handled
}

package c2s

import (
	"errors"
	"math"
	"testing"
	"time"
)

type countReceipt struct{ ok, failed int }

func (r *countReceipt) Written(ok bool) {
	if ok {
		r.ok++
	} else {
		r.failed++
	}
}

// XEP-0198 section 4: h counts modulo 2^32. Three stanzas sent across the
// wrap (h 4294967295, 0, 1) are acknowledged by an h that has wrapped,
// and an h beyond what was sent is refused, also across the wrap.
func TestSMCountWraps_XEP0198_4(t *testing.T) {
	r := &countReceipt{}
	sm := &smState{acked: math.MaxUint32 - 1}
	batch := sm.track([]outItem{{b: []byte("a"), r: r}, {b: []byte("b"), r: r}, {b: []byte("c"), r: r}}, time.Now())
	if len(batch) != 4 || string(batch[3].b) != smRequest {
		t.Fatalf("batch not followed by one <r/>: %d items", len(batch))
	}
	for _, it := range batch {
		if it.r != nil {
			t.Fatal("a tracked stanza's receipt is still in the batch")
		}
	}
	if _, err := sm.ack(2); !errors.As(err, new(handledTooHigh)) {
		t.Fatalf("h 2 (4 after 4294967294, 3 sent): err %v", err)
	}
	done, err := sm.ack(0) // 4294967295 and 0
	if err != nil || len(done) != 2 {
		t.Fatalf("ack 0: %d done, %v", len(done), err)
	}
	report(done, true)
	done, err = sm.ack(1)
	if err != nil || len(done) != 1 || len(sm.unacked) != 0 || sm.unackedBytes != 0 {
		t.Fatalf("ack 1: %d done, %d left, %v", len(done), len(sm.unacked), err)
	}
	report(done, true)
	if r.ok != 3 || r.failed != 0 {
		t.Errorf("receipts: %+v", r)
	}
	// Acknowledging the same h again is no change.
	if done, err := sm.ack(1); err != nil || len(done) != 0 {
		t.Errorf("repeated ack: %d, %v", len(done), err)
	}
}

// A batch holding only nonzas (our <a/> answers to a client that sends
// <r/> often) still asks for the stanzas written earlier and not yet
// acknowledged, once the previous request was answered: otherwise a
// client that acknowledges only when asked never does (seen with Gajim).
func TestSMAsksAfterNonzaOnlyBatch_XEP0198_4(t *testing.T) {
	sm := &smState{}
	sm.track([]outItem{{b: []byte("<message/>")}}, time.Now())
	if _, err := sm.ack(0); err != nil { // an answer that acknowledges nothing
		t.Fatal(err)
	}
	sm.requested = false
	batch := sm.track([]outItem{{b: smAck(3), untracked: true}}, time.Now())
	if len(batch) != 2 || string(batch[1].b) != smRequest {
		t.Fatalf("no <r/> after a nonza-only batch with 1 unacknowledged: %d items", len(batch))
	}
	if batch := sm.track([]outItem{{b: smAck(4), untracked: true}}, time.Now()); len(batch) != 1 {
		t.Errorf("a second <r/> while one is outstanding")
	}
}

// XEP-0198 section 4: the client's h is a prefix. Fates reported out of
// order (a message waiting on the archive's commit, a ping answered at
// once) move h only over stanzas whose every predecessor is handled, and
// a resumption's settle waits for the last one (section 5).
func TestInboundCountsAPrefix_XEP0198_4(t *testing.T) {
	s := &Session{}
	in := newInbound()
	first, second, third := s.receive(in), s.receive(in), s.receive(in)
	third()
	second()
	if h := in.count(); h != 0 {
		t.Fatalf("h = %d with the first stanza unhandled, want 0", h)
	}
	settled := make(chan uint32)
	go func() { settled <- in.settle(5 * time.Second) }()
	time.Sleep(10 * time.Millisecond)
	first()
	if h := <-settled; h != 3 {
		t.Errorf("settle returned h = %d, want 3", h)
	}
	s.receive(in)()
	if h := in.count(); h != 4 {
		t.Errorf("h = %d, want 4", h)
	}
	if h := in.settle(time.Millisecond); h != 4 {
		t.Errorf("settle with nothing pending = %d, want 4", h)
	}
}

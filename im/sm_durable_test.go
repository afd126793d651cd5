package im_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"xmppd/events"
)

// heldArchive is the real store with a gate on the appends to archive
// streams: while it is held they wait, as they would on a disk that has
// not yet synced, and everything else goes through.
type heldArchive struct {
	events.Store
	mu   sync.Mutex
	gate chan struct{} // closed while open
}

func holdArchive(st events.Store) *heldArchive {
	h := &heldArchive{Store: st, gate: make(chan struct{})}
	close(h.gate)
	return h
}

func (h *heldArchive) hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gate = make(chan struct{})
}

func (h *heldArchive) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.gate)
}

func (h *heldArchive) Append(ctx context.Context, stream string, expected events.ExpectedVersion, evs ...events.Envelope) ([]events.Envelope, error) {
	if strings.HasPrefix(stream, events.ArchivePrefix) {
		h.mu.Lock()
		gate := h.gate
		h.mu.Unlock()
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return h.Store.Append(ctx, stream, expected, evs...)
}

// XEP-0198 section 4 with the archive on (issue 13): the server's h
// counts a client's message only once it is archived for good, so a
// crash after <a h/> cannot lose a message the client was told is
// handled. While the archive's commit is held, <r/> is answered with the
// h before the message, a ping after it does not move h (h counts a
// prefix), and the recipient has nothing; once the commit is done, the
// recipient has the message and the sender an <a/> it did not ask for
// (section 4: either party may send <a/> at any time).
func TestSMAcksOnlyArchivedMessages_XEP0198_4(t *testing.T) {
	var held *heldArchive
	e, a, b := contactsWith(t, func(e *env) {
		held = holdArchive(e.store)
		e.store = held
	})
	enableSM(t, a, "")

	held.hold()
	a.send(`<message to='%s' type='chat' id='k1'><body>kept</body></message>`, bare(b.jid))
	roundTrip(a, "p1")
	a.send(`<r xmlns='urn:xmpp:sm:3'/>`)
	if h := smH(t, a.expect(smElement("a"))); h != 0 {
		t.Fatalf("h = %d while the message's archive commit is held, want 0", h)
	}
	if _, ps := e.readStream(events.ArchiveStream(bare(b.jid))); len(ps) != 0 {
		t.Fatalf("bob's archive holds %d events before its commit", len(ps))
	}
	roundTrip(b, "b1") // bob has been sent nothing before this answer
	if p := b.pending(); strings.Contains(p, "kept") {
		t.Fatalf("bob has the message before it is archived: %s", p)
	}

	held.release()
	b.expect(message(a.jid, "kept"))
	if h := smH(t, a.expect(smElement("a"))); h != 2 {
		t.Errorf("unasked h = %d once archived, want 2 (the message and the ping)", h)
	}
	_, ps := e.readStream(events.ArchiveStream(bare(b.jid)))
	if got := ofType[events.ArchiveMessageStored](ps); len(got) != 1 {
		t.Errorf("bob's archive holds %d messages, want 1", len(got))
	}
}

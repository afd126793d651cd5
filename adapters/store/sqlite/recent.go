package sqlite

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"xmppd/events"
)

// recentMax is how many of its latest events the store keeps in memory
// (up to twice as many between trims) for its live subscriptions. A live
// subscription is a few events behind; one further behind than that reads
// from the file, as before. Each kept event costs about a kilobyte, so a
// larger number shows in the server's memory per idle session.
const recentMax = 256

// recentCap bounds what the store keeps for live subscriptions that have
// not read it yet: beyond it, the slowest reads the file. Under archived
// chat one commit holds a thousand events and more; trimmed to recentMax
// at once, most of every commit was read back from the file by the
// subscription that was told of it a moment before (issue 13).
const recentCap = 16384

// recent holds the events this store's writer committed lately, in
// position order, so that a live subscription hands them on from memory
// instead of reading back the rows it was just told were committed (a
// query per commit per subscription, and most of the time between an
// append and the views applying it).
//
// Only this process's commits are here. Positions another process (or
// another Store on the same file) committed are the gaps between them: a
// subscription that finds the next position missing here, or that the
// poller has seen a commit since it last read the file (outside), reads
// the file from its next position, which returns every row at or after
// it, ours included. So each position is still delivered once, in order,
// whoever wrote it.
type recent struct {
	mu  sync.Mutex
	evs []events.Envelope // ascending positions; gaps where others wrote

	// outside counts the wake-ups that may stand for commits not in evs
	// (the poller's, PollNow's). It is bumped before the broadcast.
	outside atomic.Uint64

	// readers holds each live subscription's next position: events
	// before the smallest are read by all and may go (trim).
	readers map[*atomic.Uint64]struct{}
}

// last is the position of the latest event kept, 0 if none.
func (r *recent) last() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.evs) == 0 {
		return 0
	}
	return r.evs[len(r.evs)-1].Position
}

// follow registers a live subscription, whose next position the caller
// keeps in the returned cursor until it calls unfollow.
func (r *recent) follow(next uint64) *atomic.Uint64 {
	c := new(atomic.Uint64)
	c.Store(next)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.readers == nil {
		r.readers = make(map[*atomic.Uint64]struct{})
	}
	r.readers[c] = struct{}{}
	return c
}

func (r *recent) unfollow(c *atomic.Uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.readers, c)
}

// trim drops, once more than twice recentMax are kept, the events every
// live subscription has read, keeping the latest recentMax, and never
// more than recentCap. r.mu is held.
func (r *recent) trim() {
	if len(r.evs) <= 2*recentMax {
		return
	}
	low := r.evs[len(r.evs)-1].Position + 1
	for c := range r.readers {
		low = min(low, c.Load())
	}
	keep := len(r.evs) - sort.Search(len(r.evs), func(i int) bool { return r.evs[i].Position >= low })
	keep = min(max(keep, recentMax), recentCap)
	if keep*2 > len(r.evs) && len(r.evs) <= recentCap {
		return // not worth a copy yet
	}
	n := copy(r.evs, r.evs[len(r.evs)-keep:])
	clear(r.evs[n:])
	r.evs = r.evs[:n]
}

// add records the events of the requests in batch that committed
// (results[i] == nil). The writer calls it after COMMIT and before it
// answers the callers, who own their envelopes from then on: the events
// are copied, and Recorded is set as the file gives it back (UTC, to the
// nanosecond), so that a subscriber sees the same envelope either way.
func (r *recent) add(batch []*appendReq, results []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, req := range batch {
		if results[i] != nil {
			continue
		}
		for _, e := range req.evs {
			e.Recorded = time.Unix(0, e.Recorded.UnixNano()).UTC()
			r.evs = append(r.evs, e)
		}
	}
	r.trim()
}

// after appends to buf the run of events at consecutive positions that
// starts at next. gap reports that the store holds events from next on
// that are not all here: one missing at next (another process wrote it,
// or it has been dropped from memory), or a break after the run. Nothing
// and no gap means nothing new was committed here.
func (r *recent) after(next uint64, buf []events.Envelope) (run []events.Envelope, gap bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := sort.Search(len(r.evs), func(i int) bool { return r.evs[i].Position >= next })
	if i == len(r.evs) {
		return buf, false
	}
	if r.evs[i].Position != next {
		return buf, true
	}
	for ; i < len(r.evs); i++ {
		if r.evs[i].Position != next {
			return buf, true
		}
		buf = append(buf, r.evs[i])
		next++
	}
	return buf, false
}

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
	if len(r.evs) > 2*recentMax {
		n := copy(r.evs, r.evs[len(r.evs)-recentMax:])
		clear(r.evs[n:])
		r.evs = r.evs[:n]
	}
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

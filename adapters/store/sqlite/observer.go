package sqlite

import (
	"sync/atomic"
	"time"
)

// Observer hears about the store's writes, for metrics. Its methods are
// called on the write path (Appended from each caller's goroutine,
// Committed from the writer goroutine): they must be cheap, safe for
// concurrent use and never block.
type Observer interface {
	// Appended reports one Append that committed, and how long its caller
	// waited from the call to the durable commit (queueing, the group
	// commit and its fsync).
	Appended(waited time.Duration)
	// Committed reports one group commit: how many events the transaction
	// wrote and how long it took from BEGIN to the end of COMMIT.
	Committed(events int, took time.Duration)
}

// observerRef boxes an Observer for atomic.Pointer.
type observerRef struct{ Observer }

// observers holds the store's Observer; the zero value has none.
type observers struct{ p atomic.Pointer[observerRef] }

func (o *observers) load() Observer {
	if r := o.p.Load(); r != nil {
		return r.Observer
	}
	return nil
}

// Observe makes o hear about every later Append and group commit (nil:
// nobody). It may be called at any time, from any goroutine.
func (s *Store) Observe(o Observer) {
	if o == nil {
		s.obs.p.Store(nil)
		return
	}
	s.obs.p.Store(&observerRef{o})
}

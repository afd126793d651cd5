package replay

import (
	"context"
	"runtime"
	"sync"

	"xmppd/events"
)

// Progress is told how many events were read since it was last called.
// It may be nil. It is always called from the goroutine that called the
// function it was given to.
type Progress func(read uint64)

func (p Progress) add(n uint64) {
	if p != nil && n > 0 {
		p(n)
	}
}

// At replays the account bare up to c and returns its state. ok is false
// when the log holds no event of the account at or before c.
func At(ctx context.Context, store events.Store, bare string, c Cutoff, progress Progress) (s State, ok bool, err error) {
	f := newFolder(bare, keysOf(store))
	for e, err := range AccountLog(ctx, store, bare, c) {
		if err != nil {
			return State{}, false, err
		}
		if err := f.apply(&e); err != nil {
			return State{}, false, err
		}
		progress.add(1)
	}
	return f.state(), f.read > 0, nil
}

// replayed is one account's replay, done by a worker of All.
type replayed struct {
	s    State
	ok   bool
	read uint64
	err  error
	done chan struct{}
}

// All replays every account the log knows up to c and calls emit with
// each state in JID order. Accounts are replayed one per core, a few
// ahead of emit and no more, so only a handful of accounts' views are in
// memory at once, whatever the size of the log. Accounts with no event at
// or before c are skipped.
func All(ctx context.Context, store events.Store, c Cutoff, progress Progress, emit func(State) error) error {
	accounts, err := Accounts(ctx, store)
	if err != nil {
		return err
	}
	// Deferred in this order so that, on an early return, cancel stops
	// the feeder and the workers before Wait waits for them.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *replayed)
	ordered := make(chan *replayed, 2*workers) // bounds how far ahead workers run
	for range workers {
		wg.Go(func() {
			for r := range work {
				r.s, r.ok, r.err = At(ctx, store, r.s.JID, c, func(n uint64) { r.read += n })
				close(r.done)
			}
		})
	}
	wg.Go(func() {
		defer close(ordered)
		defer close(work)
		for _, bare := range accounts {
			r := &replayed{s: State{JID: bare}, done: make(chan struct{})}
			select {
			case ordered <- r:
			case <-ctx.Done():
				return
			}
			select {
			case work <- r:
			case <-ctx.Done():
				return
			}
		}
	})
	for r := range ordered {
		select {
		case <-r.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		progress.add(r.read)
		if r.err != nil {
			return r.err
		}
		if !r.ok {
			continue
		}
		if err := emit(r.s); err != nil {
			return err
		}
	}
	return ctx.Err()
}

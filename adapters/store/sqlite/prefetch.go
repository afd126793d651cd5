package sqlite

import (
	"context"
	"iter"
	"log/slog"
	"sync"

	"xmppd/events"
)

// fetchers is how many connections read ranges of the log in parallel
// during a long read; decoding rows is the costly part of a read, and it
// runs on the reading goroutine.
const fetchers = 2

// pageResult is one page of the log or the error that ended reading.
type pageResult struct {
	evs  []events.Envelope
	prep any        // what ReadOptions.Prepare made of evs
	mem  *slabChunk // where evs's data is, when pages are released (scanner.chunks)
	err  error
}

// release recycles a page that will not be handed over.
func (r pageResult) release() {
	putPage(r.evs)
	if r.mem != nil {
		putSlabChunk(r.mem)
	}
}

// readPage is a page sc has read on the calling goroutine, prepared there.
func readPage(sc *scanner, opts events.ReadOptions, evs []events.Envelope, err error) pageResult {
	r := pageResult{evs: evs, mem: sc.endPage(), err: err}
	if err == nil && opts.Prepare != nil && len(evs) > 0 {
		r.prep = opts.Prepare(evs)
	}
	return r
}

// newPageScanner returns a scanner for the pages of a long read: chunks
// when the consumer releases pages (ReadPages).
func newPageScanner(opts events.ReadOptions, chunks bool) *scanner {
	sc := newScanner()
	sc.forFolding, sc.bare, sc.chunks = opts.ForFolding, opts.Bare, chunks
	return sc
}

// prefetch yields pages of the log from position from, in order, fetched
// by other goroutines ahead of the consumer.
//
// Up to the head of the log as it is when the read starts, pages are
// position ranges [lo, lo+pageSize) that fetchers read in parallel, each
// on its own pooled connection; a range may hold fewer rows than its width
// (positions need not be contiguous) without ending the read. From there
// on, pages are "the next pageSize rows after the last one", read one at a
// time, until a short page: the head of the log as reading reached it.
func (s *Store) prefetch(ctx context.Context, from uint64, opts events.ReadOptions, chunks bool) iter.Seq[pageResult] {
	return func(yield func(pageResult) bool) {
		// stop tells the goroutines the consumer has left; fetchCtx also
		// interrupts a query in progress then. The caller's own ctx is not
		// used to stop sending, so its error always reaches the consumer.
		stop := make(chan struct{})
		fetchCtx, cancel := context.WithCancel(ctx)
		futures := make(chan chan pageResult, 2*fetchers)
		go s.dispatch(fetchCtx, from, opts, chunks, futures, stop)
		defer func() {
			close(stop)
			cancel()
			for f := range futures { // wait, so nothing outlives the loop
				<-f
			}
		}()
		for f := range futures {
			p := <-f
			if !yield(p) || p.err != nil {
				return
			}
		}
	}
}

// dispatch sends, in log order, one future per page on futures, and
// closes it after the last. Every future it sends is always completed.
func (s *Store) dispatch(ctx context.Context, from uint64, opts events.ReadOptions, chunks bool, futures chan<- chan pageResult, stop <-chan struct{}) {
	defer close(futures)
	send := func(f chan pageResult) bool {
		select {
		case futures <- f:
			return true
		case <-stop:
			return false
		}
	}

	next := max(from, 1)
	head, err := s.head(ctx)
	if err == nil && s.layout.stream == "" && head+1 >= next+s.rawMin {
		// Most of a long read comes straight from the file (rawread.go);
		// whatever it does not reach is read through SQL below.
		var stopped bool
		next, stopped, err = s.readRaw(ctx, next, opts, chunks, func(p pageResult) bool {
			f := make(chan pageResult, 1)
			f <- p
			return send(f)
		})
		if stopped {
			return
		}
		if err != nil && ctx.Err() == nil {
			s.rawFallbacks.Add(1)
			slog.Warn("sqlite: reading the log file directly failed; reading on through SQL", "path", s.cfg.Path, "position", next, "err", err)
		}
		err = nil
	}
	if err == nil && head >= next+2*pageSize {
		type job struct {
			lo uint64
			f  chan pageResult
		}
		jobs := make(chan job)
		done := make(chan struct{})
		for range fetchers {
			go func() {
				defer func() { done <- struct{}{} }()
				sc := newPageScanner(opts, chunks)
				for j := range jobs {
					sc.startPage()
					evs, err := s.page(ctx, sc, s.layout.rng, j.lo, pageSize, getPage())
					j.f <- readPage(sc, opts, evs, err)
				}
			}()
		}
		ok := true
		for ; ok && next <= head; next += pageSize {
			f := make(chan pageResult, 1)
			if ok = send(f); ok {
				jobs <- job{next, f}
			}
		}
		close(jobs)
		for range fetchers {
			<-done
		}
		if !ok {
			return
		}
	}

	sc := newPageScanner(opts, chunks)
	for {
		f := make(chan pageResult, 1)
		if !send(f) {
			return
		}
		sc.startPage()
		evs, err := s.page(ctx, sc, s.layout.all, next, pageSize, getPage())
		f <- readPage(sc, opts, evs, err)
		if err != nil || len(evs) < pageSize {
			return
		}
		next = evs[len(evs)-1].Position + 1
	}
}

// pages recycles the page buffers of long reads: a page of envelopes is
// about 300 KB, and ReadAll and Subscribe hand each envelope on by value,
// so a page's slice is free again once its loop has yielded it all.
var pages = sync.Pool{New: func() any { return make([]events.Envelope, 0, pageSize) }}

func getPage() []events.Envelope { return pages.Get().([]events.Envelope)[:0] }

// putPage returns a page whose envelopes have all been yielded by value.
// It is not cleared: every envelope a later page appends is written
// whole, and clearing 280 KB a page cost a rebuild 5% of its time. What
// the pooled page still points to (a page's strings and data, a few
// hundred KB) lives only until the pool drops it, within two collections.
func putPage(evs []events.Envelope) {
	if cap(evs) >= pageSize {
		pages.Put(evs[:0])
	}
}

package projections

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"xmppd/events"
)

// progressEvery is how many events Rebuild applies between progress calls:
// often enough for a terminal, rarely enough to cost nothing.
const progressEvery = 1 << 16

// Rebuild brings v up to date from store: it reads the log from
// v.Position()+1 and applies every event, stopping after position upTo if
// upTo is not 0 (`xmppd replay` "as of position"), otherwise at the head
// of the log as reading reached it. progress, if not nil, is called with
// the number of events applied so far every 65,536 events and once at the
// end. It returns v's position afterwards; on error, v holds every event
// before the one that failed.
func Rebuild(ctx context.Context, store events.Store, v *Views, upTo uint64, progress func(applied uint64)) (uint64, error) {
	if upTo != 0 && v.Position() >= upTo {
		return v.Position(), nil
	}
	return rebuild(ctx, store, v, func(e *events.Envelope) bool { return upTo != 0 && e.Position > upTo }, progress)
}

// RebuildUntil is Rebuild stopping before the first event recorded after
// until (`xmppd replay` "as of instant"). Recorded times come from each
// writer's clock; the log's order is position order, so the first event
// after until ends the rebuild even if a later one was recorded earlier.
func RebuildUntil(ctx context.Context, store events.Store, v *Views, until time.Time, progress func(applied uint64)) (uint64, error) {
	return rebuild(ctx, store, v, func(e *events.Envelope) bool { return e.Recorded.After(until) }, progress)
}

// batchSize is how many events travel together between the goroutines of
// a rebuild from a store that yields events one at a time: large enough
// that the hand-over costs nothing per event, small enough that the
// batches in flight hold little memory. A store that reads in pages
// (events.PageReader) sets the size itself.
const batchSize = 512

// batch is a run of consecutive events of the log and, once done has
// received its token, their decodings (ds[i] is evs[i]'s). done is
// buffered so the decoder never waits for the folder.
type batch struct {
	evs      []events.Envelope
	ds       []decoded
	page     *events.Page // the store's page evs is from, to be given back with ReleasePage
	prepared *decodings   // ds came from prepare, to be given back to decodingPool
	done     chan struct{}
}

// decodings is what prepare makes of a page: the decoding of each event.
type decodings struct{ ds []decoded }

var decodingPool = sync.Pool{New: func() any { return new(decodings) }}

// prepare decodes a page's events on the goroutine that read them
// (events.ReadOptions.Prepare): the bytes are still in that core's cache,
// where handing them to a decoder on another core costs cache misses that
// took as long as the decoding itself.
func (v *Views) prepare(evs []events.Envelope) any {
	d := decodingPool.Get().(*decodings)
	d.ds = slices.Grow(d.ds[:0], len(evs))[:len(evs)]
	for i := range evs {
		d.ds[i] = decode(&evs[i], v.keys, v.archives != nil)
	}
	return d
}

// rebuild runs a pipeline: one goroutine reads the log into batches,
// GOMAXPROCS goroutines decode batches (decoding is most of the cost and
// touches no view), and the calling goroutine folds the batches in log
// order, one event at a time through applyDecoded, as Apply would.
//
// From a store that reads in pages (events.PageReader, asked for only what
// folding needs), each page is a batch as it is: no envelope is copied
// between the store's reading and the fold, and the page comes decoded by
// prepare on the store's reading goroutine, so the decoders stay idle
// (they decode only for a store that ignores ReadOptions.Prepare).
func rebuild(ctx context.Context, store events.Store, v *Views, stop func(*events.Envelope) bool, progress func(uint64)) (uint64, error) {
	from := v.Position() + 1
	ctx, cancel := context.WithCancel(ctx)
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *batch, 2*workers)    // to the decoders, any order
	ordered := make(chan *batch, 2*workers) // to the folder, log order
	free := make(chan *batch, 4*workers+2)  // folded batches, for reuse
	var readErr error                       // set by the reader before it closes ordered
	pager, _ := store.(events.PageReader)

	var decoders sync.WaitGroup
	for range workers {
		decoders.Go(func() {
			for b := range work {
				b.ds = slices.Grow(b.ds[:0], len(b.evs))[:len(b.evs)]
				for i := range b.evs {
					b.ds[i] = decode(&b.evs[i], v.keys, v.archives != nil)
				}
				b.done <- struct{}{}
			}
		})
	}
	go func() {
		defer close(ordered)
		defer close(work)
		send := func(b *batch) bool {
			// To the decoders first: a batch the folder receives is
			// always decoded in the end. One dropped between the two
			// sends is never folded, and the folder reports ctx's error.
			select {
			case work <- b:
			case <-ctx.Done():
				return false
			}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return false
			}
			return true
		}
		if pager != nil {
			opts := events.ReadOptions{ForFolding: true, Prepare: v.prepare}
			if v.archives != nil {
				// The archived messages are loaded per account later
				// (archive_lazy.go): the store need not read them.
				opts.Bare = bareArchived
			}
			for page, err := range pager.ReadPages(ctx, from, opts) {
				if err != nil {
					readErr = err
					return
				}
				evs := page.Events
				// Every event is asked: RebuildUntil's stop is not monotone.
				n := len(evs)
				for i := range evs {
					if stop(&evs[i]) {
						n = i
						break
					}
				}
				b := newBatch(free)
				b.evs, b.page = evs[:n], &page
				if ds, ok := page.Prepared.(*decodings); ok && len(ds.ds) == len(evs) {
					b.prepared = ds
					b.ds = ds.ds
					b.done <- struct{}{} // decoded already, by the store's reader
					if n > 0 {
						select {
						case ordered <- b:
						case <-ctx.Done():
							return
						}
					}
				} else if n > 0 && !send(b) {
					return
				}
				if n < len(evs) {
					return
				}
			}
			return
		}
		b := newBatch(free)
		b.evs = slices.Grow(b.evs, batchSize)
		for e, err := range store.ReadAll(ctx, from) {
			if err != nil {
				readErr = err
				break
			}
			if stop(&e) {
				break
			}
			b.evs = append(b.evs, e)
			if len(b.evs) == batchSize {
				if !send(b) {
					return
				}
				b = newBatch(free)
				b.evs = slices.Grow(b.evs, batchSize)
			}
		}
		if len(b.evs) > 0 {
			send(b)
		}
	}()
	defer func() {
		cancel()
		for range ordered { // let the reader finish so nothing outlives Rebuild
		}
		decoders.Wait()
	}()

	var applied uint64
	for b := range ordered {
		<-b.done
		for i := range b.evs {
			if err := v.applyDecoded(&b.evs[i], b.ds[i]); err != nil {
				return v.Position(), err
			}
			applied++
			if applied%progressEvery == 0 {
				if err := ctx.Err(); err != nil {
					return v.Position(), fmt.Errorf("projections: rebuild at position %d: %w", v.Position(), err)
				}
				if progress != nil {
					progress(applied)
				}
			}
		}
		clear(b.ds) // drop references to payloads
		if b.prepared != nil {
			decodingPool.Put(b.prepared)
			b.prepared, b.ds = nil, nil
		}
		if b.page != nil {
			pager.ReleasePage(*b.page)
			b.evs, b.page = nil, nil
		} else {
			clear(b.evs) // drop references to strings and data
			b.evs = b.evs[:0]
		}
		select {
		case free <- b:
		default:
		}
	}
	if readErr != nil {
		return v.Position(), fmt.Errorf("projections: rebuild from position %d: %w", from, readErr)
	}
	if err := ctx.Err(); err != nil {
		return v.Position(), fmt.Errorf("projections: rebuild at position %d: %w", v.Position(), err)
	}
	if progress != nil {
		progress(applied)
	}
	return v.Position(), nil
}

// newBatch returns an empty batch, reused from free if one is there.
func newBatch(free chan *batch) *batch {
	select {
	case b := <-free:
		return b
	default:
		return &batch{done: make(chan struct{}, 1)}
	}
}

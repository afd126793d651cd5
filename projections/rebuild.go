package projections

import (
	"context"
	"fmt"
	"runtime"
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
// a rebuild: large enough that the hand-over costs nothing per event,
// small enough that the batches in flight hold little memory.
const batchSize = 512

// decodedEvent is one event read from the store and decoded ahead; a
// decoding error is reported when the event's turn comes.
type decodedEvent struct {
	e events.Envelope
	d decoded
}

// batch is a run of consecutive events of the log. done receives one
// token when every event in it is decoded; it is buffered so the decoder
// never waits for the folder.
type batch struct {
	evs  []decodedEvent
	done chan struct{}
}

// rebuild runs a pipeline: one goroutine reads the log into batches,
// GOMAXPROCS goroutines decode batches (decoding is most of the cost and
// touches no view), and the calling goroutine folds the batches in log
// order, one event at a time through applyDecoded, as Apply would.
func rebuild(ctx context.Context, store events.Store, v *Views, stop func(*events.Envelope) bool, progress func(uint64)) (uint64, error) {
	from := v.Position() + 1
	ctx, cancel := context.WithCancel(ctx)
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *batch, 2*workers)    // to the decoders, any order
	ordered := make(chan *batch, 2*workers) // to the folder, log order
	free := make(chan *batch, 4*workers+2)  // folded batches, for reuse
	var readErr error                       // set by the reader before it closes ordered

	var decoders sync.WaitGroup
	for range workers {
		decoders.Go(func() {
			for b := range work {
				for i := range b.evs {
					x := &b.evs[i]
					x.d = decode(&x.e)
				}
				b.done <- struct{}{}
			}
		})
	}
	go func() {
		defer close(ordered)
		defer close(work)
		b := newBatch(free)
		send := func() bool {
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
			b = newBatch(free)
			return true
		}
		for e, err := range store.ReadAll(ctx, from) {
			if err != nil {
				readErr = err
				break
			}
			if stop(&e) {
				break
			}
			b.evs = append(b.evs, decodedEvent{e: e})
			if len(b.evs) == batchSize && !send() {
				return
			}
		}
		if len(b.evs) > 0 {
			send()
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
			x := &b.evs[i]
			if err := v.applyDecoded(&x.e, x.d); err != nil {
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
		clear(b.evs) // drop references to payloads and stanzas
		b.evs = b.evs[:0]
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
		return &batch{evs: make([]decodedEvent, 0, batchSize), done: make(chan struct{}, 1)}
	}
}

package bus

import (
	"context"
	"fmt"
	"sync"

	"xmppd/events"
)

// handOver carries envelopes from Publish to the consumers of an
// in-process bus by reference, many to a message, instead of encoding
// each one to JSON for its own message and decoding it again in every
// consumer: on one node that round trip, and a watermill message per
// event, were a fifth of the server's CPU under archived chat (issue 13),
// for bytes that never leave the process. It is sound because the
// GoChannel blocks each publish until every subscriber has acknowledged
// the message (NewGoChannel): the envelopes are in the map from before
// the publish until after the last consumer has applied them. A
// broker-backed Pub/Sub (New) has no handOver and sends JSON, an
// envelope a message.
type handOver struct {
	mu sync.Mutex
	m  map[string][]events.Envelope // by message UUID
}

func (h *handOver) put(id string, envs []events.Envelope) {
	h.mu.Lock()
	h.m[id] = envs
	h.mu.Unlock()
}

func (h *handOver) drop(id string) {
	h.mu.Lock()
	delete(h.m, id)
	h.mu.Unlock()
}

// take returns the envelopes published as message id, or nil when there
// are none (a bus without handOver, or a message from elsewhere).
func (h *handOver) take(id string) []events.Envelope {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[id]
}

// maxFeedBatch bounds the envelopes of one in-process message, and so
// what the feed holds while the consumers are busy.
const maxFeedBatch = 4096

// feedBatches is Feed on an in-process bus: one goroutine follows the
// store and collects envelopes while this one publishes what was
// collected, so that each batch is what was committed while the last was
// being applied, the batch growing with the load.
func (b *Bus) feedBatches(ctx context.Context, store events.Store, from uint64) error {
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		pending []events.Envelope
		ended   bool
		feedErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		var err error
		for e, err2 := range store.Subscribe(ctx, from) {
			if err = err2; err != nil {
				break
			}
			mu.Lock()
			for len(pending) >= maxFeedBatch && !ended {
				cond.Wait()
			}
			pending = append(pending, e)
			cond.Broadcast()
			mu.Unlock()
		}
		mu.Lock()
		ended = true
		if err != nil && ctx.Err() == nil {
			feedErr = fmt.Errorf("bus: feed: %w", err)
		}
		cond.Broadcast()
		mu.Unlock()
	}()
	for {
		mu.Lock()
		for len(pending) == 0 && !ended {
			cond.Wait()
		}
		batch := pending
		pending = nil
		done := ended
		cond.Broadcast()
		mu.Unlock()
		if err := b.Publish(batch...); err != nil {
			mu.Lock()
			ended = true // the follower stops adding and returns
			cond.Broadcast()
			mu.Unlock()
			return err
		}
		if done && len(batch) == 0 {
			mu.Lock()
			defer mu.Unlock()
			return feedErr
		}
	}
}

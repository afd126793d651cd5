package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"xmppd/events"
)

// subscribeTimeout bounds how long a subscription test waits for events.
const subscribeTimeout = 30 * time.Second

// testSubscribeHandOver subscribes from the head while 100 events are
// already committed and four goroutines keep appending 400 more: the
// subscriber receives every acknowledged event exactly once, in position
// order, across the catch-up/live boundary, and nothing else of this test.
func testSubscribeHandOver(t *testing.T, s events.Store, _ func() error) {
	const pre, writers, perWriter = 100, 4, 100
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	r := newRun(t, s)

	var mu sync.Mutex
	acked := map[string]bool{}
	ack := func(out []events.Envelope) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range out {
			acked[e.ID] = true
		}
	}
	for i := range pre / 10 {
		out, err := s.Append(ctx, r.stream(fmt.Sprint("pre", i%4)), events.Any, Envelopes(t, 10, FullMeta())...)
		if err != nil {
			t.Fatal(err)
		}
		ack(out)
	}

	received := make(chan []events.Envelope, 1)
	subErr := make(chan error, 1)
	go func() {
		var got []events.Envelope
		defer func() { received <- got }()
		for e, err := range s.Subscribe(ctx, r.start) {
			if err != nil {
				subErr <- err
				return
			}
			if r.mine(e) {
				got = append(got, e)
				if len(got) == pre+writers*perWriter {
					subErr <- nil
					return
				}
			}
		}
		subErr <- errors.New("subscription ended without an error")
	}()

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			stream := r.stream(fmt.Sprint("live", w))
			for i := 0; i < perWriter; {
				n := min(1+i%5, perWriter-i)
				out, err := s.Append(ctx, stream, events.Exactly(uint64(i)), Envelopes(t, n, FullMeta())...)
				if err != nil {
					errs <- err
					return
				}
				ack(out)
				i += n
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("appender: %v", err)
	}
	if err := <-subErr; err != nil {
		t.Fatalf("subscription: %v", err)
	}
	got := <-received
	seen := map[string]bool{}
	for i, e := range got {
		if seen[e.ID] {
			t.Fatalf("event %s delivered twice", e.ID)
		}
		seen[e.ID] = true
		if !acked[e.ID] {
			t.Fatalf("event %s delivered but never acknowledged", e.ID)
		}
		if i > 0 && e.Position <= got[i-1].Position {
			t.Fatalf("delivery %d: position %d not after %d", i, e.Position, got[i-1].Position)
		}
	}
	if len(seen) != len(acked) {
		t.Fatalf("delivered %d distinct events, %d acknowledged", len(seen), len(acked))
	}
	checkChains(t, got)
}

// testSubscribeFromMiddle subscribes from the position of the 6th of 10
// committed events and receives exactly the last five, then a live one.
func testSubscribeFromMiddle(t *testing.T, s events.Store, _ func() error) {
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	r := newRun(t, s)
	stream := r.stream("mid")
	out, err := s.Append(ctx, stream, events.NoStream, Envelopes(t, 10, FullMeta())...)
	if err != nil {
		t.Fatal(err)
	}
	want := out[5:]
	var got []events.Envelope
	for e, err := range s.Subscribe(ctx, out[5].Position) {
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		if !r.mine(e) {
			continue
		}
		got = append(got, e)
		if len(got) == 6 {
			break
		}
		if len(got) == 5 {
			// Caught up: now a live event.
			live, err := s.Append(ctx, stream, events.Exactly(10), Envelopes(t, 1, FullMeta())...)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, live...)
		}
	}
	if len(got) != 6 {
		t.Fatalf("received %d events, want 6", len(got))
	}
	for i := range got {
		if d := diffEnvelope(got[i], want[i]); d != "" {
			t.Errorf("event %d: %s", i, d)
		}
	}
}

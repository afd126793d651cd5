package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"xmppd/events"
)

// testRacingSameVersion starts 16 appenders at once, all expecting version
// 1: exactly one wins, every other gets ErrConflict, and the stream holds
// the first event and the winner's, chained.
func testRacingSameVersion(t *testing.T, s events.Store, _ func() error) {
	const racers = 16
	ctx := context.Background()
	r := newRun(t, s)
	stream := r.stream("race")
	if _, err := s.Append(ctx, stream, events.NoStream, Envelopes(t, 1, FullMeta())...); err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, racers)
	ids := make([]string, racers)
	for i := range racers {
		e := Envelopes(t, 1, FullMeta())[0]
		e.ID = NewID(t)
		ids[i] = e.ID
		wg.Go(func() {
			<-start
			_, errs[i] = s.Append(ctx, stream, events.Exactly(1), e)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("racers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, events.ErrConflict):
			t.Errorf("racer %d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer won")
	}
	got := readStream(t, s, stream, 1)
	if len(got) != 2 || got[1].ID != ids[winner] {
		t.Fatalf("stream holds %d events (last %q), want 2 ending with the winner %q", len(got), got[len(got)-1].ID, ids[winner])
	}
	checkChains(t, got)
}

// testRacingAny has 16 appenders add 5 events each with Any to one stream:
// all succeed, versions run 1..80 with no hole, and each append's events
// are contiguous (an atomic append is not interleaved with another).
func testRacingAny(t *testing.T, s events.Store, _ func() error) {
	const racers, per = 16, 5
	ctx := context.Background()
	r := newRun(t, s)
	stream := r.stream("any")
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		evs := Envelopes(t, per, FullMeta())
		for j := range evs {
			evs[j].CorrelationID = fmt.Sprint(i)
		}
		wg.Go(func() { _, errs[i] = s.Append(ctx, stream, events.Any, evs...) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("appender %d: %v", i, err)
		}
	}
	got := readStream(t, s, stream, 1)
	if len(got) != racers*per {
		t.Fatalf("stream holds %d events, want %d", len(got), racers*per)
	}
	checkChains(t, got)
	for i := 0; i < len(got); i += per {
		for j := i; j < i+per; j++ {
			if got[j].CorrelationID != got[i].CorrelationID {
				t.Fatalf("versions %d..%d mix appends %s and %s", i+1, i+per, got[i].CorrelationID, got[j].CorrelationID)
			}
		}
	}
}

// testReadStreamFromMiddle reads a stream from each interesting version.
func testReadStreamFromMiddle(t *testing.T, s events.Store, _ func() error) {
	ctx := context.Background()
	r := newRun(t, s)
	stream := r.stream("middle")
	out, err := s.Append(ctx, stream, events.NoStream, Envelopes(t, 10, FullMeta())...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from       uint64
		firstIndex int // index in out of the first event, -1 for none
	}{{0, 0}, {1, 0}, {4, 3}, {10, 9}, {11, -1}, {1000, -1}} {
		got := readStream(t, s, stream, tc.from)
		if tc.firstIndex < 0 {
			if len(got) != 0 {
				t.Errorf("from %d: %d events, want none", tc.from, len(got))
			}
			continue
		}
		want := out[tc.firstIndex:]
		if len(got) != len(want) {
			t.Errorf("from %d: %d events, want %d", tc.from, len(got), len(want))
			continue
		}
		for i := range got {
			if d := diffEnvelope(got[i], want[i]); d != "" {
				t.Errorf("from %d, event %d: %s", tc.from, i, d)
			}
		}
	}
	if got := readStream(t, s, r.stream("missing"), 1); len(got) != 0 {
		t.Errorf("missing stream yielded %d events", len(got))
	}
}

// testReadAllOrder appends 50 streams x 40 events from 8 goroutines in
// small batches at the right expected version, then reads the log: every
// acknowledged event appears exactly once, positions ascend, every chain
// holds, ReadAll order is the order of the acknowledged positions, and an
// append acknowledged before another began has the smaller position.
func testReadAllOrder(t *testing.T, s events.Store, _ func() error) {
	const streams, perStream, workers = 50, 40, 8
	ctx := context.Background()
	r := newRun(t, s)
	var mu sync.Mutex
	var acked []events.Envelope
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []string
			version := map[string]uint64{}
			for i := w; i < streams; i += workers {
				mine = append(mine, r.stream(fmt.Sprint("s", i)))
			}
			var lastPos uint64
			for left := len(mine) * perStream; left > 0; {
				stream := mine[rng.IntN(len(mine))]
				n := min(1+rng.IntN(4), perStream-int(version[stream]))
				if n == 0 {
					continue
				}
				out, err := s.Append(ctx, stream, events.Exactly(version[stream]), Envelopes(t, n, FullMeta())...)
				if err != nil {
					errs <- fmt.Errorf("worker %d: append %s at %d: %w", w, stream, version[stream], err)
					return
				}
				if out[0].Position <= lastPos {
					errs <- fmt.Errorf("worker %d: append acknowledged later has position %d, not after %d", w, out[0].Position, lastPos)
					return
				}
				lastPos = out[n-1].Position
				version[stream] += uint64(n)
				left -= n
				mu.Lock()
				acked = append(acked, out...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	slices.SortFunc(acked, func(a, b events.Envelope) int { return cmpUint(a.Position, b.Position) })
	got := r.readMine(ctx)
	if len(got) != len(acked) {
		t.Fatalf("ReadAll found %d events of this test, %d were acknowledged", len(got), len(acked))
	}
	seen := map[string]bool{}
	for i, e := range got {
		if seen[e.ID] {
			t.Fatalf("event %s read twice", e.ID)
		}
		seen[e.ID] = true
		if i > 0 && e.Position <= got[i-1].Position {
			t.Fatalf("ReadAll event %d: position %d not after %d", i, e.Position, got[i-1].Position)
		}
		if d := diffEnvelope(e, acked[i]); d != "" {
			t.Fatalf("ReadAll event %d differs from the acknowledged event at that place: %s", i, d)
		}
	}
	if c := checkChains(t, got); c.Streams() != streams {
		t.Fatalf("chains of %d streams, want %d", c.Streams(), streams)
	}
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

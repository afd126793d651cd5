package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// recordingObserver keeps what the store reported.
type recordingObserver struct {
	mu        sync.Mutex
	appended  []time.Duration
	committed []int
}

func (o *recordingObserver) Appended(d time.Duration) {
	o.mu.Lock()
	o.appended = append(o.appended, d)
	o.mu.Unlock()
}

func (o *recordingObserver) Committed(n int, _ time.Duration) {
	o.mu.Lock()
	o.committed = append(o.committed, n)
	o.mu.Unlock()
}

// TestObserverHearsEveryCommittedEvent: each committed Append is reported
// once with its wait, and the group commits add up to exactly the events
// committed; a conflicting Append is reported in neither.
func TestObserverHearsEveryCommittedEvent(t *testing.T) {
	s := openTemp(t, sqlite.Config{})
	defer s.Close()
	obs := &recordingObserver{}
	s.Observe(obs)
	ctx := context.Background()

	const callers, each = 16, 3
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			stream := fmt.Sprintf("account-obs%d@example.com", i)
			if _, err := s.Append(ctx, stream, events.Exactly(0), storetest.Envelopes(t, each, storetest.FullMeta())...); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	_, err := s.Append(ctx, "account-obs0@example.com", events.Exactly(0), storetest.Envelopes(t, 1, storetest.FullMeta())...)
	if !errors.Is(err, events.ErrConflict) {
		t.Fatalf("append at a stale version: %v, want ErrConflict", err)
	}

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.appended) != callers {
		t.Errorf("Appended called %d times, want %d", len(obs.appended), callers)
	}
	for _, d := range obs.appended {
		if d <= 0 {
			t.Errorf("Appended reported a wait of %v", d)
		}
	}
	total := 0
	for _, n := range obs.committed {
		if n <= 0 {
			t.Errorf("Committed reported a batch of %d events", n)
		}
		total += n
	}
	if total != callers*each {
		t.Errorf("group commits add up to %d events (%v), want %d", total, obs.committed, callers*each)
	}
}

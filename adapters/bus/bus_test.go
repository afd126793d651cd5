package bus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"xmppd/adapters/bus"
	"xmppd/events"
)

func envs(t *testing.T, from, n int) []events.Envelope {
	t.Helper()
	out := make([]events.Envelope, n)
	for i := range out {
		e, err := events.New(events.PresenceAvailable{Resource: "r", Priority: i}, events.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		e.ID = fmt.Sprintf("id-%d", from+i)
		e.Stream = "presence-alice@localhost"
		e.Version = uint64(from + i)
		e.Position = uint64(from + i)
		out[i] = e
	}
	return out
}

// Two consumers see every envelope once, in log order, and skip positions
// they had already applied before subscribing.
func TestConsumersApplyInOrderAndSkipApplied(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := bus.NewGoChannel(nil)
	defer b.Close()

	var mu sync.Mutex
	got := map[string][]uint64{}
	record := func(name string) bus.Apply {
		return func(e events.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			got[name] = append(got[name], e.Position)
			return nil
		}
	}
	fresh, err := b.Subscribe(ctx, "fresh", 0, record("fresh"))
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := b.Subscribe(ctx, "rebuilt", 300, record("rebuilt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(envs(t, 1, 500)...); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	for _, c := range []*bus.Consumer{fresh, rebuilt} {
		if err := c.WaitFor(wctx, 500); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for name, first := range map[string]uint64{"fresh": 1, "rebuilt": 301} {
		ps := got[name]
		if len(ps) != int(501-first) {
			t.Fatalf("%s applied %d envelopes, want %d", name, len(ps), 501-first)
		}
		for i, p := range ps {
			if p != first+uint64(i) {
				t.Fatalf("%s: envelope %d has position %d, want %d (out of order)", name, i, p, first+uint64(i))
			}
		}
	}
}

func TestWaitForEndsWithContextOrConsumerFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := bus.NewGoChannel(nil)
	defer b.Close()
	c, err := b.Subscribe(ctx, "failing", 0, func(e events.Envelope) error {
		if e.Position == 2 {
			return fmt.Errorf("cannot apply")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	short, scancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer scancel()
	if err := c.WaitFor(short, 1); err == nil {
		t.Fatal("WaitFor returned before position 1 was published")
	}
	if err := b.Publish(envs(t, 1, 3)...); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := c.WaitFor(wctx, 1); err != nil {
		t.Fatalf("position 1 was applied: %v", err)
	}
	err = c.WaitFor(wctx, 3)
	if err == nil || wctx.Err() != nil {
		t.Fatalf("WaitFor(3) after the handler failed at 2: err %v, ctx %v", err, wctx.Err())
	}
	if c.Applied() != 1 {
		t.Fatalf("applied %d, want 1: a failed event must not count as applied", c.Applied())
	}
}

package im

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCommandContext checks that the lazily timed command context behaves
// as context.WithDeadline would, whenever its timer is made.
func TestCommandContext(t *testing.T) {
	type key struct{}
	base := context.WithValue(context.Background(), key{}, "v")

	t.Run("deadline", func(t *testing.T) {
		c := newCommandContext(base, time.Now().Add(20*time.Millisecond))
		defer c.stop()
		if d, ok := c.Deadline(); !ok || time.Until(d) > 20*time.Millisecond {
			t.Fatalf("Deadline() = %v, %v", d, ok)
		}
		if c.Value(key{}) != "v" {
			t.Fatalf("Value from the parent lost")
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed at the deadline")
		}
		if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(c), context.DeadlineExceeded) {
			t.Fatalf("Err() = %v, Cause = %v", c.Err(), context.Cause(c))
		}
	})

	t.Run("past deadline, first asked late", func(t *testing.T) {
		c := newCommandContext(base, time.Now().Add(-time.Second))
		defer c.stop()
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err() = %v", c.Err())
		}
	})

	t.Run("stop before use", func(t *testing.T) {
		c := newCommandContext(base, time.Now().Add(time.Hour))
		c.stop()
		select {
		case <-c.Done():
		default:
			t.Fatal("a stopped context is not done")
		}
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("Err() = %v", c.Err())
		}
	})

	t.Run("stop after use, derived contexts follow", func(t *testing.T) {
		c := newCommandContext(base, time.Now().Add(time.Hour))
		child, cancel := context.WithCancel(c)
		defer cancel()
		after := make(chan struct{})
		context.AfterFunc(c, func() { close(after) })
		c.stop()
		for _, ch := range []<-chan struct{}{c.Done(), child.Done(), after} {
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
				t.Fatal("not cancelled by stop")
			}
		}
		if child.Value(key{}) != "v" {
			t.Fatal("Value lost through a derived context")
		}
	})

	t.Run("parent cancelled", func(t *testing.T) {
		parent, cancel := context.WithCancelCause(base)
		c := newCommandContext(parent, time.Now().Add(time.Hour))
		defer c.stop()
		boom := fmt.Errorf("boom")
		cancel(boom)
		<-c.Done()
		if !errors.Is(c.Err(), context.Canceled) || !errors.Is(context.Cause(c), boom) {
			t.Fatalf("Err() = %v, Cause = %v", c.Err(), context.Cause(c))
		}
	})

	t.Run("parent deadline earlier", func(t *testing.T) {
		parent, cancel := context.WithTimeout(base, time.Minute)
		defer cancel()
		c := newCommandContext(parent, time.Now().Add(time.Hour))
		defer c.stop()
		if d, _ := c.Deadline(); time.Until(d) > time.Minute {
			t.Fatalf("Deadline() = %v, later than the parent's", d)
		}
	})

	t.Run("concurrent first use", func(t *testing.T) {
		c := newCommandContext(base, time.Now().Add(time.Hour))
		var wg sync.WaitGroup
		chans := make([]<-chan struct{}, 8)
		for i := range chans {
			wg.Go(func() { chans[i] = c.Done() })
		}
		wg.Wait()
		for _, ch := range chans[1:] {
			if ch != chans[0] {
				t.Fatal("two timers made for one context")
			}
		}
		c.stop()
	})
}

// BenchmarkActorCommand is one command through an account's actor, as
// every stanza a session routes is: enqueue, the actor's goroutine, the
// command's context.
func BenchmarkActorCommand(b *testing.B) {
	as := newActors(nil)
	var wg sync.WaitGroup
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		wg.Add(1)
		as.enqueue("user@example.com", func(context.Context) { wg.Done() })
		if i%64 == 63 {
			wg.Wait()
		}
	}
	wg.Wait()
}

// TestActorsSpareWorker: a goroutine whose actor ran out of work takes the
// next account's actor instead of a new goroutine being started.
func TestActorsSpareWorker(t *testing.T) {
	as := newActors(slog.New(slog.DiscardHandler))
	ids := make(chan uint64, 2)
	for _, bare := range []string{"a@example.com", "b@example.com"} {
		done := make(chan struct{})
		as.enqueue(bare, func(context.Context) { ids <- goid(); close(done) })
		<-done
		// Let the worker find its queue empty and wait as a spare.
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
			as.mu.Lock()
			idle := as.m[bare] == nil
			as.mu.Unlock()
			if idle || time.Now().After(deadline) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond) // from the queue's end to its wait

	}
	if a, b := <-ids, <-ids; a != b {
		t.Fatalf("second account's actor ran on goroutine %d, the first's on %d: no reuse", b, a)
	}
}

// goid is the calling goroutine's id, from its stack header.
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	f := strings.Fields(string(buf[:n]))
	id, _ := strconv.ParseUint(f[1], 10, 64)
	return id
}

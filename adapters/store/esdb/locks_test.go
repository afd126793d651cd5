package esdb

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestStreamLocks(t *testing.T) {
	var l streamLocks
	ctx := context.Background()
	release, err := l.acquire(ctx, "account-a@b")
	if err != nil {
		t.Fatal(err)
	}
	// Another stream is independent.
	other, err := l.acquire(ctx, "account-c@d")
	if err != nil {
		t.Fatal(err)
	}
	other()

	// The same stream waits until release.
	got := make(chan func(), 1)
	go func() {
		r, err := l.acquire(ctx, "account-a@b")
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("second holder got the lock while the first held it")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	var second func()
	select {
	case second = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("second holder never got the lock")
	}

	// A waiter gives up with its context.
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(cctx, "account-a@b"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter with an expired context: %v", err)
	}
	second()
	if n := l.size(); n != 0 {
		t.Errorf("%d lock entries left after everyone left", n)
	}
}

package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"xmppd/events"
)

// prompt is how soon a call with a cancelled context must give up.
const prompt = 2 * time.Second

// testCancelled proves a cancelled context fails Append (committing
// nothing), ReadAll, ReadStream and Subscribe promptly with ctx's error.
func testCancelled(t *testing.T, s events.Store, _ func() error) {
	r := newRun(t, s)
	stream := r.stream("cancel")
	if _, err := s.Append(context.Background(), stream, events.NoStream, Envelopes(t, 3, FullMeta())...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error {
			_, err := s.Append(ctx, stream, events.Exactly(3), Envelopes(t, 1, FullMeta())...)
			return err
		}},
		{"ReadAll", func() error { _, err := firstError(s.ReadAll(ctx, r.start)); return err }},
		{"ReadStream", func() error { _, err := firstError(s.ReadStream(ctx, stream, 1)); return err }},
		{"Subscribe", func() error { _, err := firstError(s.Subscribe(ctx, r.start)); return err }},
	}
	for _, c := range calls {
		began := time.Now()
		err := c.call()
		if took := time.Since(began); took > prompt {
			t.Errorf("%s took %v with a cancelled context", c.name, took)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", c.name, err)
		}
		var se *events.StoreError
		if err != nil && !errors.As(err, &se) {
			t.Errorf("%s: err %T is not a *events.StoreError", c.name, err)
		}
	}
	if n := len(readStream(t, s, stream, 1)); n != 3 {
		t.Errorf("stream holds %d events after a cancelled append, want 3", n)
	}
}

// testSubscribeEndsWithCtx cancels a live subscription that has caught up
// and is waiting: it ends promptly, yielding ctx's error.
func testSubscribeEndsWithCtx(t *testing.T, s events.Store, _ func() error) {
	r := newRun(t, s)
	if _, err := s.Append(context.Background(), r.stream("live"), events.NoStream, Envelopes(t, 2, FullMeta())...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended := make(chan error, 1)
	delivered := make(chan struct{}, 2)
	go func() {
		for e, err := range s.Subscribe(ctx, r.start) {
			if err != nil {
				ended <- err
				return
			}
			if r.mine(e) {
				delivered <- struct{}{}
			}
		}
		ended <- nil
	}()
	for range 2 {
		select {
		case <-delivered:
		case err := <-ended:
			t.Fatalf("subscription ended before delivering: %v", err)
		case <-time.After(subscribeTimeout):
			t.Fatal("events not delivered")
		}
	}
	cancel()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("subscription ended with %v, want context.Canceled", err)
		}
	case <-time.After(prompt):
		t.Fatal("subscription still running after its context was cancelled")
	}
}

// testClosed closes the store under a live subscription: the subscription
// ends with an error, and every later call fails with ErrClosed.
func testClosed(t *testing.T, s events.Store, closeStore func() error) {
	r := newRun(t, s)
	stream := r.stream("closed")
	if _, err := s.Append(context.Background(), stream, events.NoStream, Envelopes(t, 1, FullMeta())...); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	caughtUp := make(chan struct{})
	go func() {
		for e, err := range s.Subscribe(ctx, r.start) {
			if err != nil {
				ended <- err
				return
			}
			if r.mine(e) {
				close(caughtUp)
			}
		}
		ended <- nil
	}()
	select {
	case <-caughtUp:
	case err := <-ended:
		t.Fatalf("subscription ended before catching up: %v", err)
	}
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Error("subscription ended without an error at Close")
		}
	case <-time.After(prompt):
		t.Error("subscription still running after Close")
	}

	bg := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error {
			_, err := s.Append(bg, stream, events.Exactly(1), Envelopes(t, 1, FullMeta())...)
			return err
		}},
		{"ReadStream", func() error { _, err := firstError(s.ReadStream(bg, stream, 1)); return err }},
		{"ReadAll", func() error { _, err := firstError(s.ReadAll(bg, r.start)); return err }},
		{"Subscribe", func() error { _, err := firstError(s.Subscribe(bg, r.start)); return err }},
	}
	if h, ok := s.(events.HeadReader); ok {
		calls = append(calls, struct {
			name string
			call func() error
		}{"Head", func() error { _, err := h.Head(bg); return err }})
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, events.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", c.name, err)
		}
	}
}

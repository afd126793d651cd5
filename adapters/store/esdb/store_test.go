package esdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"xmppd/events"
)

// deadURL returns a connection string for a local port where nothing
// listens, with discovery cut short so tests fail fast.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return fmt.Sprintf("esdb://%s?tls=false&maxDiscoverAttempts=1&discoveryInterval=10&gossipTimeout=1", addr)
}

// syncBuffer is a bytes.Buffer safe for the client's goroutines to log to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestOpenInvalidConfig(t *testing.T) {
	s, err := Open(context.Background(), Config{URL: "http://localhost:2113"})
	if err == nil || s != nil {
		t.Fatalf("Open = %v, %v; want an error", s, err)
	}
	if !strings.Contains(err.Error(), "invalid config") {
		t.Errorf("err = %v", err)
	}
}

// With no server, Open fails promptly with a store error, and the client's
// complaints go to the configured logger.
func TestOpenNoServer(t *testing.T) {
	var logs syncBuffer
	l := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	s, err := Open(ctx, Config{URL: deadURL(t), Logger: l})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded with no server")
	}
	var se *events.StoreError
	if !errors.As(err, &se) || se.Op != "open" {
		t.Errorf("err = %v, want a *events.StoreError for op open", err)
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("Open took %v to give up", time.Since(start))
	}
	if !strings.Contains(logs.String(), "component=esdb-client") {
		t.Errorf("the client's messages did not reach the logger: %q", logs.String())
	}
}

// newUnconnectedStore returns a Store over a real client that has not
// reached any server (the client connects lazily).
func newUnconnectedStore(t *testing.T) *Store {
	t.Helper()
	conf, err := Config{URL: deadURL(t)}.clientConfig()
	if err != nil {
		t.Fatal(err)
	}
	client, err := esdb.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	return &Store{conf: conf, client: client, retries: defaultAppendRetries, newID: uuid.New}
}

func TestClosedStore(t *testing.T) {
	s := newUnconnectedStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	ctx := context.Background()
	first := func(seq func(func(events.Envelope, error) bool)) error {
		var got error
		seq(func(_ events.Envelope, err error) bool { got = err; return false })
		return got
	}
	_, appendErr := s.Append(ctx, "account-a@b", events.Any, sampleEvent(t, 1))
	_, headErr := s.Head(ctx)
	for _, tc := range []struct {
		op  string
		err error
	}{
		{"append", appendErr},
		{"read stream", first(s.ReadStream(ctx, "account-a@b", 0))},
		{"read all", first(s.ReadAll(ctx, 0))},
		{"subscribe", first(s.Subscribe(ctx, 0))},
		{"head", headErr},
	} {
		var se *events.StoreError
		if !errors.Is(tc.err, events.ErrClosed) || !errors.As(tc.err, &se) || se.Op != tc.op {
			t.Errorf("%s after Close: %v, want a StoreError for %q wrapping ErrClosed", tc.op, tc.err, tc.op)
		}
	}
}

// Bad input is refused before anything reaches the network.
func TestAppendRefusesBadStreamNames(t *testing.T) {
	s := newUnconnectedStore(t)
	defer s.Close()
	for _, stream := range []string{"", "$all", "$$account-a@b", "account-\xff"} {
		_, err := s.Append(context.Background(), stream, events.Any, sampleEvent(t, 1))
		var se *events.StoreError
		if !errors.As(err, &se) || se.Stream != stream || errors.Is(err, events.ErrConflict) {
			t.Errorf("Append(%q) = %v", stream, err)
		}
	}
}

// With no server, a subscription keeps trying (the client closes itself
// after each failed discovery and is renewed) and gives up only when its
// context ends, yielding the context's error.
func TestSubscribeEndsWithContext(t *testing.T) {
	s := newUnconnectedStore(t)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var errs []error
	for _, err := range s.Subscribe(ctx, 0) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.DeadlineExceeded) {
		t.Errorf("Subscribe yielded %v, want one error wrapping context.DeadlineExceeded", errs)
	}
}

// A client that gave up discovering is replaced, once, by a new one; a
// closed store is not revived.
func TestRenew(t *testing.T) {
	s := newUnconnectedStore(t)
	defer s.Close()
	old := s.client
	// The first call fails discovery (ErrorUnavailable) and the client
	// closes itself; the second is refused by the closed client
	// (ErrorCodeConnectionClosed), which is when it is replaced.
	for i := range 2 {
		_, err := s.Head(context.Background())
		if err == nil {
			t.Fatal("Head succeeded with no server")
		}
		if errors.Is(err, events.ErrClosed) {
			t.Errorf("call %d: a failed discovery was reported as a closed store: %v", i, err)
		}
	}
	if s.client == old {
		t.Fatal("the client that gave up was kept")
	}
	renewed := s.client
	s.renew(old, fakeESDBError{esdb.ErrorCodeConnectionClosed}) // a late failure of the old client
	if s.client != renewed {
		t.Error("a late failure of a replaced client replaced its successor")
	}
	s.renew(renewed, fakeESDBError{esdb.ErrorUnavailable})
	if s.client != renewed {
		t.Error("a transient error replaced the client")
	}
	s.Close()
	s.renew(renewed, fakeESDBError{esdb.ErrorCodeConnectionClosed})
	if s.client != renewed {
		t.Error("a closed store got a new client")
	}
}

func TestCheckServerVersion(t *testing.T) {
	for _, tc := range []struct {
		v  esdb.ServerVersion
		ok bool
	}{
		{esdb.ServerVersion{Major: 20, Minor: 10, Patch: 5}, false},
		{esdb.ServerVersion{Major: 21, Minor: 10}, false},
		{esdb.ServerVersion{Major: 22, Minor: 4}, false},
		{esdb.ServerVersion{Major: 22, Minor: 6}, true},
		{esdb.ServerVersion{Major: 22, Minor: 10, Patch: 3}, true},
		{esdb.ServerVersion{Major: 23, Minor: 2}, true},
		{esdb.ServerVersion{Major: 24, Minor: 10}, true},
		{esdb.ServerVersion{Major: 25, Minor: 0}, true},
	} {
		err := checkServerVersion(&tc.v)
		if (err == nil) != tc.ok {
			t.Errorf("checkServerVersion(%+v) = %v, want ok %v", tc.v, err, tc.ok)
		}
	}
}

func TestRetryPause(t *testing.T) {
	for attempt, want := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond} {
		for range 20 {
			if got := retryPause(attempt); got < want || got >= 2*want {
				t.Errorf("retryPause(%d) = %v, want in [%v, %v)", attempt, got, want, 2*want)
			}
		}
	}
	if got := retryPause(100); got >= 512*time.Millisecond {
		t.Errorf("retryPause(100) = %v, want it capped below 512ms", got)
	}
}

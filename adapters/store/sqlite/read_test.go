package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	zsqlite "zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// fill appends n events over 10 streams in batches of 100.
func fill(t *testing.T, s *sqlite.Store, n int) {
	t.Helper()
	for i := 0; i < n; i += 100 {
		stream := fmt.Sprintf("account-fill%d@example.com", i/100%10)
		if _, err := s.Append(context.Background(), stream, events.Any, storetest.Envelopes(t, min(100, n-i), storetest.FullMeta())...); err != nil {
			t.Fatal(err)
		}
	}
}

// positions reads the log from `from` and returns the positions seen.
func positions(t *testing.T, s *sqlite.Store, from uint64) []uint64 {
	t.Helper()
	var out []uint64
	for e, err := range s.ReadAll(context.Background(), from) {
		if err != nil {
			t.Fatalf("ReadAll(%d): %v", from, err)
		}
		out = append(out, e.Position)
	}
	return out
}

// TestReadAllFromEveryKindOfStart reads a 5,000-event log (long enough for
// the parallel range fetchers) from starts at and around page boundaries.
func TestReadAllFromEveryKindOfStart(t *testing.T) {
	const n = 5000
	s := openTemp(t, sqlite.Config{})
	defer s.Close()
	fill(t, s, n)
	for _, from := range []uint64{0, 1, 2, 1023, 1024, 1025, 2048, 2049, 3000, 4999, 5000, 5001, 9999} {
		got := positions(t, s, from)
		first := max(from, 1)
		want := 0
		if first <= n {
			want = n - int(first) + 1
		}
		if len(got) != want {
			t.Errorf("from %d: %d events, want %d", from, len(got), want)
			continue
		}
		for i, p := range got {
			if p != first+uint64(i) {
				t.Errorf("from %d: event %d at position %d, want %d", from, i, p, first+uint64(i))
				break
			}
		}
	}
}

// TestReadAllWhileAppending reads while another goroutine appends: the
// read has no gap and no repeat, and reaches at least the head at its
// start (it crosses from range fetching to following the tail).
func TestReadAllWhileAppending(t *testing.T) {
	s := openTemp(t, sqlite.Config{})
	defer s.Close()
	fill(t, s, 4000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			if _, err := s.Append(context.Background(), "account-live@example.com", events.Exactly(uint64(i)), storetest.Envelopes(t, 1, storetest.FullMeta())...); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 5 {
		got := positions(t, s, 1)
		if len(got) < 4000 {
			t.Fatalf("read %d events, want at least 4000", len(got))
		}
		for i, p := range got {
			if p != uint64(i+1) {
				t.Fatalf("event %d at position %d", i, p)
			}
		}
	}
	<-done
}

// TestReadAllSkipsAHole deletes one row behind the store's back (as an
// attacker might): ReadAll still yields every other event in order, and
// the chain checker finds the hole.
func TestReadAllSkipsAHole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hole.db")
	s := openTemp(t, sqlite.Config{Path: path})
	fill(t, s, 3000)
	s.Close()

	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlitex.ExecuteTransient(conn, "DELETE FROM events WHERE position = 1500", nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	s = openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	defer s.Close()
	c := events.NewChainChecker()
	var got []uint64
	var breaks int
	for e, err := range s.ReadAll(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Position)
		if c.Check(&e) != nil {
			breaks++
		}
	}
	if len(got) != 2999 {
		t.Fatalf("read %d events, want 2999", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("position %d after %d", got[i], got[i-1])
		}
	}
	if breaks != 1 {
		t.Fatalf("chain checker found %d breaks, want 1", breaks)
	}
}

package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// TestTwoStoresShareOneFile proves the writer never trusts its head cache
// across another connection's commit (a stale expected version conflicts)
// and that a Subscribe sees the other store's appends within a second.
func TestTwoStoresShareOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	a := openTemp(t, sqlite.Config{Path: path})
	defer a.Close()
	b := openTemp(t, sqlite.Config{Path: path})
	defer b.Close()
	stream := "account-shared@example.com"

	if _, err := a.Append(ctx, stream, events.NoStream, storetest.Envelopes(t, 1, storetest.FullMeta())...); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, stream, events.Exactly(1), storetest.Envelopes(t, 1, storetest.FullMeta())...); err != nil {
		t.Fatalf("b after a: %v", err)
	}
	// a's cache says version 1; the file says 2.
	if _, err := a.Append(ctx, stream, events.Exactly(1), storetest.Envelopes(t, 1, storetest.FullMeta())...); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("a with a stale version: err = %v, want ErrConflict", err)
	}
	out, err := a.Append(ctx, stream, events.Exactly(2), storetest.Envelopes(t, 1, storetest.FullMeta())...)
	if err != nil {
		t.Fatalf("a at the right version: %v", err)
	}
	if out[0].Prev == events.GenesisHash || out[0].Version != 3 {
		t.Fatalf("a sealed version %d on prev %s", out[0].Version, out[0].Prev)
	}

	subCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	head, err := a.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Time, 1)
	go func() {
		for e, err := range a.Subscribe(subCtx, head+1) {
			if err != nil {
				return
			}
			if e.Stream == "account-other@example.com" {
				got <- time.Now()
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond) // let the subscription catch up and wait
	sent := time.Now()
	if _, err := b.Append(ctx, "account-other@example.com", events.NoStream, storetest.Envelopes(t, 1, storetest.FullMeta())...); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-got:
		if d := at.Sub(sent); d > time.Second {
			t.Fatalf("seen after %v, want within 1s", d)
		}
	case <-subCtx.Done():
		t.Fatal("a's subscription never saw b's append")
	}
	checkFile(t, path)
}

// TestSubscribeSeesAnotherProcess runs a second process that appends to
// the same file while this one subscribes.
func TestSubscribeSeesAnotherProcess(t *testing.T) {
	const n = 50
	path := filepath.Join(t.TempDir(), "shared.db")
	s := openTemp(t, sqlite.Config{Path: path})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	ready := make(chan struct{})
	got := make(chan []string, 1)
	go func() {
		var ids []string
		defer func() { got <- ids }()
		first := true
		for e, err := range s.Subscribe(ctx, 0) {
			if first {
				first = false
			}
			if err != nil {
				return
			}
			if e.Stream == "account-marker@example.com" {
				close(ready)
				continue
			}
			ids = append(ids, e.ID)
			if len(ids) == n {
				return
			}
		}
	}()
	if _, err := s.Append(ctx, "account-marker@example.com", events.NoStream, storetest.Envelopes(t, 1, storetest.FullMeta())...); err != nil {
		t.Fatal(err)
	}
	<-ready

	cmd, sc := startChild(t, "append", path, childNEnv+"=50")
	var acked []string
	for sc.Scan() {
		acked = append(acked, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	done := time.Now()
	ids := <-got
	if waited := time.Since(done); waited > time.Second {
		t.Errorf("last event reached the subscriber %v after the child finished", waited)
	}
	if len(ids) != n || len(acked) != n {
		t.Fatalf("child acknowledged %d, subscriber received %d, want %d", len(acked), len(ids), n)
	}
	for i := range ids {
		if ids[i] != acked[i] {
			t.Fatalf("event %d: received %s, child acknowledged %s", i, ids[i], acked[i])
		}
	}
	checkFile(t, path)
}

// checkFile reopens path read-only and checks every chain against the
// streams table.
func checkFile(t *testing.T, path string) *events.ChainChecker {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatalf("reopen read-only: %v", err)
	}
	defer s.Close()
	// The log is read straight from the file, however short (a killed
	// writer leaves a WAL with torn frames behind), and must be exactly
	// what SQLite reads.
	sqlite.SetDirectReadMin(s, sqlOnly)
	viaSQL := readPages(t, s, 0, events.ReadOptions{})
	sqlite.SetDirectReadMin(s, 1)
	direct := readPages(t, s, 0, events.ReadOptions{})
	if !reflect.DeepEqual(direct, viaSQL) || sqlite.DirectReadFallbacks(s) != 0 {
		t.Fatalf("read straight from the file: %d events (%d fallbacks), through SQL %d; they differ",
			len(direct), sqlite.DirectReadFallbacks(s), len(viaSQL))
	}
	c := events.NewChainChecker()
	var last uint64
	byStream := map[string][]uint64{} // positions of each stream's events, by version
	for _, e := range direct {
		byStream[e.Stream] = append(byStream[e.Stream], e.Position)
		if e.Position != last+1 {
			t.Fatalf("position %d follows %d: the log has a gap", e.Position, last)
		}
		last = e.Position
		if err := c.Check(&e); err != nil {
			t.Fatalf("chain: %v", err)
		}
	}
	heads := map[string]events.StreamHead{}
	for h, err := range s.StreamHeads(ctx) {
		if err != nil {
			t.Fatalf("StreamHeads: %v", err)
		}
		heads[h.Stream] = h
	}
	if len(heads) != c.Streams() {
		t.Fatalf("streams table has %d streams, the log %d", len(heads), c.Streams())
	}
	c.Heads(func(stream string, version uint64, hash string) {
		if h := heads[stream]; h.Version != version || h.Hash != hash {
			t.Errorf("streams table says %s is at %d %s, the log at %d %s", stream, h.Version, h.Hash, version, hash)
		}
	})
	// Every stream reads back whole through its index and the unindexed
	// tail, whichever holds each event.
	for stream, want := range byStream {
		var got []uint64
		for e, err := range s.ReadStream(ctx, stream, 1) {
			if err != nil {
				t.Fatalf("ReadStream %s: %v", stream, err)
			}
			got = append(got, e.Position)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ReadStream %s: positions %v, the log has %v", stream, got, want)
		}
	}
	return c
}

// TestDirectReadWhileAnotherProcessWrites reads the log straight from the
// file, again and again, while a second process appends from six
// goroutines (its checkpoints backfill and restart the WAL under the
// reader), then kills that process. Every read must be a gap-free prefix
// of the log with intact chains, equal to what SQLite itself returns for
// the same positions.
func TestDirectReadWhileAnotherProcessWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	cmd, sc := startChild(t, "crash", path)
	go func() { // keep the child's output flowing
		for sc.Scan() {
		}
	}()
	defer func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}()
	var s *sqlite.Store
	for deadline := time.Now().Add(10 * time.Second); s == nil; {
		var err error
		if s, err = sqlite.Open(ctx, sqlite.Config{Path: path, ReadOnly: true}); err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("open beside the writer: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	defer s.Close()

	reads, longest := 0, 0
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); reads++ {
		sqlite.SetDirectReadMin(s, 1)
		direct := readPages(t, s, 0, events.ReadOptions{})
		c := events.NewChainChecker()
		for i := range direct {
			if direct[i].Position != uint64(i+1) {
				t.Fatalf("read %d: event %d has position %d", reads, i, direct[i].Position)
			}
			if err := c.Check(&direct[i]); err != nil {
				t.Fatalf("read %d: %v", reads, err)
			}
		}
		sqlite.SetDirectReadMin(s, sqlOnly)
		viaSQL := readPages(t, s, 0, events.ReadOptions{})
		// (Before the child's first commit both are empty, and one nil.)
		if len(viaSQL) < len(direct) || len(direct) > 0 && !reflect.DeepEqual(direct, viaSQL[:len(direct)]) {
			t.Fatalf("read %d: %d events straight from the file differ from SQLite's first %d", reads, len(direct), len(direct))
		}
		longest = max(longest, len(direct))
	}
	if n := sqlite.DirectReadFallbacks(s); n != 0 {
		t.Errorf("%d of %d reads fell back to SQL", n, reads)
	}
	if longest < 1000 {
		t.Fatalf("the child wrote only %d events in 3 s", longest)
	}
	t.Logf("%d direct reads, the last of %d events", reads, longest)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	checkFile(t, path)
}

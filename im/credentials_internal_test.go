package im

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/domain"
	"xmppd/events"
)

// countingHead counts the head reads the server makes of a real store;
// with delay set, each read takes at least that long.
type countingHead struct {
	*sqlite.Store
	reads atomic.Int64
	delay time.Duration
}

func (c *countingHead) Head(ctx context.Context) (uint64, error) {
	c.reads.Add(1)
	time.Sleep(c.delay)
	return c.Store.Head(ctx)
}

// runInternal starts a Core on a real SQLite file until the test ends
// (no transport: the tests here ask for credentials directly).
func runInternal(tb testing.TB, store events.Store, dir string) *Core {
	tb.Helper()
	s, err := New(Config{Domain: "localhost", Node: "node-test", Store: store, Follow: followBus})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		tb.Fatalf("core did not start: %v", err)
	}
	tb.Cleanup(func() { s.BeginStop(); s.Stop() })
	return s
}

func openStore(tb testing.TB) (*countingHead, string) {
	tb.Helper()
	dir := tb.TempDir()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "xmppd.db")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return &countingHead{Store: st}, dir
}

// addAccount appends what `xmppd user add` appends, through a second
// connection to the same file: another process's writer, which the
// server's feed only sees at its next poll.
func addAccount(tb testing.TB, path, name string) {
	tb.Helper()
	other, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		tb.Fatal(err)
	}
	defer other.Close()
	bare := name + "@localhost"
	creds, err := domain.NewCredentials("pw-"+name, domain.MinScramIterations, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	var envs []events.Envelope
	for _, p := range []events.Payload{events.AccountCreated{JID: bare}, creds} {
		e, err := events.New(p, events.Meta{Actor: "admin:test"})
		if err != nil {
			tb.Fatal(err)
		}
		e.Recorded = time.Now().UTC()
		envs = append(envs, e)
	}
	if _, err := other.Append(context.Background(), events.AccountStream(bare), events.NoStream, envs...); err != nil {
		tb.Fatal(err)
	}
}

// TestCredentialsSeeAnotherWritersAccountAtOnce: an account appended by
// another connection (a second process) is found by the very next
// lookup, although the poller would only see it at its next tick.
func TestCredentialsSeeAnotherWritersAccountAtOnce(t *testing.T) {
	st, dir := openStore(t)
	s := runInternal(t, st, dir)
	c := s
	for i := range 10 {
		name := fmt.Sprintf("u%d", i)
		addAccount(t, filepath.Join(dir, "xmppd.db"), name)
		start := time.Now()
		_, ok, err := c.Credentials(context.Background(), name)
		if err != nil || !ok {
			t.Fatalf("lookup %s right after another writer created it: found=%v err=%v", name, ok, err)
		}
		if took := time.Since(start); took > 50*time.Millisecond {
			t.Errorf("lookup %s took %v: it waited for the poll tick, not PollNow", name, took)
		}
	}
}

// TestUnknownNameProbesShareHeadReads: many logins at once for names
// that do not exist cost far fewer head reads than logins, and each
// still answers "no such account".
func TestUnknownNameProbesShareHeadReads(t *testing.T) {
	st, dir := openStore(t)
	// A head read as long as one on a busy disk: on an idle machine a
	// read could end before the next goroutine asked, leaving nothing to
	// share (the test then failed now and then).
	st.delay = 200 * time.Microsecond
	s := runInternal(t, st, dir)
	c := s
	const workers, each = 32, 50
	before := st.reads.Load()
	var wg sync.WaitGroup
	var found atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, ok, err := c.Credentials(context.Background(), fmt.Sprintf("probe-%d-%d", w, i))
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					found.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	reads := st.reads.Load() - before
	t.Logf("%d lookups of unknown names, %d head reads", workers*each, reads)
	if found.Load() != 0 {
		t.Errorf("%d unknown names found", found.Load())
	}
	if reads >= workers*each {
		t.Errorf("%d head reads for %d concurrent lookups: they are not shared", reads, workers*each)
	}
}

// blockingHeadFake stands in for a store's head read whose timing the
// test must control (a real store cannot be held mid-query): each read
// returns the value of pos when it started, once released.
type blockingHeadFake struct {
	pos     atomic.Uint64
	started chan struct{}
	release chan struct{}
	reads   atomic.Int64
}

func (f *blockingHeadFake) read(ctx context.Context) (uint64, error) {
	f.reads.Add(1)
	p := f.pos.Load()
	f.started <- struct{}{}
	<-f.release
	return p, nil
}

// TestLogHeadNeverAnswersFromAReadThatStartedEarlier: a caller that asks
// while a read is under way must not get that read's answer (it may
// predate a commit the caller has seen); it gets the next read's, which
// it shares with everyone who asked meanwhile.
func TestLogHeadNeverAnswersFromAReadThatStartedEarlier(t *testing.T) {
	f := &blockingHeadFake{started: make(chan struct{}), release: make(chan struct{})}
	h := &logHead{read: f.read, timeout: time.Second}
	f.pos.Store(1)
	first := make(chan uint64)
	go func() { p, _ := h.head(context.Background()); first <- p }()
	<-f.started // the first read has seen position 1
	f.pos.Store(2)
	const late = 5
	got := make(chan uint64, late)
	for range late {
		go func() { p, _ := h.head(context.Background()); got <- p }()
	}
	// Wait until all late callers are queued for the next read.
	for {
		h.mu.Lock()
		queued := h.next != nil
		h.mu.Unlock()
		if queued {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the other late callers join it
	f.release <- struct{}{}
	if p := <-first; p != 1 {
		t.Errorf("first caller got %d, want 1", p)
	}
	<-f.started // the second read starts on its own
	f.release <- struct{}{}
	for range late {
		if p := <-got; p != 2 {
			t.Errorf("a caller that asked during the first read got %d, want 2 (from a read started after it asked)", p)
		}
	}
	if n := f.reads.Load(); n != 2 {
		t.Errorf("%d reads, want 2: one for the first caller, one shared by the %d late ones", n, late)
	}
}

// BenchmarkCredentialsUnknownName is the server's share of a login for
// a name that does not exist: the head read and the view lookup.
func BenchmarkCredentialsUnknownName(b *testing.B) {
	st, dir := openStore(b)
	s := runInternal(b, st, dir)
	c := s
	b.Run("serial", func(b *testing.B) {
		before := st.reads.Load()
		for i := 0; b.Loop(); i++ {
			c.Credentials(context.Background(), "nobody")
		}
		b.ReportMetric(float64(st.reads.Load()-before)/float64(b.N), "headreads/op")
	})
	b.Run("parallel", func(b *testing.B) {
		before := st.reads.Load()
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Credentials(context.Background(), "nobody")
			}
		})
		b.ReportMetric(float64(st.reads.Load()-before)/float64(b.N), "headreads/op")
	})
}

package replay_test

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
	"xmppd/projections/projtest"
	"xmppd/replay"
)

// benchConfig is the benchmarks' log: about a million events of realistic
// shape (2,000 accounts, rosters of 50 to 500 items skewed small, about
// ten sessions each with frequent presence), the shape projections'
// benchmarks use.
var benchConfig = projtest.GenConfig{Seed: 1, Accounts: 2000, MinRoster: 50, MaxRoster: 500, Sessions: 10}

// benchStore opens the benchmarks' SQLite log, committing it first if no
// earlier run left it in the temporary directory (committing a million
// events takes a while; reading is what is measured).
func benchStore(b *testing.B) *sqlite.Store {
	b.Helper()
	// The name carries the store's schema version: a log left by an older
	// xmppd would be read through its old layout and measure that.
	path := filepath.Join(os.TempDir(), fmt.Sprintf("xmppd-replay-bench-s2-%d-%d.db", benchConfig.Seed, benchConfig.Accounts))
	ready := path + ".done"
	if _, err := os.Stat(ready); err != nil {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		s := openStore(b, path)
		start := time.Now()
		log := projtest.Generate(b, benchConfig)
		commit(b, s, log, 256)
		b.Logf("committed %d events to %s in %v", len(log), path, time.Since(start).Round(time.Millisecond))
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(ready, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkRebuildAllViews measures rebuilding every view from the
// million-event log with projections.Rebuild, as `xmppd verify` and the
// server at start-up do: from the SQLite file, and from the same events
// held in memory, which separates the store's reading from decoding and
// folding.
func BenchmarkRebuildAllViews(b *testing.B) {
	store := benchStore(b)
	ctx := context.Background()
	head, err := store.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, s events.Store) {
		runtime.GC()
		b.ResetTimer()
		for b.Loop() {
			v := projections.NewViews(domain.DefaultPolicy())
			pos, err := projections.Rebuild(ctx, s, v, 0, nil)
			if err != nil {
				b.Fatal(err)
			}
			if pos != head {
				b.Fatalf("rebuilt to %d, log ends at %d", pos, head)
			}
		}
		b.ReportMetric(float64(head)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("sqlite", func(b *testing.B) { run(b, store) })
	b.Run("memory", func(b *testing.B) {
		var log []events.Envelope
		for e, err := range store.ReadAll(ctx, 1) {
			if err != nil {
				b.Fatal(err)
			}
			log = append(log, e)
		}
		run(b, sliceStore{evs: log})
	})
}

// sliceStore is the read side of a store over an in-memory slice. It is
// not a store: it implements only ReadAll, what Rebuild calls.
type sliceStore struct {
	events.Store // nil: any other method panics
	evs          []events.Envelope
}

func (s sliceStore) ReadAll(_ context.Context, from uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		for _, e := range s.evs {
			if e.Position >= from && !yield(e, nil) {
				return
			}
		}
	}
}

// BenchmarkReplayAccountAt measures `xmppd replay --at T --user JID` in
// the million-event log: one account's three streams read with
// ReadStream and folded, for the account with the longest history and
// for a typical one, as of the middle of the log and of its head.
func BenchmarkReplayAccountAt(b *testing.B) {
	store := benchStore(b)
	ctx := context.Background()
	head, err := store.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// Find the largest and a median history from the stream heads.
	sizes := map[string]uint64{}
	for h, err := range store.StreamHeads(ctx) {
		if err != nil {
			b.Fatal(err)
		}
		if kind, bare, ok := events.SplitStream(h.Stream); ok && kind != "server" {
			sizes[bare] += h.Version
		}
	}
	var largest, typical string
	for bare, n := range sizes {
		if largest == "" || n > sizes[largest] {
			largest = bare
		}
	}
	typical = fmt.Sprintf("user%05d@localhost", benchConfig.Accounts/2)
	// The middle of the largest history, wherever the log put it.
	var mid uint64
	for e, err := range store.ReadStream(ctx, events.AccountStream(largest), sizes[largest]/4) {
		if err != nil {
			b.Fatal(err)
		}
		mid = e.Position
		break
	}
	for _, tc := range []struct {
		name string
		bare string
		at   replay.Cutoff
	}{
		{"largest/head", largest, replay.Cutoff{Position: head}},
		{"largest/mid", largest, replay.Cutoff{Position: mid}},
		{"typical/head", typical, replay.Cutoff{Position: head}},
		{"typical/time", typical, replay.Cutoff{Time: projtest.Start().Add(time.Duration(head/2) * time.Millisecond)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var read uint64
			for b.Loop() {
				read = 0
				st, ok, err := replay.At(ctx, store, tc.bare, tc.at, func(n uint64) { read += n })
				if err != nil || !ok || st.JID != tc.bare {
					b.Fatalf("replay %s: ok %v err %v", tc.bare, ok, err)
				}
			}
			b.ReportMetric(float64(read), "events")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/replay")
		})
	}
}

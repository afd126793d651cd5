package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/projections/projtest"
)

// BenchmarkCheckHeads measures serve's start-up check of every stream's
// head on a log of about a million events of realistic shape
// (BenchmarkRebuild's: 2,000 accounts), committed and closed, so indexed.
// Making the log takes a while; run it alone:
//
//	go test ./adapters/store/sqlite -run '^$' -bench CheckHeads -benchtime 5x
func BenchmarkCheckHeads(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "xmppd.db")
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	log := projtest.Generate(b, projtest.GenConfig{Seed: 1, Accounts: 2000, MinRoster: 50, MaxRoster: 500, Sessions: 10})
	streams := map[string][]events.Envelope{}
	for _, e := range log {
		streams[e.Stream] = append(streams[e.Stream], e)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for name, evs := range streams {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for i := 0; i < len(evs); i += 256 {
				chunk := evs[i:min(i+256, len(evs))]
				if _, err := s.Append(ctx, name, events.Exactly(uint64(i)), chunk...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	s, err = sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for b.Loop() {
		p, err := s.CheckHeads(ctx)
		if err != nil || len(p) != 0 {
			b.Fatalf("%v %+v", err, p)
		}
	}
	b.ReportMetric(float64(len(log)), "events")
	b.ReportMetric(float64(len(streams)), "streams")
}

package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
)

// presence returns one realistic presence.available envelope for user n.
func presence(b testing.TB, n int) events.Envelope {
	e, err := events.New(events.PresenceAvailable{
		Resource: "phone",
		Show:     "away",
		Status:   "in a meeting",
		Priority: 5,
		Stanza:   fmt.Sprintf(`<presence from="user%d@example.com/phone" id="p1"><show>away</show><status>in a meeting</status><priority>5</priority></presence>`, n),
	}, events.Meta{
		Actor: fmt.Sprintf("user%d@example.com/phone", n), SessionID: "s-8d1f0c", ClientAddr: "203.0.113.9:40112",
		StanzaID: "p1", CorrelationID: "c-77e1", Node: "node-a",
	})
	if err != nil {
		b.Fatal(err)
	}
	e.Recorded = time.Date(2026, 11, 23, 22, 0, 0, 1, time.UTC)
	return e
}

// BenchmarkAppendConcurrent64 has 64 goroutines each append one event at a
// time to its own presence stream, as 64 busy sessions would; every Append
// waits for its durable group commit.
func BenchmarkAppendConcurrent64(b *testing.B) {
	s := openTemp(b, sqlite.Config{})
	defer s.Close()
	var next atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // 64 goroutines in all
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		n := int(next.Add(1))
		stream := events.PresenceStream(fmt.Sprintf("user%d@example.com", n))
		e := presence(b, n)
		var v uint64
		for pb.Next() {
			if _, err := s.Append(context.Background(), stream, events.Exactly(v), e); err != nil {
				b.Error(err)
				return
			}
			v++
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(next.Load()), "writers")
}

// BenchmarkReadAllDecode reads the whole log and decodes every payload.
// Each size's fixture (1,000 presence streams) is built once and reused
// for every b.N. The decode=false cases measure the store alone.
func BenchmarkReadAllDecode(b *testing.B) {
	dir := b.TempDir() // the parent's: it outlives every run of the sub-benchmarks
	for _, size := range []int{100_000, 1_000_000} {
		var path string
		for _, decode := range []bool{true, false} {
			b.Run(fmt.Sprintf("events=%d/decode=%v", size, decode), func(b *testing.B) {
				if path == "" {
					path = buildFixture(b, dir, size)
				}
				s := openTemp(b, sqlite.Config{Path: path, ReadOnly: true})
				defer s.Close()
				b.ResetTimer()
				start := time.Now()
				for range b.N {
					n := 0
					for e, err := range s.ReadAll(context.Background(), 0) {
						if err != nil {
							b.Fatal(err)
						}
						if decode {
							if _, err := events.Decode(&e); err != nil {
								b.Fatal(err)
							}
						}
						n++
					}
					if n != size {
						b.Fatalf("read %d events, want %d", n, size)
					}
				}
				b.ReportMetric(float64(size*b.N)/time.Since(start).Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkReadStream reads one 100-event stream of a 100k-event log.
// The fixture is rebuilt for each b.N (about 2 s).
func BenchmarkReadStream(b *testing.B) {
	path := buildFixture(b, b.TempDir(), 100_000)
	s := openTemp(b, sqlite.Config{Path: path, ReadOnly: true})
	defer s.Close()
	b.ResetTimer()
	start := time.Now()
	total := 0
	for i := range b.N {
		stream := events.PresenceStream(fmt.Sprintf("user%d@example.com", i%1000))
		for _, err := range s.ReadStream(context.Background(), stream, 1) {
			if err != nil {
				b.Fatal(err)
			}
			total++
		}
	}
	if total != 100*b.N {
		b.Fatalf("read %d events, want %d", total, 100*b.N)
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "events/s")
}

// buildFixture writes size presence events over 1,000 streams, appended in
// batches of 1,000 from 8 goroutines.
func buildFixture(b *testing.B, dir string, size int) string {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("fixture-%d.db", size))
	s := openTemp(b, sqlite.Config{Path: path})
	defer s.Close()
	const streams, workers = 1000, 8
	per := size / streams
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for u := w; u < streams; u += workers {
				e := presence(b, u)
				batch := make([]events.Envelope, 0, per)
				for range per {
					batch = append(batch, e)
				}
				_, err := s.Append(context.Background(), events.PresenceStream(fmt.Sprintf("user%d@example.com", u)), events.NoStream, batch...)
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	return path
}

// BenchmarkReadPagesArchive reads, for folding, a log of 500,000 events of
// which nine in ten are archived messages of about a kilobyte (issue 13),
// as a rebuild at start-up does, with and without ReadOptions.Bare
// picking the archive: what the store spends on events the views do not
// fold. The direct read is the one a rebuild takes; path=sql is the
// fallback (a file the direct reader cannot read). The fixture is built
// once (about ten seconds) for every case.
func BenchmarkReadPagesArchive(b *testing.B) {
	const size = 500_000
	dir := b.TempDir()
	var path string
	for _, c := range []struct {
		path      string
		directMin uint64
		bare      bool
	}{{"direct", 1, false}, {"direct", 1, true}, {"sql", 1 << 62, false}, {"sql", 1 << 62, true}} {
		bare := c.bare
		b.Run(fmt.Sprintf("path=%s/bare=%v", c.path, bare), func(b *testing.B) {
			if path == "" {
				path = buildArchiveFixture(b, dir, size)
			}
			s := openTemp(b, sqlite.Config{Path: path, ReadOnly: true})
			defer s.Close()
			sqlite.SetDirectReadMin(s, c.directMin)
			opts := events.ReadOptions{ForFolding: true}
			if bare {
				opts.Bare = func(_, typ string) bool { return typ == events.TypeArchiveMessageStored }
			}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				n := 0
				for page, err := range s.ReadPages(context.Background(), 0, opts) {
					if err != nil {
						b.Fatal(err)
					}
					n += len(page.Events)
					s.ReleasePage(page)
				}
				if n != size {
					b.Fatalf("read %d events, want %d", n, size)
				}
			}
			b.ReportMetric(float64(size*b.N)/time.Since(start).Seconds(), "events/s")
			if n := sqlite.DirectReadFallbacks(s); n != 0 {
				b.Fatalf("%d direct reads fell back to SQL", n)
			}
		})
	}
}

// buildArchiveFixture writes size events over 1,000 accounts: for each,
// one presence for every nine messages archived in its archive stream,
// in batches of 100 as the archive writer appends them.
func buildArchiveFixture(b *testing.B, dir string, size int) string {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("archive-%d.db", size))
	s := openTemp(b, sqlite.Config{Path: path})
	defer s.Close()
	const accounts, batch = 1000, 100
	ctx := context.Background()
	for round := 0; round < size/accounts/batch; round++ {
		for u := range accounts {
			bare := fmt.Sprintf("user%d@example.com", u)
			msgs := make([]events.Envelope, 0, batch)
			for i := range batch * 9 / 10 {
				stanza := fmt.Sprintf("<message xmlns='jabber:client' type='chat' from='%s/phone' to='friend@example.com' id='m%d-%d'><body>%s</body><stanza-id xmlns='urn:xmpp:sid:0' by='%s' id='a%d-%d'/></message>",
					bare, round, i, strings.Repeat("see you at the station at six, the usual platform. ", 16), bare, round, i)
				e, err := events.New(events.ArchiveMessageStored{ID: fmt.Sprintf("a%d-%d", round, i), With: "friend@example.com", Direction: events.ArchiveOut, Content: stanza}, events.Meta{})
				if err != nil {
					b.Fatal(err)
				}
				e.Recorded = time.Date(2026, 11, 23, 22, 0, round, i, time.UTC)
				msgs = append(msgs, e)
			}
			if _, err := s.Append(ctx, events.ArchiveStream(bare), events.Any, msgs...); err != nil {
				b.Fatal(err)
			}
			pres := make([]events.Envelope, batch/10)
			for i := range pres {
				pres[i] = presence(b, u)
			}
			if _, err := s.Append(ctx, events.PresenceStream(bare), events.Any, pres...); err != nil {
				b.Fatal(err)
			}
		}
	}
	return path
}

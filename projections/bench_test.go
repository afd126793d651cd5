package projections_test

import (
	"context"
	"fmt"
	"iter"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"xmppd/adapters/keystore"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
	"xmppd/projections/projtest"
)

// benchLog returns the benchmarks' log: about a million events of
// realistic shape, sealed. Making it takes seconds; b.Loop runs a
// benchmark function once, so each benchmark makes it once.
func benchLog(b *testing.B) []events.Envelope {
	return projtest.Seal(projtest.Generate(b, projtest.GenConfig{Seed: 1, Accounts: 2000, MinRoster: 50, MaxRoster: 500, Sessions: 10}))
}

// sliceStore is the read side of a store over an in-memory slice, so that
// BenchmarkRebuild measures the views and not a database. It is not a
// store: it implements only what Rebuild calls.
type sliceStore struct {
	events.Store // nil: any other method panics
	evs          []events.Envelope
}

func (s sliceStore) ReadAll(ctx context.Context, from uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		for _, e := range s.evs {
			if e.Position >= from && !yield(e, nil) {
				return
			}
		}
	}
}

// BenchmarkRebuild measures rebuilding every view from an in-memory log of
// about a million events of realistic shape. "clear" is the log as an
// xmppd before issue 13 wrote it; "sealed" the same history with its
// personal content (presence status and stanza, vCards, PEP items)
// sealed under per-account monthly keys from a real key file, opened
// while folding: the cost of sealing to a rebuild.
func BenchmarkRebuild(b *testing.B) {
	generated := projtest.Generate(b, projtest.GenConfig{Seed: 1, Accounts: 2000, MinRoster: 50, MaxRoster: 500, Sessions: 10})
	b.Run("clear", func(b *testing.B) { benchRebuild(b, projtest.Seal(generated), nil) })
	keys, err := keystore.Open(filepath.Join(b.TempDir(), "keys.db"), false)
	if err != nil {
		b.Fatal(err)
	}
	defer keys.Close()
	sealable := 0
	for _, e := range generated {
		if events.IsSealable(e.Type) {
			sealable++
		}
	}
	b.Run("sealed", func(b *testing.B) {
		benchRebuild(b, projtest.Seal(sealPersonal(b, generated, keys)), keys)
		b.ReportMetric(float64(sealable), "sealed-events")
	})
	// "sealed+archive" is "sealed" with a message archived between every
	// two of its events (issue 13: rebuilding the views is not slowed by
	// archive events): the same non-archive events, and as many
	// archive.message_stored events again, each party's copy in its own
	// archive stream, sealed as the server seals them. Its ns/op minus
	// sealed's, over archive-events, is what an archived message adds to
	// a rebuild.
	b.Run("sealed+archive", func(b *testing.B) {
		withArchive, archived := interleaveArchive(b, generated)
		benchRebuild(b, projtest.Seal(sealPersonal(b, withArchive, keys)), keys)
		b.ReportMetric(float64(archived), "archive-events")
	})
}

// interleaveArchive returns evs with one message archived after every
// second event: two archive.message_stored events (the sender's copy,
// then the recipient's) between accounts of the generated log, recorded
// at the time of the event before them, with a chat stanza of realistic
// size as content. It returns the log and how many archive events it
// added.
func interleaveArchive(b *testing.B, evs []events.Envelope) ([]events.Envelope, int) {
	out := make([]events.Envelope, 0, 2*len(evs))
	n := 0
	for i, e := range evs {
		out = append(out, e)
		if i%2 == 1 {
			continue
		}
		from, to := fmt.Sprintf("user%05d@localhost", i%2000), fmt.Sprintf("user%05d@localhost", (i/2+7)%2000)
		stanza := fmt.Sprintf("<message xmlns='jabber:client' type='chat' from='%s/phone' to='%s' id='m%d'><body>%d: see you at the station at six, the usual platform</body><stanza-id xmlns='urn:xmpp:sid:0' by='%s' id='a%d'/></message>", from, to, i, i, to, i)
		for _, side := range []struct{ owner, with, dir string }{{from, to, events.ArchiveOut}, {to, from + "/phone", events.ArchiveIn}} {
			a, err := events.New(events.ArchiveMessageStored{ID: fmt.Sprintf("a%d-%s", i, side.dir), With: side.with, Direction: side.dir, Content: stanza}, events.Meta{})
			if err != nil {
				b.Fatal(err)
			}
			a.Stream, a.Recorded = events.ArchiveStream(side.owner), e.Recorded
			out = append(out, a)
			n++
		}
	}
	return out, n
}

// sealPersonal returns evs with their personal payloads sealed, as the
// server appends them (im/commit.go).
func sealPersonal(b *testing.B, evs []events.Envelope, keys events.KeySource) []events.Envelope {
	out := make([]events.Envelope, len(evs))
	for i, e := range evs {
		out[i] = e
		if !events.IsSealable(e.Type) {
			continue
		}
		p, err := events.Decode(&e)
		if err != nil {
			b.Fatal(err)
		}
		_, bare, _ := events.SplitStream(e.Stream)
		if p, err = events.SealPersonal(p, keys, bare, e.Recorded); err != nil {
			b.Fatal(err)
		}
		n, err := events.New(p, events.Meta{})
		if err != nil {
			b.Fatal(err)
		}
		out[i].Data, out[i].SchemaVersion = n.Data, n.SchemaVersion
	}
	return out
}

func benchRebuild(b *testing.B, log []events.Envelope, keys events.KeyLookup) {
	store := sliceStore{evs: log}
	runtime.GC()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		v := projections.NewViews(domain.DefaultPolicy())
		v.OpenWith(keys)
		pos, err := projections.Rebuild(context.Background(), store, v, 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		if pos != log[len(log)-1].Position {
			b.Fatalf("rebuilt to %d, log ends at %d", pos, log[len(log)-1].Position)
		}
	}
	b.ReportMetric(float64(len(log))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(log)), "events")
	// The development machines are shared: wall-clock rates swing with
	// what else runs. CPU seconds (all threads, GC included) are steadier.
	b.ReportMetric(float64(len(log))*float64(b.N)/(cpuTime(b)-cpu0).Seconds(), "events/cpu-s")
}

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecode measures events.Decode for the event types a rebuild
// decodes most, to show where a rebuild's time goes.
func BenchmarkDecode(b *testing.B) {
	for _, p := range []events.Payload{
		events.SubscriptionChanged{Contact: "romeo@example.net", Cause: events.InSubscribe, Before: events.StateTo, After: events.StateToPendingIn, Stanza: "<presence type='subscribe' from='romeo@example.net'/>"},
		events.RosterItemSet{Contact: "romeo@example.net", Name: "Romeo", Groups: []string{"Friends", "Verona"}},
		events.PresenceAvailable{Resource: "phone", Show: "away", Status: "out", Priority: 5, Stanza: "<presence from='juliet@example.com/phone'><show>away</show><status>out</status><priority>5</priority></presence>"},
	} {
		e, err := events.New(p, events.Meta{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(p.EventType(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := events.Decode(&e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRebuildFromSQLite measures the whole rebuild as the server runs
// it at start-up: reading a real SQLite file (the store reads ahead on its
// own goroutine), decoding and folding. The log is smaller than
// BenchmarkRebuild's to keep the set-up (committing it) short; the rate
// does not depend on the size.
func BenchmarkRebuildFromSQLite(b *testing.B) {
	store := openStore(b)
	log := commit(b, store, projtest.Generate(b, projtest.GenConfig{Seed: 5, Accounts: 400, MinRoster: 50, MaxRoster: 500, Sessions: 10}))
	runtime.GC()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		v := projections.NewViews(domain.DefaultPolicy())
		if _, err := projections.Rebuild(context.Background(), store, v, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(log))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(log)), "events")
	b.ReportMetric(float64(len(log))*float64(b.N)/(cpuTime(b)-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkRebuildPhases times Rebuild's two phases apart, one goroutine
// each, over BenchmarkRebuild's log: decoding (parallel in Rebuild) and
// folding (serial: one event at a time, in order). The folding rate bounds
// any rebuild, however many cores decode.
func BenchmarkRebuildPhases(b *testing.B) {
	log := benchLog(b)
	payloads := make([]projections.Decoded, len(log))
	for i := range log {
		p, err := projections.Decode(&log[i])
		if err != nil {
			b.Fatal(err)
		}
		payloads[i] = p
	}
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			for i := range log {
				if _, err := projections.Decode(&log[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(log))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("fold", func(b *testing.B) {
		for b.Loop() {
			v := projections.NewViews(domain.DefaultPolicy())
			for i := range log {
				if err := v.ApplyDecoded(&log[i], payloads[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(log))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

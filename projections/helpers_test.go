package projections_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
	"xmppd/projections/projtest"
)

// logBuilder makes sealed, positioned envelopes by hand, as a store would
// commit them: versions and hash chains per stream, positions in order.
type logBuilder struct {
	t     testing.TB
	pos   uint64
	heads map[string]events.Envelope
}

func newLog(t testing.TB) *logBuilder {
	return &logBuilder{t: t, heads: make(map[string]events.Envelope)}
}

// add returns the next event of stream holding p.
func (l *logBuilder) add(stream string, p events.Payload, m events.Meta) events.Envelope {
	l.t.Helper()
	e, err := events.New(p, m)
	if err != nil {
		l.t.Fatal(err)
	}
	l.pos++
	e.Recorded = projtest.Start().Add(time.Duration(l.pos) * time.Second)
	prev := l.heads[stream]
	if prev.Hash == "" {
		prev.Hash = events.GenesisHash
	}
	evs := []events.Envelope{e}
	events.Seal(stream, prev.Version, prev.Hash, evs)
	evs[0].Position = l.pos
	l.heads[stream] = evs[0]
	return evs[0]
}

// sessionEndedV1 is session.ended as an xmppd writing schema 1 stored it:
// logBuilder.add encodes it as schema 1, and the views decode it through
// the upcaster.
type sessionEndedV1 struct {
	Resource string `json:"resource"`
	Reason   string `json:"reason"`
}

func (sessionEndedV1) EventType() string  { return events.TypeSessionEnded }
func (sessionEndedV1) SchemaVersion() int { return 1 }

// dumpOf returns v's canonical dump.
func dumpOf(t testing.TB, v *projections.Views) string {
	t.Helper()
	var b bytes.Buffer
	if err := v.Dump(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// applyAll applies evs to a new Views and returns it.
func applyAll(t testing.TB, evs []events.Envelope) *projections.Views {
	t.Helper()
	v := projections.NewViews(domain.DefaultPolicy())
	for i := range evs {
		if err := v.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// openStore opens a real SQLite store in t's temporary directory.
func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "xmppd.db")})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// commit appends an unsealed log to store, each stream's events in their
// order, streams concurrently (as many accounts' actors do, so the
// store's group commit batches them), and returns the log as the store
// committed it, in position order.
func commit(t testing.TB, store events.Store, log []events.Envelope) []events.Envelope {
	t.Helper()
	ctx := context.Background()
	streams := make(map[string][]events.Envelope)
	var order []string
	for _, e := range log {
		if _, ok := streams[e.Stream]; !ok {
			order = append(order, e.Stream)
		}
		streams[e.Stream] = append(streams[e.Stream], e)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(order))
	for _, name := range order {
		wg.Go(func() {
			for i, e := range streams[name] {
				if _, err := store.Append(ctx, name, events.Exactly(uint64(i)), e); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var out []events.Envelope
	for e, err := range store.ReadAll(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if len(out) != len(log) {
		t.Fatalf("store holds %d events, appended %d", len(out), len(log))
	}
	return out
}

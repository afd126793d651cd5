package replay_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
)

// openStore opens a real SQLite store at path (created if missing).
func openStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tempStore(t testing.TB) *sqlite.Store {
	return openStore(t, filepath.Join(t.TempDir(), "xmppd.db"))
}

// commit appends an unsealed log to store, each stream's events in their
// order, in runs of up to chunk events per Append, streams concurrently
// (as many accounts' actors do, so the store's group commit batches
// them). Positions therefore interleave the streams as a live server's do.
func commit(t testing.TB, store events.Store, log []events.Envelope, chunk int) {
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
	work := make(chan string)
	errs := make(chan error, len(order))
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for name := range work {
				evs := streams[name]
				for i := 0; i < len(evs); i += chunk {
					j := min(i+chunk, len(evs))
					if _, err := store.Append(ctx, name, events.Exactly(uint64(i)), evs[i:j]...); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	for _, name := range order {
		work <- name
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// accountAppender returns a function that appends one payload to bare's
// account stream, recorded at the time given, with meta, and returns its
// log position.
func accountAppender(t *testing.T, store events.Store, bare string, meta events.Meta) func(time.Time, events.Payload) uint64 {
	var version uint64
	return func(at time.Time, p events.Payload) uint64 {
		t.Helper()
		env, err := events.New(p, meta)
		if err != nil {
			t.Fatal(err)
		}
		env.Recorded = at
		out, err := store.Append(context.Background(), events.AccountStream(bare), events.Exactly(version), env)
		if err != nil {
			t.Fatal(err)
		}
		version++
		return out[0].Position
	}
}

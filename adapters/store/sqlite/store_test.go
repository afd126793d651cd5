package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// openTemp opens a store on a new file in t's temporary directory.
func openTemp(t testing.TB, cfg sqlite.Config) *sqlite.Store {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "xmppd.db")
	}
	s, err := sqlite.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.Store { return openTemp(t, sqlite.Config{}) })
}

// TestConformanceReadingTheFileDirectly runs the suite again with every
// long read, however short, taking its rows straight from the file's
// b-tree (rawread.go) up to its snapshot, and none of them having to fall
// back to SQL.
func TestConformanceReadingTheFileDirectly(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.Store {
		s := openTemp(t, sqlite.Config{})
		sqlite.SetDirectReadMin(s, 1)
		t.Cleanup(func() {
			if n := sqlite.DirectReadFallbacks(s); n != 0 {
				t.Errorf("%d direct reads fell back to SQL", n)
			}
		})
		return s
	})
}

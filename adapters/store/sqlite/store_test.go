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

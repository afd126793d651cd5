package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"xmppd/adapters/store/esdb"
	"xmppd/adapters/store/sqlite"
	"xmppd/events"
)

// openStore opens the configured event store. readOnly opens it for
// reading only (verify, export, replay, audit): such commands never write
// and never take a lock that would stall a running server.
func openStore(ctx context.Context, c *Config, readOnly bool) (events.Store, error) {
	switch c.Store.Kind {
	case "esdb":
		s, err := esdb.Open(ctx, esdb.Config{URL: c.Store.URL})
		if err != nil {
			return nil, fmt.Errorf("open EventStoreDB %s: %w", c.Store.URL, err)
		}
		return s, nil
	default:
		if err := checkLogFile(c, readOnly); err != nil {
			return nil, err
		}
		if !readOnly {
			if err := os.MkdirAll(filepath.Dir(c.Store.Path), 0o750); err != nil {
				return nil, fmt.Errorf("create data directory: %w", err)
			}
		}
		s, err := sqlite.Open(ctx, sqlite.Config{Path: c.Store.Path, ReadOnly: readOnly})
		if err != nil {
			return nil, fmt.Errorf("open event log %s: %w", c.Store.Path, err)
		}
		return s, nil
	}
}

// withStore loads the configuration, opens the store, runs fn and closes
// the store.
func (a *app) withStore(ctx context.Context, readOnly bool, fn func(*Config, events.Store) error) error {
	c, err := a.cfg.load()
	if err != nil {
		return err
	}
	s, err := openStore(ctx, c, readOnly)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(c, s)
}

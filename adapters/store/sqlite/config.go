package sqlite

import (
	"errors"
	"fmt"
	"time"
)

// Config says which file to open and how. The zero value of every field but
// Path means "use the default".
type Config struct {
	// Path is the database file, created (with its directory left to the
	// caller) on first open unless ReadOnly.
	Path string
	// ReadOnly opens an existing file for reading only: no schema change, no
	// append, no checkpoint. Use it for replay and audit beside a running
	// server or on a copied file; WAL readers never block the writer.
	ReadOnly bool
	// BusyTimeout bounds how long a call waits for a lock held by another
	// process (for example `xmppd user add` while the server runs).
	// Default 5s.
	BusyTimeout time.Duration
	// PollInterval is how often subscriptions look for commits made by other
	// processes (PRAGMA data_version). In-process commits wake subscribers at
	// once. Default 100ms.
	PollInterval time.Duration
	// ReadConns is the number of pooled read connections. Default 4.
	ReadConns int
	// MaxBatchEvents caps how many events the writer gathers into one
	// transaction (a single larger Append still commits whole). Default 4096.
	MaxBatchEvents int
	// CacheKiB is the page cache of each connection in KiB. Default 32768.
	CacheKiB int
}

const (
	defaultBusyTimeout    = 5 * time.Second
	defaultPollInterval   = 100 * time.Millisecond
	defaultReadConns      = 4
	defaultMaxBatchEvents = 4096
	defaultCacheKiB       = 32 << 10
)

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path is empty"))
	}
	if c.Path == ":memory:" {
		errs = append(errs, errors.New("path :memory: is not a file: the log must be durable and shared between connections"))
	}
	if c.BusyTimeout < 0 {
		errs = append(errs, fmt.Errorf("busy timeout %v is negative", c.BusyTimeout))
	}
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("poll interval %v is negative", c.PollInterval))
	}
	if c.PollInterval > time.Second {
		errs = append(errs, fmt.Errorf("poll interval %v is over 1s: other processes' appends must reach subscribers within a second", c.PollInterval))
	}
	if c.ReadConns < 0 {
		errs = append(errs, fmt.Errorf("read connections %d is negative", c.ReadConns))
	}
	if c.MaxBatchEvents < 0 {
		errs = append(errs, fmt.Errorf("max batch events %d is negative", c.MaxBatchEvents))
	}
	if c.CacheKiB < 0 {
		errs = append(errs, fmt.Errorf("cache size %d KiB is negative", c.CacheKiB))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: invalid config: %w", err)
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.BusyTimeout == 0 {
		c.BusyTimeout = defaultBusyTimeout
	}
	if c.PollInterval == 0 {
		c.PollInterval = defaultPollInterval
	}
	if c.ReadConns == 0 {
		c.ReadConns = defaultReadConns
	}
	if c.MaxBatchEvents == 0 {
		c.MaxBatchEvents = defaultMaxBatchEvents
	}
	if c.CacheKiB == 0 {
		c.CacheKiB = defaultCacheKiB
	}
	return c
}

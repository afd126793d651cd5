package sqlite

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// Write health: whether the store's commits succeed. When a write
// transaction fails (a full disk: SQLITE_FULL; an I/O error; a lock held
// by another process past the busy timeout), the store refuses writes
// until one succeeds again. Callers learn of it at once from their
// failed Append; an operator learns of it from WriteHealth (the server's
// /healthz) and from FailureObserver (a metric).
//
// A server with no client writing would never find out that the disk has
// room again, so while unhealthy the writer goroutine probes, every
// probeEvery, with a small transaction of its own (probe). A healthy
// store pays one atomic load per group commit for all this.

// probeEvery is how often the writer tries a probe write while its
// commits fail.
const probeEvery = time.Second

// probePad is how many bytes each probe writes: enough pages that the
// probe needs the disk, as an append of a few events does. (SQLite
// overwrites blocks the WAL already holds when it can, so no write
// proves the disk has room for every later one; any later failure turns
// the health back.)
const probePad = 64 << 10

// probeTable is the side table the probe rewrites: one row, never an
// event. It is created by the first probe, so a store that never failed
// has none; it is not part of the log (no hash chain covers it, export
// and verify ignore it) and may be dropped at any time.
const probeTable = `CREATE TABLE IF NOT EXISTS write_probe (
	one    INTEGER PRIMARY KEY CHECK (one = 1),
	probed INTEGER NOT NULL,
	pad    BLOB    NOT NULL
)`

const probeUpsert = `INSERT INTO write_probe (one, probed, pad) VALUES (1, ?1, zeroblob(?2))
	ON CONFLICT (one) DO UPDATE SET probed = excluded.probed, pad = excluded.pad`

// FailureObserver is the optional part of an Observer that hears of each
// write transaction that failed (appends of the whole batch, or indexing
// the tail of the log; not the probes). It is called from the writer
// goroutine: it must be cheap and never block.
type FailureObserver interface {
	CommitFailed()
}

// health is the store's write health. The writer goroutine changes it;
// WriteHealth reads it from any goroutine.
type health struct {
	failing atomic.Bool // the writer's fast check

	mu     sync.Mutex
	reason string    // why writes fail, while failing
	since  time.Time // when the current state began
}

// WriteHealth reports whether the store's writes succeed: ok is false
// from a failed write transaction until the next one that succeeds (an
// append or the writer's probe), reason then says what SQLite said (for
// example "database or disk is full"), and since is when the current
// state began (the first failure, or the recovery, or Open). A read-only
// store is always ok.
func (s *Store) WriteHealth() (ok bool, reason string, since time.Time) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return !s.health.failing.Load(), s.health.reason, s.health.since
}

// wrote records the outcome of one write transaction (err nil: it
// committed) and reports whether the store is now failing. Writer
// goroutine only.
func (s *Store) wrote(err error) (failing bool) {
	h := &s.health
	if err == nil {
		if h.failing.Load() {
			h.mu.Lock()
			h.failing.Store(false)
			h.reason, h.since = "", time.Now()
			h.mu.Unlock()
		}
		return false
	}
	if !h.failing.Load() {
		h.mu.Lock()
		h.failing.Store(true)
		h.reason, h.since = failureReason(err), time.Now()
		h.mu.Unlock()
	}
	return true
}

// commitFailed tells the observer, if it listens, of a failed write.
func (s *Store) commitFailed() {
	if o, ok := s.obs.load().(FailureObserver); ok {
		o.CommitFailed()
	}
}

// failureReason is what an operator reads: SQLite's words for the
// failure ("database or disk is full"), or the error itself when it did
// not come from SQLite.
func failureReason(err error) string {
	if code := sqlite.ErrCode(err); code != sqlite.ResultError {
		return code.ToPrimary().Message()
	}
	return err.Error()
}

// probe runs one small write transaction that needs disk space but adds
// nothing to the log: it rewrites the one row of write_probe. Writer
// goroutine only. The heads the writer caches stay valid: the probe
// touches no stream, and a commit on the writer's own connection does not
// change PRAGMA data_version.
func (w *writer) probe(now time.Time) (err error) {
	if err := w.exec(w.begin); err != nil {
		return fmt.Errorf("sqlite: probe: begin: %w", err)
	}
	defer func() {
		if err != nil && !w.conn.AutocommitEnabled() {
			w.exec(w.rollback)
		}
	}()
	if err := sqlitex.ExecuteTransient(w.conn, probeTable, nil); err != nil {
		return fmt.Errorf("sqlite: probe: create table: %w", err)
	}
	if err := sqlitex.ExecuteTransient(w.conn, probeUpsert, &sqlitex.ExecOptions{
		Args: []any{now.UnixNano(), probePad},
	}); err != nil {
		return fmt.Errorf("sqlite: probe: write: %w", err)
	}
	if err := w.exec(w.commit); err != nil {
		return fmt.Errorf("sqlite: probe: commit: %w", err)
	}
	return nil
}

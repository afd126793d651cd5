package keystore

import (
	"time"

	"zombiezen.com/go/sqlite/sqlitex"
)

// Write health: whether the key file takes new keys. Making a month's key
// is a write (Key), and a full disk refuses it; the content it would seal
// is then refused too (nothing is stored in clear instead), so an
// operator must hear of it as of a store that refuses writes: the server
// reports the key file's health beside the log's (/healthz, its log).
//
// A key is made once per account and period, so after a failure nothing
// may write for a long time: while failing, WriteHealth itself tries a
// small write of its own at most every probeEvery, and the key file is
// healthy again once one succeeds.

// probeEvery is how often WriteHealth probes a failing key file.
const probeEvery = time.Second

// probePad is how many bytes a probe writes: a few pages, so that the
// probe needs room on the disk as making a key does.
const probePad = 16 << 10

const probeTable = `CREATE TABLE IF NOT EXISTS write_probe (
	one    INTEGER PRIMARY KEY CHECK (one = 1),
	probed TEXT NOT NULL,
	pad    BLOB NOT NULL
)`

const probeUpsert = `INSERT INTO write_probe (one, probed, pad) VALUES (1, ?1, zeroblob(?2))
	ON CONFLICT (one) DO UPDATE SET probed = excluded.probed, pad = excluded.pad`

// health is the key file's write health. Guarded by Store.mu.
type health struct {
	failing bool
	reason  string
	since   time.Time
	probed  time.Time
}

// wrote records the outcome of a write (err nil: it committed). Called
// with mu held.
func (s *Store) wrote(err error) {
	now := s.now()
	switch {
	case err != nil && !s.health.failing:
		s.health = health{failing: true, reason: err.Error(), since: now, probed: now}
	case err != nil:
		s.health.reason = err.Error()
	case s.health.failing:
		s.health = health{since: now}
	}
}

// WriteHealth reports whether the key file takes writes: ok is false from
// a failed write until one succeeds (a key made, or WriteHealth's own
// probe), reason then says what SQLite said, and since is when the
// current state began. A read-only store is always ok.
func (s *Store) WriteHealth() (ok bool, reason string, since time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.health.failing && s.conn != nil && !s.readOnly && s.now().Sub(s.health.probed) >= probeEvery {
		s.health.probed = s.now()
		s.wrote(s.probe())
	}
	return !s.health.failing, s.health.reason, s.health.since
}

// probe writes probePad bytes in a transaction of its own. Called with mu
// held.
func (s *Store) probe() (err error) {
	end := sqlitex.Transaction(s.conn)
	defer end(&err)
	if err = sqlitex.ExecuteTransient(s.conn, probeTable, nil); err != nil {
		return err
	}
	return sqlitex.Execute(s.conn, probeUpsert, &sqlitex.ExecOptions{Args: []any{s.now().UTC().Format(time.RFC3339Nano), probePad}})
}

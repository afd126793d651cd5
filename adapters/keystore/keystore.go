package keystore

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/events"
)

// Compile-time checks: the ports the server and the readers use.
var (
	_ events.KeySource   = (*Store)(nil)
	_ events.KeyLookup   = (*Store)(nil)
	_ events.PeriodNamer = (*Store)(nil)
)

// schema: a destroyed key keeps its row, with key NULL and gone saying
// why, so that readers can tell erased content from a key never made.
// ends is when the key's period ends (events.PeriodEnd, RFC 3339 UTC,
// which sorts as time does): retention finds the keys it may destroy by
// it. A file made before the column existed gets it, filled, at Open.
const schema = `CREATE TABLE IF NOT EXISTS keys (
	account   TEXT NOT NULL,
	period    TEXT NOT NULL,
	key       BLOB,
	gone      TEXT NOT NULL DEFAULT '',
	created   TEXT NOT NULL,
	destroyed TEXT,
	ends      TEXT,
	PRIMARY KEY (account, period)
) WITHOUT ROWID`

// Store is the key file. It is safe for concurrent use: one connection,
// guarded by mu, and a cache of the ciphers of the keys read or made
// (events.NewAEAD), so sealing and opening cost a map lookup after the
// first event of an account's month. The cache is read under a read lock:
// a rebuild opens from every decoding goroutine at once.
type Store struct {
	mu       sync.RWMutex
	conn     *sqlite.Conn // nil: a read-only store whose file does not exist
	readOnly bool
	cache    map[events.KeyID]cipher.AEAD
	// sealing is, by account and month, the key new content is sealed
	// under: the month's own, or a later generation if that one was
	// destroyed (Key).
	sealing map[events.KeyID]events.KeyID
	now     func() time.Time
	// period is how much time one key covers (keys.period); set before
	// first use (SetPeriod).
	period events.KeyPeriod
	health health // health.go
	// tag names the keys this file makes, if it has one (tag.go).
	tag string
}

// Open opens the key file at path, creating it unless readOnly. A
// read-only store over a file that does not exist holds no key: every
// sealed field reads as "missing".
//
// The file is kept in rollback-journal mode with secure_delete on and
// synchronous FULL: a key is durable before the first event it seals is
// appended, and a destroyed key's bytes are overwritten with zeros in the
// file and its journal is deleted at commit, rather than left in a WAL.
func Open(path string, readOnly bool) (*Store, error) {
	s := &Store{readOnly: readOnly, cache: map[events.KeyID]cipher.AEAD{}, sealing: map[events.KeyID]events.KeyID{}, now: time.Now}
	flags := sqlite.OpenReadWrite | sqlite.OpenCreate
	if readOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return s, nil
		}
		flags = sqlite.OpenReadOnly
	}
	conn, err := sqlite.OpenConn(path, flags)
	if err != nil {
		return nil, fmt.Errorf("keystore: open %s: %w", path, err)
	}
	conn.SetBusyTimeout(10 * time.Second)
	setup := []string{"PRAGMA secure_delete = ON"}
	if !readOnly {
		setup = append(setup, "PRAGMA journal_mode = DELETE", "PRAGMA synchronous = FULL", schema)
	}
	for _, q := range setup {
		if err := sqlitex.ExecuteTransient(conn, q, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("keystore: open %s: %s: %w", path, q, err)
		}
	}
	if !readOnly {
		if err := os.Chmod(path, 0o600); err != nil {
			conn.Close()
			return nil, fmt.Errorf("keystore: open %s: %w", path, err)
		}
	}
	if s.tag, err = readTag(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("keystore: open %s: %w", path, err)
	}
	s.conn = conn
	if !readOnly {
		if err := s.addEnds(); err != nil {
			conn.Close()
			return nil, fmt.Errorf("keystore: open %s: %w", path, err)
		}
	}
	return s, nil
}

// SetPeriod sets how much time each new key covers (keys.period; the
// calendar month unless set). Call it before the first Key. Keys made
// under another period keep theirs: each key's period is in its name.
func (s *Store) SetPeriod(p events.KeyPeriod) { s.period = p }

// PeriodName names the period of t that content recorded at t is sealed
// for (events.PeriodNamer).
func (s *Store) PeriodName(t time.Time) string { return s.period.Name(t) }

// Close closes the file and forgets the cached keys.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.cache)
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// cached returns id's cipher if it is cached.
func (s *Store) cached(id events.KeyID) (cipher.AEAD, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.cache[id]
	return a, ok
}

// remember caches id's cipher. Called with mu held.
func (s *Store) remember(id events.KeyID, key []byte) (cipher.AEAD, error) {
	a, err := events.NewAEAD(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: key %s: %w", id, err)
	}
	s.cache[id] = a
	return a, nil
}

// Key returns the key new content of month's account and period is
// sealed under, and its cipher: the month's key, made and stored durably
// on first use. If that key was destroyed (the account was erased and
// its address registered again, the same month), a new generation is
// made under the id "<period>~2" (then ~3, ...): what was sealed under
// the destroyed key stays unreadable, and new content is sealed anew.
// A tagged file (tag.go) names its keys "<period>~<tag>" (then
// "~<tag>.2", ...).
func (s *Store) Key(month events.KeyID) (events.KeyID, cipher.AEAD, error) {
	s.mu.RLock()
	id, ok := s.sealing[month]
	a := s.cache[id]
	s.mu.RUnlock()
	if ok && a != nil {
		return id, a, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := 1; ; n++ {
		id := s.keyName(month, n)
		if a, ok := s.cache[id]; ok {
			s.sealing[month] = id
			return id, a, nil
		}
		k, gone, found, err := s.read(id)
		switch {
		case err != nil:
			return events.KeyID{}, nil, err
		case found && gone != "":
			continue
		case found:
		case s.readOnly || s.conn == nil:
			return events.KeyID{}, nil, fmt.Errorf("keystore: key %s: opened read-only", id)
		default:
			k = make([]byte, 32)
			rand.Read(k)
			var ends time.Time
			if ends, err = events.PeriodEnd(id.Period); err != nil {
				return events.KeyID{}, nil, fmt.Errorf("keystore: make key %s: %w", id, err)
			}
			err = sqlitex.Execute(s.conn, `INSERT INTO keys (account, period, key, created, ends) VALUES (?1, ?2, ?3, ?4, ?5)`,
				&sqlitex.ExecOptions{Args: []any{id.Account, id.Period, k, s.now().UTC().Format(time.RFC3339Nano), stamp(ends)}})
			s.wrote(err)
			if err != nil {
				return events.KeyID{}, nil, fmt.Errorf("keystore: make key %s: %w", id, err)
			}
		}
		a, err := s.remember(id, k)
		if err != nil {
			return events.KeyID{}, nil, err
		}
		s.sealing[month] = id
		return id, a, nil
	}
}

// Lookup returns the cipher of id's key, or why there is none.
func (s *Store) Lookup(id events.KeyID) (cipher.AEAD, string, error) {
	if a, ok := s.cached(id); ok {
		return a, "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.cache[id]; ok {
		return a, "", nil
	}
	if s.conn == nil {
		return nil, events.GoneMissing, nil
	}
	k, gone, found, err := s.read(id)
	switch {
	case err != nil:
		return nil, "", err
	case !found:
		return nil, events.GoneMissing, nil
	case gone != "":
		return nil, gone, nil
	}
	a, err := s.remember(id, k)
	if err != nil {
		return nil, "", err
	}
	return a, "", nil
}

// read reads id's row. Called with mu held.
func (s *Store) read(id events.KeyID) (key []byte, gone string, found bool, err error) {
	if s.conn == nil {
		return nil, "", false, nil
	}
	err = sqlitex.Execute(s.conn, `SELECT key, gone FROM keys WHERE account = ?1 AND period = ?2`,
		&sqlitex.ExecOptions{Args: []any{id.Account, id.Period}, ResultFunc: func(st *sqlite.Stmt) error {
			found = true
			gone = st.ColumnText(1)
			if n := st.ColumnLen(0); n > 0 {
				key = make([]byte, n)
				st.ColumnBytes(0, key)
			}
			return nil
		}})
	if err != nil {
		return nil, "", false, fmt.Errorf("keystore: read key %s: %w", id, err)
	}
	if found && gone == "" && len(key) != 32 {
		return nil, "", false, fmt.Errorf("keystore: key %s is %d bytes, want 32: the key file is damaged", id, len(key))
	}
	return key, gone, found, nil
}

// Destroy destroys every key of account that still exists, recording why
// (events.GoneErased, events.GoneExpired), and returns the periods of the
// keys destroyed, oldest first. The key bytes are overwritten in the file
// (secure_delete) before it returns; content sealed under them can never
// be read again.
func (s *Store) Destroy(account, why string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readOnly || s.conn == nil {
		return nil, errors.New("keystore: destroy: opened read-only")
	}
	var periods []string
	end := sqlitex.Transaction(s.conn)
	err := sqlitex.Execute(s.conn, `SELECT period FROM keys WHERE account = ?1 AND key IS NOT NULL ORDER BY period`,
		&sqlitex.ExecOptions{Args: []any{account}, ResultFunc: func(st *sqlite.Stmt) error {
			periods = append(periods, st.ColumnText(0))
			return nil
		}})
	if err == nil {
		err = sqlitex.Execute(s.conn, `UPDATE keys SET key = NULL, gone = ?2, destroyed = ?3 WHERE account = ?1 AND key IS NOT NULL`,
			&sqlitex.ExecOptions{Args: []any{account, why, s.now().UTC().Format(time.RFC3339Nano)}})
	}
	end(&err)
	if err != nil {
		return nil, fmt.Errorf("keystore: destroy keys of %s: %w", account, err)
	}
	for id := range s.cache {
		if id.Account == account {
			delete(s.cache, id)
		}
	}
	for month := range s.sealing {
		if month.Account == account {
			delete(s.sealing, month)
		}
	}
	return periods, nil
}

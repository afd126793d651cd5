package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/events"
)

// Compile-time checks of the abilities callers find by type assertion.
var (
	_ events.Store            = (*Store)(nil)
	_ events.HeadReader       = (*Store)(nil)
	_ events.StreamHeadLister = (*Store)(nil)
)

// mmapSize is how much of the database file SQLite reads through mmap
// rather than read(2) (pages in the WAL are read as usual).
const mmapSize = 1 << 30

// errReadOnly is returned by Append on a store opened with ReadOnly.
var errReadOnly = errors.New("store is read-only")

// Store is the SQLite event store. It is safe for concurrent use.
//
// One writer goroutine owns the write connection and commits appends in
// groups; a pool of read connections serves reads, each query taking a
// connection only for one page of rows so that no reader holds a WAL
// snapshot (and so the checkpointer) across a slow consumer.
type Store struct {
	cfg     Config
	readers *sqlitex.Pool
	layout  layout // how the file's schema version lays events out

	reqs       chan *appendReq
	done       chan struct{} // closed by Close
	writerDone chan struct{} // closed when the writer goroutine has exited
	pollerDone chan struct{} // closed when the poller goroutine has exited

	checkpointerDone chan struct{} // closed when the checkpointer has exited
	kickCheckpoint   chan struct{} // the writer's nudge after a commit

	commits     signal       // broadcast after each commit seen (ours or another process's)
	recent      recent       // this process's latest commits, for live subscriptions (recent.go)
	subscribers atomic.Int32 // live Subscribe loops; the poller idles at zero
	obs         observers    // hears appends and commits, for metrics (Observe)
	health      health       // whether commits succeed (health.go)
	// rawFallbacks counts long reads that the file could not serve
	// directly and that went on through SQL (rawread.go).
	rawFallbacks atomic.Int64
	rawMin       uint64 // the fewest events a read takes from the file directly (tests lower it)

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating and migrating when writable) the log at cfg.Path.
// The context bounds the opening only.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	cfg = cfg.withDefaults()
	s := &Store{
		cfg:        cfg,
		reqs:       make(chan *appendReq, 1024),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
		pollerDone: make(chan struct{}),

		checkpointerDone: make(chan struct{}),
		kickCheckpoint:   make(chan struct{}, 1),
		rawMin:           rawMinEvents,
	}
	s.commits.init()
	s.health.since = time.Now()

	var w *writer
	var ckpt *sqlite.Conn
	if !cfg.ReadOnly {
		var err error
		if w, ckpt, err = s.openWriter(); err != nil {
			return nil, err
		}
	}
	closeWriter := func() {
		if w != nil {
			w.conn.Close()
			ckpt.Close()
		}
	}

	watch, err := s.openConn(true)
	if err != nil {
		closeWriter()
		return nil, err
	}
	if s.layout, err = checkSchema(watch); err != nil {
		watch.Close()
		closeWriter()
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}

	s.readers, err = sqlitex.NewPool(cfg.Path, sqlitex.PoolOptions{
		Flags:       s.readFlags(),
		PoolSize:    cfg.ReadConns,
		PrepareConn: func(c *sqlite.Conn) error { return s.prepareConn(c, true) },
	})
	if err != nil {
		watch.Close()
		closeWriter()
		return nil, fmt.Errorf("sqlite: open %s: read pool: %w", cfg.Path, err)
	}

	if w != nil {
		go s.runWriter(w)
		go s.runCheckpointer(ckpt, s.kickCheckpoint)
	} else {
		close(s.writerDone)
		close(s.checkpointerDone)
	}
	go s.runPoller(watch)
	return s, nil
}

// openWriter opens the write connection (making the file WAL and bringing
// its schema up to date) and the checkpointer's connection.
func (s *Store) openWriter() (*writer, *sqlite.Conn, error) {
	conn, err := s.openConn(false)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*writer, *sqlite.Conn, error) {
		conn.Close()
		return nil, nil, err
	}
	// journal_mode is persistent in the file; setting it needs a write,
	// which is why only the writable path does it.
	if err := sqlitex.ExecuteTransient(conn, "PRAGMA journal_mode=WAL", nil); err != nil {
		return fail(fmt.Errorf("sqlite: open %s: enable WAL: %w", s.cfg.Path, err))
	}
	if err := migrate(conn); err != nil {
		return fail(err)
	}
	if err := sqlitex.ExecuteTransient(conn, fmt.Sprintf("PRAGMA wal_autocheckpoint=%d", writerAutoCheckpoint), nil); err != nil {
		return fail(fmt.Errorf("sqlite: open %s: %w", s.cfg.Path, err))
	}
	w, err := newWriter(conn, s.cfg.MaxBatchEvents)
	if w != nil {
		w.committed = &s.recent
	}
	if err != nil {
		return fail(err)
	}
	ckpt, err := s.openConn(false)
	if err != nil {
		return fail(err)
	}
	return w, ckpt, nil
}

func (s *Store) readFlags() sqlite.OpenFlags {
	if s.cfg.ReadOnly {
		return sqlite.OpenReadOnly
	}
	return sqlite.OpenReadWrite
}

// openConn opens one connection with the store's pragmas. Read
// connections of a writable store are opened read-write (so that SQLite may
// maintain the shared WAL index as usual) but with query_only set.
func (s *Store) openConn(read bool) (*sqlite.Conn, error) {
	flags := s.readFlags()
	if !read && !s.cfg.ReadOnly {
		flags |= sqlite.OpenCreate
	}
	conn, err := sqlite.OpenConn(s.cfg.Path, flags)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", s.cfg.Path, err)
	}
	if err := s.prepareConn(conn, read); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// prepareConn sets the per-connection pragmas (see doc.go for why each).
func (s *Store) prepareConn(conn *sqlite.Conn, read bool) error {
	conn.SetBusyTimeout(s.cfg.BusyTimeout)
	pragmas := []string{
		"PRAGMA synchronous=FULL",
		fmt.Sprintf("PRAGMA cache_size=-%d", s.cfg.CacheKiB),
		fmt.Sprintf("PRAGMA mmap_size=%d", mmapSize),
		"PRAGMA temp_store=MEMORY",
	}
	if read {
		pragmas = append(pragmas, "PRAGMA query_only=1")
	}
	// One at a time: a script runs inside a savepoint, where
	// synchronous may not be changed.
	for _, p := range pragmas {
		if err := sqlitex.ExecuteTransient(conn, p, nil); err != nil {
			return fmt.Errorf("sqlite: open %s: %s: %w", s.cfg.Path, p, err)
		}
	}
	return nil
}

// Close stops the writer (appends still queued fail with events.ErrClosed;
// a batch being committed finishes first), ends subscriptions and closes
// every connection. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		<-s.writerDone
		<-s.pollerDone
		<-s.checkpointerDone
		if err := s.readers.Close(); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return s.closeErr
}

// closed reports whether Close has been called.
func (s *Store) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// storeErr wraps err with the operation's context. After Close, or when
// the caller's context ended, it reports that cause rather than whatever
// SQLite said about the interrupted call.
func (s *Store) storeErr(ctx context.Context, op, stream string, version int64, pos uint64, err error) error {
	switch {
	case errors.Is(err, events.ErrClosed), errors.Is(err, events.ErrConflict):
	case s.closed():
		err = events.ErrClosed
	case ctx.Err() != nil:
		err = ctx.Err()
	}
	return &events.StoreError{Op: op, Stream: stream, Version: version, Position: pos, Err: err}
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.cfg.Path }

// ConsecutivePositions reports that this store's positions count events
// (1, 2, 3 ...: the next rowid in one writer's transactions, in a table
// nothing is ever deleted from), so a reader
// can tell how many events lie between two positions, e.g. for progress.
func (s *Store) ConsecutivePositions() bool { return true }

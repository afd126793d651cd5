package sqlite

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/events"
)

// head is the end of one stream: its last version and that event's hash.
type head struct {
	version uint64
	hash    string
}

// maxCachedHeads bounds the writer's head cache; past it the cache is
// dropped and refilled from the streams table on demand.
const maxCachedHeads = 1 << 20

// writer owns the write connection. Only the writer goroutine touches it.
type writer struct {
	conn      *sqlite.Conn
	maxBatch  int
	lastBatch int // requests in the previous batch

	// heads caches stream heads committed through this connection. It is
	// trusted only while PRAGMA data_version, read inside each write
	// transaction, is unchanged: any commit by another connection or
	// process changes it, and then the cache is dropped.
	heads       map[string]head
	dataVersion int64
	pending     map[string]head // heads written by the transaction in progress

	begin, commit, rollback, dataVer, selectHead, insert, upsertHead *sqlite.Stmt
}

func newWriter(conn *sqlite.Conn, maxBatch int) (*writer, error) {
	w := &writer{conn: conn, maxBatch: maxBatch, heads: make(map[string]head), pending: make(map[string]head), dataVersion: -1}
	for _, p := range []struct {
		stmt **sqlite.Stmt
		sql  string
	}{
		{&w.begin, "BEGIN IMMEDIATE"},
		{&w.commit, "COMMIT"},
		{&w.rollback, "ROLLBACK"},
		{&w.dataVer, "PRAGMA data_version"},
		{&w.selectHead, "SELECT version, hash FROM streams WHERE stream = ?1"},
		{&w.insert, `INSERT INTO events (id, stream, version, type, schema, recorded, actor, session, addr,
			stanza_id, causation, correlation, node, prev, hash, data)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)`},
		{&w.upsertHead, `INSERT INTO streams (stream, version, hash) VALUES (?1, ?2, ?3)
			ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash`},
	} {
		stmt, err := conn.Prepare(p.sql)
		if err != nil {
			return nil, fmt.Errorf("sqlite: prepare %q: %w", p.sql, err)
		}
		*p.stmt = stmt
	}
	return w, nil
}

// runWriter is the writer goroutine: it gathers whatever appends are
// queued (up to maxBatch events), commits them in one transaction and
// answers each caller. Callers waiting during a commit form the next batch,
// so the batch grows with the load and a lone caller waits for one fsync.
func (s *Store) runWriter(w *writer) {
	defer close(s.writerDone)
	defer w.conn.Close()
	batch := make([]*appendReq, 0, 256)
	for {
		var first *appendReq
		select {
		case <-s.done:
			s.failQueued()
			// Fold the WAL into the database file, so that the file alone
			// (copied for an audit, say) holds the whole log. Best effort:
			// another process still using the file may keep its WAL.
			sqlitex.ExecuteTransient(w.conn, "PRAGMA wal_checkpoint(TRUNCATE)", nil)
			return
		case first = <-s.reqs:
		}
		batch = batch[:0]
		n := 0
		if first.claim() {
			batch = append(batch, first)
			n += len(first.evs)
		}
		n = w.gather(s.reqs, &batch, n)
		if len(batch) == 0 {
			continue
		}
		start := time.Now()
		if n := w.commitBatch(batch); n > 0 {
			if o := s.obs.load(); o != nil {
				o.Committed(n, time.Since(start))
			}
		}
		s.commits.broadcast()
		select {
		case s.kickCheckpoint <- struct{}{}:
		default:
		}
	}
}

// lingerMax bounds how long the writer waits for the callers of its last
// batch to come back before committing a smaller batch. Each such caller
// saved from the next commit saves a whole fsync later.
const lingerMax = 200 * time.Microsecond

// gather adds queued requests to batch (n events so far) until the queue
// is empty or the batch is full. When the batch is smaller than the last
// one, the callers just answered are likely about to append again: it
// yields the processor to them for up to lingerMax before giving up, so a
// steady load forms one full batch per fsync instead of two half ones.
func (w *writer) gather(reqs <-chan *appendReq, batch *[]*appendReq, n int) int {
	var deadline time.Time
	for n < w.maxBatch {
		select {
		case r := <-reqs:
			if r.claim() {
				*batch = append(*batch, r)
				n += len(r.evs)
			}
			continue
		default:
		}
		if len(*batch) >= w.lastBatch {
			break
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(lingerMax)
		} else if now.After(deadline) {
			break
		}
		runtime.Gosched()
	}
	w.lastBatch = len(*batch)
	return n
}

// failQueued answers every append still queued at Close.
func (s *Store) failQueued() {
	for {
		select {
		case r := <-s.reqs:
			if r.claim() {
				r.done <- events.ErrClosed
			}
		default:
			return
		}
	}
}

// reqError is the failure of one request inside a batch: the transaction
// is rolled back and retried without it.
type reqError struct {
	index int
	err   error
}

func (e *reqError) Error() string { return e.err.Error() }

// commitBatch commits batch and answers every request in it. A conflict
// fails only its own request (it writes nothing); an insert failure of one
// request (a duplicate event ID) rolls back and retries the rest without
// it; any other failure fails the whole batch, of which nothing committed.
// It returns how many events it committed.
func (w *writer) commitBatch(batch []*appendReq) (committed int) {
	for len(batch) > 0 {
		results, err := w.tryCommit(batch)
		if re, ok := errors.AsType[*reqError](err); ok {
			batch[re.index].done <- re.err
			batch = append(batch[:re.index:re.index], batch[re.index+1:]...)
			continue
		}
		if err != nil {
			// The cache may hold heads of a rolled-back transaction's
			// neighbours only if a COMMIT failed halfway; drop it.
			clear(w.heads)
			w.dataVersion = -1
			for _, r := range batch {
				r.done <- err
			}
			return 0
		}
		for i, r := range batch {
			if results[i] == nil {
				committed += len(r.evs)
			}
			r.done <- results[i]
		}
		return committed
	}
	return 0
}

// tryCommit runs one transaction for batch. It returns each request's
// outcome (nil or a conflict) once COMMIT has returned, which with
// synchronous=FULL in WAL mode means the WAL is synced to disk.
func (w *writer) tryCommit(batch []*appendReq) (results []error, err error) {
	if err := w.exec(w.begin); err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil && !w.conn.AutocommitEnabled() {
			w.exec(w.rollback)
		}
	}()
	dv, err := w.readDataVersion()
	if err != nil {
		return nil, err
	}
	if dv != w.dataVersion || len(w.heads) > maxCachedHeads {
		clear(w.heads)
		w.dataVersion = dv
	}
	clear(w.pending)

	results = make([]error, len(batch))
	for i, r := range batch {
		h, err := w.head(r.stream)
		if err != nil {
			return nil, err
		}
		if !r.expected.Matches(h.version) {
			results[i] = fmt.Errorf("%w: stream is at version %d", events.ErrConflict, h.version)
			continue
		}
		events.Seal(r.stream, h.version, h.hash, r.evs)
		for j := range r.evs {
			if err := w.insertEvent(&r.evs[j]); err != nil {
				if sqlite.ErrCode(err) == sqlite.ResultConstraintUnique {
					return nil, &reqError{i, fmt.Errorf("event %d (id %q): %w", j, r.evs[j].ID, err)}
				}
				return nil, fmt.Errorf("sqlite: insert event: %w", err)
			}
		}
		last := &r.evs[len(r.evs)-1]
		w.pending[r.stream] = head{last.Version, last.Hash}
	}
	for stream, h := range w.pending {
		s := w.upsertHead
		s.BindText(1, stream)
		s.BindInt64(2, int64(h.version))
		s.BindText(3, h.hash)
		if err := w.exec(s); err != nil {
			return nil, fmt.Errorf("sqlite: update stream head: %w", err)
		}
	}
	if err := w.exec(w.commit); err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	for stream, h := range w.pending {
		w.heads[stream] = h
	}
	return results, nil
}

// head returns the stream's head as this transaction sees it.
func (w *writer) head(stream string) (head, error) {
	if h, ok := w.pending[stream]; ok {
		return h, nil
	}
	if h, ok := w.heads[stream]; ok {
		return h, nil
	}
	s := w.selectHead
	s.BindText(1, stream)
	defer s.Reset()
	row, err := s.Step()
	if err != nil {
		return head{}, fmt.Errorf("sqlite: read stream head: %w", err)
	}
	if !row {
		return head{0, events.GenesisHash}, nil
	}
	return head{uint64(s.ColumnInt64(0)), s.ColumnText(1)}, nil
}

func (w *writer) insertEvent(e *events.Envelope) error {
	s := w.insert
	s.BindText(1, e.ID)
	s.BindText(2, e.Stream)
	s.BindInt64(3, int64(e.Version))
	s.BindText(4, e.Type)
	s.BindInt64(5, int64(e.SchemaVersion))
	s.BindInt64(6, e.Recorded.UnixNano())
	s.BindText(7, e.Actor)
	s.BindText(8, e.SessionID)
	s.BindText(9, e.ClientAddr)
	s.BindText(10, e.StanzaID)
	s.BindText(11, e.CausationID)
	s.BindText(12, e.CorrelationID)
	s.BindText(13, e.Node)
	s.BindText(14, e.Prev)
	s.BindText(15, e.Hash)
	s.BindText(16, string(e.Data))
	if err := w.exec(s); err != nil {
		return err
	}
	e.Position = uint64(w.conn.LastInsertRowID())
	return nil
}

func (w *writer) readDataVersion() (int64, error) {
	defer w.dataVer.Reset()
	if _, err := w.dataVer.Step(); err != nil {
		return 0, fmt.Errorf("sqlite: read data version: %w", err)
	}
	return w.dataVer.ColumnInt64(0), nil
}

// exec steps a statement that returns no rows and resets it.
func (w *writer) exec(s *sqlite.Stmt) error {
	_, err := s.Step()
	if rerr := s.Reset(); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

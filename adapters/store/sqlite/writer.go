package sqlite

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"
	"unsafe"

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
	conn     *sqlite.Conn
	maxBatch int
	recent   [8]int // requests in each of the last batches, a ring
	nextSlot int

	// heads caches stream heads committed through this connection. It is
	// trusted only while PRAGMA data_version, read inside each write
	// transaction, is unchanged: any commit by another connection or
	// process changes it, and then the cache is dropped.
	//
	// Every head missing from the cache is in the streams table. That
	// holds because the table is brought up to date (flush) whenever the
	// cache may have lost a head: when another connection wrote, after a
	// failed transaction, and before the cache is dropped for its size.
	heads       map[string]head
	dataVersion int64
	pending     map[string]head // heads written by the transaction in progress

	// through is the index watermark (indexed.through) and last the last
	// position in the log, as of this writer's last transaction.
	through, last uint64
	env           []byte // scratch for one envelope column

	committed *recent // hears every commit before its callers do; nil in tests that make a bare writer

	// tail holds, per stream, the events written since the watermark,
	// when this writer wrote all of them (tailKnown); otherwise a flush
	// reads them from the log first.
	tail      runs
	tailKnown bool

	begin, commit, rollback, dataVer, selectHead, insert                 *sqlite.Stmt
	logEnd, readWatermark, readTail, insertRun, upsertHead, setWatermark *sqlite.Stmt
}

// flushEvery is how many unindexed events the writer lets accumulate at
// the end of the log before it indexes them in the next transaction. Each
// read of a stream scans that many rows at most; each flush touches each
// stream's index page once for all its events since the last flush,
// instead of once per commit.
const flushEvery = 4096

// idleFlush is how long the writer waits with no appends before it indexes
// the tail of the log anyway, so that a quiet store has none.
const idleFlush = 100 * time.Millisecond

// upsertHeadSQL moves one stream's head in the streams table.
const upsertHeadSQL = `INSERT INTO streams (stream, version, hash) VALUES (?1, ?2, ?3)
	ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash`

// insertV2 inserts one event; ?1 is the position, NULL for the next one.
const insertV2 = `INSERT INTO events (position, stream, version, type, recorded, hash, envelope)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`

// bindEvent binds e's columns (all but position) to an insertV2 statement.
func bindEvent(s *sqlite.Stmt, e *events.Envelope, envelope []byte) {
	s.BindText(2, e.Stream)
	s.BindInt64(3, int64(e.Version))
	s.BindText(4, e.Type)
	s.BindInt64(5, e.Recorded.UnixNano())
	s.BindText(6, e.Hash)
	s.BindText(7, textOf(envelope))
}

// textOf views b as a string without copying, for binding JSON as TEXT:
// the envelope and the stream index's positions are JSON, and stored as
// text a sqlite3 shell, a JSON function or another tool reads them as
// such (a BLOB is taken for JSONB by SQLite 3.45's JSON functions unless
// it fails to parse as that). The binding copies the bytes into SQLite.
func textOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func newWriter(conn *sqlite.Conn, maxBatch int) (*writer, error) {
	w := &writer{conn: conn, maxBatch: maxBatch, heads: make(map[string]head), pending: make(map[string]head), dataVersion: -1,
		tail: make(runs)}
	for _, p := range []struct {
		stmt **sqlite.Stmt
		sql  string
	}{
		{&w.begin, "BEGIN IMMEDIATE"},
		{&w.commit, "COMMIT"},
		{&w.rollback, "ROLLBACK"},
		{&w.dataVer, "PRAGMA data_version"},
		{&w.selectHead, "SELECT version, hash FROM streams WHERE stream = ?1"},
		{&w.insert, insertV2},
		{&w.logEnd, "SELECT coalesce(max(position), 0) FROM events"},
		{&w.readWatermark, queryWatermark},
		{&w.readTail, `SELECT stream, version, position, hash FROM events
			WHERE position > ?1 AND position <= ?2 ORDER BY position`},
		{&w.insertRun, insertRun},
		{&w.upsertHead, upsertHeadSQL},
		{&w.setWatermark, "UPDATE indexed SET through = ?1"},
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
	idle := time.NewTimer(idleFlush)
	idle.Stop()
	// probe fires every probeEvery while writes fail (health.go); it is
	// stopped, and costs nothing, while they succeed.
	probe := time.NewTimer(probeEvery)
	probe.Stop()
	failing := false
	wrote := func(err error) {
		if err != nil {
			s.commitFailed()
		}
		now := s.wrote(err)
		if now && !failing {
			probe.Reset(probeEvery)
		} else if !now && failing {
			probe.Stop()
		}
		failing = now
	}
	for {
		var first *appendReq
		select {
		case <-s.done:
			s.failQueued()
			// Index the tail and fold the WAL into the database file, so
			// that the file alone (copied for an audit, say) holds the
			// whole log, indexed. Best effort: another process still
			// using the file may keep its WAL.
			w.flushAlone()
			sqlitex.ExecuteTransient(w.conn, "PRAGMA wal_checkpoint(TRUNCATE)", nil)
			return
		case <-idle.C:
			if err := w.flushAlone(); err != nil {
				wrote(err)
			}
			continue
		case <-probe.C:
			if err := w.probe(time.Now()); err != nil {
				probe.Reset(probeEvery)
				continue
			}
			wrote(nil)
			continue
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
		n, err := w.commitBatch(batch)
		if n > 0 {
			if o := s.obs.load(); o != nil {
				o.Committed(n, time.Since(start))
			}
		}
		// A batch of conflicts alone wrote nothing: it proves nothing
		// about the disk either way.
		if err != nil || (failing && n > 0) {
			wrote(err)
		}
		s.commits.broadcast()
		select {
		case s.kickCheckpoint <- struct{}{}:
		default:
		}
		if w.last > w.through {
			idle.Reset(idleFlush)
		}
	}
}

// lingerMax bounds how long the writer waits for the callers of its last
// batch to come back before committing a smaller batch. Each such caller
// saved from the next commit saves a whole fsync later.
const lingerMax = 200 * time.Microsecond

// gather adds queued requests to batch (n events so far) until the queue
// is empty or the batch is full. When the batch is smaller than the
// largest of the last few, the callers answered recently are likely about
// to append again: it yields the processor to them for up to lingerMax
// before giving up, so a steady load forms one full batch per fsync
// instead of two half ones. (Aiming at the last batch alone let one short
// batch, some callers being late, shrink every batch after it.)
func (w *writer) gather(reqs <-chan *appendReq, batch *[]*appendReq, n int) int {
	var deadline time.Time
	target := slices.Max(w.recent[:])
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
		if len(*batch) >= target {
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
	w.recent[w.nextSlot] = len(*batch)
	w.nextSlot = (w.nextSlot + 1) % len(w.recent)
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

// commitBatch commits batch and answers every request in it. A conflict
// fails only its own request (it writes nothing); any other failure fails
// the whole batch, of which nothing committed. It returns how many events
// it committed, and the failure of the transaction if it failed.
func (w *writer) commitBatch(batch []*appendReq) (committed int, err error) {
	results, err := w.tryCommit(batch)
	if err != nil {
		// The transaction rolled back: the cache may hold heads it wrote
		// (none are cached before COMMIT returns, but a COMMIT that failed
		// halfway leaves the file's state to be read again), so drop it.
		clear(w.heads)
		w.dataVersion = -1
		w.tailKnown = false
		for _, r := range batch {
			r.done <- err
		}
		return 0, err
	}
	if w.committed != nil {
		w.committed.add(batch, results)
	}
	for i, r := range batch {
		if results[i] == nil {
			committed += len(r.evs)
		}
		r.done <- results[i]
	}
	return committed, nil
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
	through, err := w.prepareTx(flushEvery)
	if err != nil {
		return nil, err
	}
	clear(w.pending)

	tailWasEmpty := through == w.last // nothing left unindexed at the start
	results = make([]error, len(batch))
	last := w.last
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
			e := &r.evs[j]
			w.env = composeEnvelope(w.env[:0], e.Prev, r.bodies[j])
			s := w.insert
			s.BindNull(1)
			bindEvent(s, e, w.env)
			if err := w.exec(s); err != nil {
				return nil, fmt.Errorf("sqlite: insert event: %w", err)
			}
			e.Position = uint64(w.conn.LastInsertRowID())
			last = e.Position
		}
		e := &r.evs[len(r.evs)-1]
		w.pending[r.stream] = head{e.Version, e.Hash}
	}
	if err := w.exec(w.commit); err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	w.afterCommit(through, tailWasEmpty)
	w.last = last
	for stream, h := range w.pending {
		w.heads[stream] = h
	}
	for i, r := range batch {
		if results[i] != nil {
			continue // a conflict wrote nothing
		}
		for j := range r.evs {
			w.tail.add(&r.evs[j])
		}
	}
	return results, nil
}

// prepareTx runs at the start of each write transaction. It checks
// whether another connection has written since this writer's last
// transaction (PRAGMA data_version), and indexes the tail of the log when
// the head cache cannot be trusted or the tail has reached limit events.
// It returns the watermark as it will be once the transaction commits.
func (w *writer) prepareTx(limit uint64) (through uint64, err error) {
	dv, err := w.readDataVersion()
	if err != nil {
		return 0, err
	}
	force := false
	if dv != w.dataVersion {
		clear(w.heads)
		w.dataVersion = dv
		if w.through, err = w.uint(w.readWatermark); err != nil {
			return 0, fmt.Errorf("sqlite: read index watermark: %w", err)
		}
		if w.last, err = w.uint(w.logEnd); err != nil {
			return 0, fmt.Errorf("sqlite: read end of log: %w", err)
		}
		force = true // the tail may hold heads the cache never saw
		w.tailKnown = false
	}
	if len(w.heads) > maxCachedHeads {
		clear(w.heads)
		force = true
	}
	if w.last == w.through || (!force && w.last-w.through < limit) {
		return w.through, nil
	}
	if !w.tailKnown {
		clear(w.tail)
		if err := w.tail.read(w.readTail, w.through, w.last); err != nil {
			return 0, fmt.Errorf("sqlite: read positions %d to %d: %w", w.through+1, w.last, err)
		}
	}
	if err := w.tail.write(w.insertRun, w.upsertHead); err != nil {
		return 0, fmt.Errorf("sqlite: index positions %d to %d: %w", w.through+1, w.last, err)
	}
	w.setWatermark.BindInt64(1, int64(w.last))
	if err := w.exec(w.setWatermark); err != nil {
		return 0, fmt.Errorf("sqlite: set index watermark: %w", err)
	}
	return w.last, nil
}

// flushAlone indexes the whole tail in a transaction of its own, when the
// writer is idle or closing. A failure is left for the next transaction,
// which sees the same tail; it is returned for the store's health.
func (w *writer) flushAlone() error {
	if w.last == w.through && w.dataVersion >= 0 {
		return nil
	}
	if err := w.exec(w.begin); err != nil {
		return fmt.Errorf("sqlite: index the tail: begin: %w", err)
	}
	through, err := w.prepareTx(1)
	if err == nil {
		err = w.exec(w.commit)
	}
	if err != nil {
		if !w.conn.AutocommitEnabled() {
			w.exec(w.rollback)
		}
		clear(w.heads)
		w.dataVersion = -1
		return fmt.Errorf("sqlite: index the tail: %w", err)
	}
	w.afterCommit(through, true)
	return nil
}

// afterCommit records the watermark a committed transaction left. When
// the tail was empty at its start (nothing was unindexed, or it indexed
// everything), the tail in memory is exactly what the transaction wrote
// afterwards: nothing yet.
func (w *writer) afterCommit(through uint64, tailWasEmpty bool) {
	if tailWasEmpty {
		clear(w.tail)
		w.tailKnown = true
	}
	w.through = through
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

func (w *writer) readDataVersion() (int64, error) {
	v, err := w.uint(w.dataVer)
	if err != nil {
		return 0, fmt.Errorf("sqlite: read data version: %w", err)
	}
	return int64(v), nil
}

// uint runs a query of one integer.
func (w *writer) uint(s *sqlite.Stmt) (uint64, error) {
	defer s.Reset()
	row, err := s.Step()
	if err != nil {
		return 0, err
	}
	if !row {
		return 0, errors.New("no row")
	}
	return uint64(s.ColumnInt64(0)), nil
}

// exec steps a statement that returns no rows and resets it.
func (w *writer) exec(s *sqlite.Stmt) error { return step(s) }

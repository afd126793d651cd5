package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/store/sqlite/sqlitefile"
	"xmppd/events"
)

// A long read of the log (a rebuild, verify, export) spends most of its
// time in SQLite stepping its virtual machine and copying columns out:
// about 0.75 µs a row, more than decoding and folding the event. So reads
// of many events take the rows straight from the events table's b-tree
// leaf pages (package sqlitefile), several goroutines at once, inside an
// SQLite read transaction that pins the snapshot; SQL is still used for
// everything else: finding the table, the snapshot's last position, and
// the rest of the log after it.
//
// Reading the file directly is an accelerator, never the authority. Rows
// must come out in strictly increasing positions ending exactly at the
// snapshot's last position, or the read goes on through SQL from the last
// event delivered: a file this package cannot read (a newer SQLite
// format, a layout it does not know, damage) is read the slow way, not
// refused.

// rawMinEvents is the smallest read worth a direct read: below it the
// transaction, the WAL copy and the tree walk cost more than they save.
const rawMinEvents = 4 * pageSize

// rawLeavesPerJob is how many leaf pages one job of a direct read takes
// at most; with the log's rows (about 600 bytes) in 4 KiB pages a job is
// about a page of envelopes.
const rawLeavesPerJob = 160

// errRawLayout says the events table is not laid out as schema 2 writes it.
var errRawLayout = errors.New("events table row not in the schema 2 layout")

// rawJob is one run of consecutive leaf pages and, once done, its events.
type rawJob struct {
	leaves []uint32
	res    chan pageResult
}

// readRaw reads the log from position from to the head of a snapshot
// straight from the file, handing each page in order to send. It returns
// the position after the last event handed over; stopped when send
// refused a page; and, when it did not reach the snapshot's head, why
// (every page handed over holds consecutive events from from, so the
// caller may go on from next another way).
func (s *Store) readRaw(ctx context.Context, from uint64, opts events.ReadOptions, chunks bool, send func(pageResult) bool) (next uint64, stopped bool, err error) {
	next = from
	conn, err := s.readers.Take(ctx)
	if err != nil {
		return next, false, err
	}
	defer s.readers.Put(conn)
	// The transaction holds the WAL read lock that keeps the file's
	// snapshot still while sqlitefile reads it (see its doc). Rows past
	// the transaction's head may be visible in the file; they are left
	// to the SQL read that follows.
	release := sqlitex.Transaction(conn)
	defer func() {
		var rerr error
		release(&rerr)
	}()
	root, head, path, err := readSnapshotInfo(conn)
	if err != nil || head < from {
		return next, false, err
	}
	if root == 0 || path == "" {
		return next, false, errors.New("no events table in a database file")
	}
	f, err := sqlitefile.Open(path)
	if err != nil {
		return next, false, err
	}
	defer f.Close()
	leaves, err := f.TableLeaves(root, int64(from))
	if err != nil {
		return next, false, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *rawJob)
	ordered := make(chan *rawJob, 2*fetchers)
	var workers sync.WaitGroup
	for range fetchers {
		workers.Go(func() {
			r := rawReader{f: f, sc: newPageScanner(opts, chunks), from: from, head: head}
			for j := range jobs {
				r.sc.startPage()
				evs, err := r.read(j.leaves)
				j.res <- readPage(r.sc, opts, evs, err)
			}
		})
	}
	go func() {
		// To a worker first, then in order to the consumer: every job the
		// consumer receives is completed.
		defer close(ordered)
		defer close(jobs)
		for len(leaves) > 0 {
			n := min(len(leaves), rawLeavesPerJob)
			j := &rawJob{leaves: leaves[:n], res: make(chan pageResult, 1)}
			leaves = leaves[n:]
			for _, ch := range []chan *rawJob{jobs, ordered} {
				select {
				case ch <- j:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	defer func() {
		cancel()
		for j := range ordered {
			if r := <-j.res; r.err == nil {
				r.release()
			}
		}
		workers.Wait()
	}()

	for j := range ordered {
		r := <-j.res
		if r.err != nil {
			return next, false, r.err
		}
		if len(r.evs) == 0 {
			continue
		}
		if r.evs[0].Position < next {
			r.release()
			return next, false, fmt.Errorf("%w: position %d after %d", sqlitefile.ErrCorrupt, r.evs[0].Position, next-1)
		}
		next = r.evs[len(r.evs)-1].Position + 1
		if !send(r) {
			return next, true, nil
		}
	}
	if next != head+1 {
		return next, false, fmt.Errorf("the table's leaves end at position %d, the snapshot at %d", next-1, head)
	}
	return next, false, nil
}

// readSnapshotInfo is run inside the read transaction: the events table's
// root page, the snapshot's last position, and the database file's name.
func readSnapshotInfo(conn *sqlite.Conn) (root uint32, head uint64, path string, err error) {
	err = sqlitex.ExecuteTransient(conn, `SELECT (SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'events'),
		(SELECT coalesce(max(position), 0) FROM events), (SELECT file FROM pragma_database_list WHERE name = 'main')`, &sqlitex.ExecOptions{
		ResultFunc: func(stmt *sqlite.Stmt) error {
			root, head, path = uint32(stmt.ColumnInt64(0)), uint64(stmt.ColumnInt64(1)), stmt.ColumnText(2)
			return nil
		},
	})
	return root, head, path, err
}

// rawReader turns leaf pages into envelopes; one per goroutine.
type rawReader struct {
	f          *sqlitefile.File
	sc         *scanner
	from, head uint64
	scratch    []byte
	vals       []sqlitefile.Value
	// heads says the last leaf's rows were mostly bare (scanner.bare),
	// so the next leaf's are likely to be too: the archive writer
	// appends a stream's messages in runs. Only the heads of its rows
	// are then loaded ahead (sqlitefile.File.ScanLeafHeads).
	heads bool
}

// read returns the events of leaves with positions in [from, head], in
// order, or the first problem: a row out of order or not laid out as
// schema 2 writes it.
func (r *rawReader) read(leaves []uint32) ([]events.Envelope, error) {
	evs := getPage()
	var err error
	prev := int64(-1 << 63)
	for _, leaf := range leaves {
		rows, bare := 0, 0
		fn := func(rowid int64, payload []byte) bool {
			switch {
			case rowid <= prev:
				err = fmt.Errorf("%w: page %d: rowid %d after %d", sqlitefile.ErrCorrupt, leaf, rowid, prev)
				return false
			case uint64(rowid) > r.head:
				return false
			}
			prev = rowid
			if rowid < int64(r.from) {
				return true
			}
			evs = slices.Grow(evs, 1)
			evs = evs[:len(evs)+1]
			isBare, rerr := r.row(&evs[len(evs)-1], rowid, payload)
			if err = rerr; err != nil {
				evs = evs[:len(evs)-1]
				return false
			}
			rows++
			if isBare {
				bare++
			}
			return true
		}
		var ferr error
		if r.heads {
			r.scratch, ferr = r.f.ScanLeafHeads(leaf, r.scratch, fn)
		} else {
			r.scratch, ferr = r.f.ScanLeaf(leaf, r.scratch, fn)
		}
		r.heads = 2*bare > rows
		if err == nil {
			err = ferr
		}
		if err != nil {
			putPage(evs)
			return nil, err
		}
		if prev >= int64(r.head) {
			break
		}
	}
	return evs, nil
}

// row decodes one row of the events table: the record holds NULL for
// position (the rowid), then stream, version, type, recorded, hash and
// envelope (schema.go; the envelope is text, or a blob in logs written
// before 2026-11-24). It reports whether the event is bare (scanner.bare):
// the header columns only, its envelope column neither parsed nor copied.
// Its stream and type are interned, not copied, so that a run of bare
// events allocates nothing.
func (r *rawReader) row(e *events.Envelope, rowid int64, payload []byte) (bare bool, err error) {
	v, err := sqlitefile.DecodeRecord(payload, r.vals[:0])
	r.vals = v
	if err != nil {
		return false, err
	}
	if len(v) != 7 || !(v[0].Kind == sqlitefile.Null || v[0].Kind == sqlitefile.Int && v[0].Int == rowid) ||
		v[1].Kind != sqlitefile.Text || v[2].Kind != sqlitefile.Int || v[3].Kind != sqlitefile.Text ||
		v[4].Kind != sqlitefile.Int || v[5].Kind != sqlitefile.Text || v[6].Kind != sqlitefile.Blob && v[6].Kind != sqlitefile.Text {
		return false, fmt.Errorf("%w: position %d", errRawLayout, rowid)
	}
	sc := r.sc
	stream, typ := sc.internBytes(v[1].Bytes), sc.internBytes(v[3].Bytes)
	if sc.isBare(stream, typ) {
		// The envelope's bytes are left where they are, unread.
		sc.header(e, rowid, stream, v[2].Int, typ, v[4].Int)
		return true, nil
	}
	var hash []byte
	if !sc.forFolding {
		hash = v[5].Bytes
	}
	return false, sc.envelopeV2(e, rowid, stream, v[2].Int, typ, v[4].Int, hash, v[6].Bytes)
}

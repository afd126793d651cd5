package sqlite

import (
	"fmt"
	"strconv"

	"zombiezen.com/go/sqlite"

	"xmppd/events"
)

// insertRun adds one row of stream_index: the positions of a stream's
// versions first..last, as a JSON array, written by one flush.
const insertRun = `INSERT INTO stream_index (stream, first_version, last_version, positions)
	VALUES (?1, ?2, ?3, ?4)`

// run is one stream's events in the unindexed tail of the log.
type run struct {
	first     uint64   // version of the first
	positions []uint64 // position of each version from first on
	head      head     // the last one
}

// runs are the tail's runs by stream. A flush writes one stream_index row
// per run (not one per event, which measured 2.7 µs an event in the
// writer's critical path) and one streams row per stream.
type runs map[string]*run

func (rs runs) add(e *events.Envelope) {
	r := rs[e.Stream]
	if r == nil {
		r = &run{first: e.Version}
		rs[e.Stream] = r
	}
	r.positions = append(r.positions, e.Position)
	r.head = head{e.Version, e.Hash}
}

// read fills rs with the events at positions (from, to] of the log, for a
// tail this writer did not write itself.
func (rs runs) read(stmt *sqlite.Stmt, from, to uint64) error {
	defer stmt.Reset()
	stmt.BindInt64(1, int64(from))
	stmt.BindInt64(2, int64(to))
	for {
		row, err := stmt.Step()
		if err != nil {
			return err
		}
		if !row {
			return nil
		}
		e := events.Envelope{Stream: stmt.ColumnText(0), Version: uint64(stmt.ColumnInt64(1)),
			Position: uint64(stmt.ColumnInt64(2)), Hash: stmt.ColumnText(3)}
		if r := rs[e.Stream]; r != nil && e.Version != r.head.version+1 {
			return fmt.Errorf("stream %s jumps from version %d to %d at position %d", e.Stream, r.head.version, e.Version, e.Position)
		}
		rs.add(&e)
	}
}

// write inserts one stream_index row per run and moves each stream's head
// in the streams table.
func (rs runs) write(insert, upsertHead *sqlite.Stmt) error {
	var buf []byte
	for stream, r := range rs {
		buf = append(buf[:0], '[')
		for i, p := range r.positions {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendUint(buf, p, 10)
		}
		buf = append(buf, ']')
		insert.BindText(1, stream)
		insert.BindInt64(2, int64(r.first))
		insert.BindInt64(3, int64(r.head.version))
		insert.BindText(4, textOf(buf))
		if err := step(insert); err != nil {
			return fmt.Errorf("stream %s versions %d to %d: %w", stream, r.first, r.head.version, err)
		}
		upsertHead.BindText(1, stream)
		upsertHead.BindInt64(2, int64(r.head.version))
		upsertHead.BindText(3, r.head.hash)
		if err := step(upsertHead); err != nil {
			return fmt.Errorf("stream %s head: %w", stream, err)
		}
	}
	return nil
}

// step runs a statement that returns no rows and resets it.
func step(s *sqlite.Stmt) error {
	_, err := s.Step()
	if rerr := s.Reset(); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

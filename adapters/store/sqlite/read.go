package sqlite

import (
	"context"
	"iter"
	"time"

	"zombiezen.com/go/sqlite"

	"xmppd/events"
)

// pageSize is how many rows one read query fetches. A query holds a pooled
// connection (and a WAL snapshot) only while it fetches one page.
const pageSize = 1024

const selectEvents = `SELECT position, id, stream, version, type, schema, recorded, actor, session, addr,
	stanza_id, causation, correlation, node, prev, hash, data FROM events `

const (
	queryAll    = selectEvents + `WHERE position >= ?1 ORDER BY position LIMIT ?2`
	queryRange  = selectEvents + `WHERE position >= ?1 AND position < ?1 + ?2 ORDER BY position`
	queryStream = selectEvents + `WHERE stream = ?3 AND version >= ?1 ORDER BY version LIMIT ?2`
)

// scanner turns rows of a selectEvents query into envelopes with few
// allocations: the columns that repeat from event to event (stream, type,
// provenance) are interned, the three unique strings of a row share one
// allocation, and the Data of a page share one slab. A scanner belongs to
// one goroutine.
type scanner struct {
	buf    []byte
	intern map[string]string
	slab   []byte
}

// maxInterned bounds the intern table; past it the table starts afresh.
const maxInterned = 4096

func newScanner() *scanner { return &scanner{intern: make(map[string]string)} }

// column copies column col into the scratch buffer and returns it; the
// bytes are valid until the next call.
func (sc *scanner) column(s *sqlite.Stmt, col int) []byte {
	n := s.ColumnLen(col)
	if cap(sc.buf) < n {
		sc.buf = make([]byte, n, 2*n)
	}
	b := sc.buf[:n]
	s.ColumnBytes(col, b)
	return b
}

func (sc *scanner) interned(s *sqlite.Stmt, col int) string {
	b := sc.column(s, col)
	if v, ok := sc.intern[string(b)]; ok { // no allocation for the lookup
		return v
	}
	if len(sc.intern) >= maxInterned {
		clear(sc.intern)
	}
	v := string(b)
	sc.intern[v] = v
	return v
}

// data copies the Data column into the page's slab. The result's capacity
// is its length, so an append by the caller cannot touch its neighbour.
func (sc *scanner) data(s *sqlite.Stmt, col int) []byte {
	n := s.ColumnLen(col)
	if len(sc.slab)+n > cap(sc.slab) {
		sc.slab = make([]byte, 0, max(64<<10, n))
	}
	start := len(sc.slab)
	sc.slab = sc.slab[:start+n]
	s.ColumnBytes(col, sc.slab[start:])
	return sc.slab[start : start+n : start+n]
}

// scan reads the current row of a selectEvents query.
func (sc *scanner) scan(s *sqlite.Stmt) events.Envelope {
	// ID, Prev and Hash are unique per event: one string holds all three.
	idLen, prevLen, hashLen := s.ColumnLen(1), s.ColumnLen(14), s.ColumnLen(15)
	uniq := make([]byte, idLen+prevLen+hashLen)
	s.ColumnBytes(1, uniq[:idLen])
	s.ColumnBytes(14, uniq[idLen:idLen+prevLen])
	s.ColumnBytes(15, uniq[idLen+prevLen:])
	u := string(uniq)
	return events.Envelope{
		Position:      uint64(s.ColumnInt64(0)),
		ID:            u[:idLen],
		Stream:        sc.interned(s, 2),
		Version:       uint64(s.ColumnInt64(3)),
		Type:          sc.interned(s, 4),
		SchemaVersion: s.ColumnInt(5),
		Recorded:      time.Unix(0, s.ColumnInt64(6)).UTC(),
		Actor:         sc.interned(s, 7),
		SessionID:     sc.interned(s, 8),
		ClientAddr:    sc.interned(s, 9),
		StanzaID:      sc.interned(s, 10),
		CausationID:   sc.interned(s, 11),
		CorrelationID: sc.interned(s, 12),
		Node:          sc.interned(s, 13),
		Prev:          u[idLen : idLen+prevLen],
		Hash:          u[idLen+prevLen:],
		Data:          sc.data(s, 16),
	}
}

// page runs query for up to limit events from `from` (a position or a
// version, as the query says), appending them to buf.
func (s *Store) page(ctx context.Context, sc *scanner, query, stream string, from uint64, limit int, buf []events.Envelope) ([]events.Envelope, error) {
	if s.closed() {
		return buf, events.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return buf, err
	}
	conn, err := s.readers.Take(ctx)
	if err != nil {
		return buf, err
	}
	defer s.readers.Put(conn)
	stmt, err := conn.Prepare(query)
	if err != nil {
		return buf, err
	}
	defer stmt.Reset()
	stmt.BindInt64(1, int64(from))
	stmt.BindInt64(2, int64(limit))
	if stream != "" {
		stmt.BindText(3, stream)
	}
	for {
		row, err := stmt.Step()
		if err != nil {
			return buf, err
		}
		if !row {
			return buf, nil
		}
		buf = append(buf, sc.scan(stmt))
	}
}

// ReadStream implements events.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		next := max(from, 1)
		sc := newScanner()
		for {
			evs, err := s.page(ctx, sc, queryStream, stream, next, pageSize, nil)
			if err != nil {
				yield(events.Envelope{}, s.storeErr(ctx, "read stream", stream, int64(from), 0, err))
				return
			}
			for _, e := range evs {
				if !yield(e, nil) {
					return
				}
				next = e.Version + 1
			}
			if len(evs) < pageSize {
				return
			}
		}
	}
}

// ReadAll implements events.Store. Pages are fetched by other goroutines
// ahead of the consumer (see prefetch), so reading SQLite and consuming
// (decoding, folding) run on different cores.
func (s *Store) ReadAll(ctx context.Context, from uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		for evs, err := range s.prefetch(ctx, from) {
			if err != nil {
				yield(events.Envelope{}, s.storeErr(ctx, "read all", "", -1, from, err))
				return
			}
			for _, e := range evs {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// Head implements events.HeadReader.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	pos, err := s.head(ctx)
	if err != nil {
		return 0, s.storeErr(ctx, "head", "", -1, 0, err)
	}
	return pos, nil
}

func (s *Store) head(ctx context.Context) (uint64, error) {
	if s.closed() {
		return 0, events.ErrClosed
	}
	conn, err := s.readers.Take(ctx)
	if err != nil {
		return 0, err
	}
	defer s.readers.Put(conn)
	stmt, err := conn.Prepare("SELECT coalesce(max(position), 0) FROM events")
	if err != nil {
		return 0, err
	}
	defer stmt.Reset()
	if _, err := stmt.Step(); err != nil {
		return 0, err
	}
	return uint64(stmt.ColumnInt64(0)), nil
}

// StreamHeads implements events.StreamHeadLister: the streams table, in
// stream name order, a page at a time.
func (s *Store) StreamHeads(ctx context.Context) iter.Seq2[events.StreamHead, error] {
	return func(yield func(events.StreamHead, error) bool) {
		after := "" // every stream name is non-empty (Append refuses "")
		for {
			heads, err := s.headPage(ctx, after)
			if err != nil {
				yield(events.StreamHead{}, s.storeErr(ctx, "stream heads", "", -1, 0, err))
				return
			}
			for _, h := range heads {
				if !yield(h, nil) {
					return
				}
				after = h.Stream
			}
			if len(heads) < pageSize {
				return
			}
		}
	}
}

func (s *Store) headPage(ctx context.Context, after string) ([]events.StreamHead, error) {
	if s.closed() {
		return nil, events.ErrClosed
	}
	conn, err := s.readers.Take(ctx)
	if err != nil {
		return nil, err
	}
	defer s.readers.Put(conn)
	stmt, err := conn.Prepare("SELECT stream, version, hash FROM streams WHERE stream > ?1 ORDER BY stream LIMIT ?2")
	if err != nil {
		return nil, err
	}
	defer stmt.Reset()
	stmt.BindText(1, after)
	stmt.BindInt64(2, pageSize)
	var out []events.StreamHead
	for {
		row, err := stmt.Step()
		if err != nil {
			return nil, err
		}
		if !row {
			return out, nil
		}
		out = append(out, events.StreamHead{Stream: stmt.ColumnText(0), Version: uint64(stmt.ColumnInt64(1)), Hash: stmt.ColumnText(2)})
	}
}

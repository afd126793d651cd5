package sqlite

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/events"
)

// pageSize is how many rows one read query fetches. A query holds a pooled
// connection (and a WAL snapshot) only while it fetches one page.
const pageSize = 1024

// layout is how one schema version of the file lays events out: the
// queries that read them and the function that turns a row into an
// envelope. Schema 1 files (written before the stream index was deferred)
// are still read, read-only, so that an old copy of a log can be audited
// as it is; opening one writable migrates it (schema.go).
type layout struct {
	all string // ?1 = first position, ?2 = limit
	rng string // ?1 = first position, ?2 = width of the range
	// stream reads a stream's page by its own index (?3 = stream, ?1 =
	// first version, ?2 = limit); empty when the layout's stream index is
	// written in bulk (schema 2), which streamPage reads with the tail.
	stream string
	scan   func(*scanner, *sqlite.Stmt) (events.Envelope, error)
}

const selectV2 = `SELECT position, stream, version, type, recorded, hash, envelope FROM events `

var layoutV2 = layout{
	all:  selectV2 + `WHERE position >= ?1 ORDER BY position LIMIT ?2`,
	rng:  selectV2 + `WHERE position >= ?1 AND position < ?1 + ?2 ORDER BY position`,
	scan: (*scanner).scanV2,
}

// The stream queries of schema 2 (see readStreamPage): the indexed part
// of a stream through stream_index, then the part past the index's
// watermark by scanning the unindexed tail of the log.
const (
	// Versions are consecutive, so a page is the versions [?1, ?1+?2):
	// bounding both the runs and their elements keeps the sort to one page.
	queryIndexed = `SELECT e.position, e.stream, e.version, e.type, e.recorded, e.hash, e.envelope
		FROM stream_index i, json_each(i.positions) j, events e
		WHERE i.stream = ?3 AND i.first_version < ?1 + ?2 AND i.last_version >= ?1
		  AND i.first_version + j.key >= ?1 AND i.first_version + j.key < ?1 + ?2
		  AND e.position = j.value
		ORDER BY e.version LIMIT ?2`
	queryTail      = selectV2 + `WHERE position > ?4 AND stream = ?3 AND version >= ?1 ORDER BY position LIMIT ?2`
	queryWatermark = `SELECT through FROM indexed`
)

const selectV1 = `SELECT position, id, stream, version, type, schema, recorded, actor, session, addr,
	stanza_id, causation, correlation, node, prev, hash, data FROM events `

var layoutV1 = layout{
	all:    selectV1 + `WHERE position >= ?1 ORDER BY position LIMIT ?2`,
	rng:    selectV1 + `WHERE position >= ?1 AND position < ?1 + ?2 ORDER BY position`,
	stream: selectV1 + `WHERE stream = ?3 AND version >= ?1 ORDER BY version LIMIT ?2`,
	scan:   (*scanner).scanV1,
}

// scanner turns rows into envelopes with few allocations: the columns
// that repeat from event to event (stream, type, provenance) are interned,
// and the envelope objects of a page share one slab. A scanner belongs to
// one goroutine.
type scanner struct {
	buf    []byte
	obj    []byte // the envelope column of schema 2, beside buf
	intern map[string]string
	slab   []byte
	// forFolding leaves out what folding never reads (see
	// events.ReadOptions): ID, Prev, Hash and most of the provenance.
	forFolding bool
	// bare is events.ReadOptions.Bare: the events it picks are delivered
	// without their envelope, which is then not read at all.
	bare func(stream, typ string) bool
	// chunks says each page's data goes to a chunk of its own, given
	// back with the page (events.PageReader.ReleasePage); chunk is the
	// current page's.
	chunks bool
	chunk  *slabChunk
}

// slabChunk is memory that one page's data is copied into, reused once
// the page's consumer releases it: a rebuild reads hundreds of megabytes
// of data, dead as soon as each page is folded, and allocating it anew
// would make the garbage collector run that much more often.
type slabChunk struct{ b []byte }

const slabChunkSize = 512 << 10 // a page of events' data, with room to spare

var slabChunks = sync.Pool{New: func() any { return &slabChunk{b: make([]byte, 0, slabChunkSize)} }}

func putSlabChunk(c *slabChunk) {
	c.b = c.b[:0]
	slabChunks.Put(c)
}

// startPage gives the scanner a chunk for the next page's data when it
// hands pages to a consumer that releases them.
func (sc *scanner) startPage() {
	if sc.chunks {
		sc.chunk = slabChunks.Get().(*slabChunk)
	}
}

// endPage takes back the page's chunk, to travel with the page.
func (sc *scanner) endPage() *slabChunk {
	c := sc.chunk
	sc.chunk = nil
	return c
}

// maxInterned bounds the intern table; past it the table starts afresh.
// It holds the stream names of some ten thousand accounts (three streams
// each) besides the types and sessions: a smaller table was cleared over
// and over in a long read of a large log, and every name copied again.
const maxInterned = 1 << 15

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
	return sc.internBytes(sc.column(s, col))
}

func (sc *scanner) internBytes(b []byte) string {
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

// slabbed copies column col into the page's slab. The result's capacity
// is its length, so an append by the caller cannot touch its neighbour;
// nothing writes those bytes again.
func (sc *scanner) slabbed(s *sqlite.Stmt, col int) []byte {
	b := sc.slabAlloc(s.ColumnLen(col))
	s.ColumnBytes(col, b)
	return b
}

// slabCopy is slabbed for bytes read some other way.
func (sc *scanner) slabCopy(src []byte) []byte {
	b := sc.slabAlloc(len(src))
	copy(b, src)
	return b
}

// slabAlloc returns n bytes of the slab, of capacity n: of the page's own
// chunk while it has room, when the page has one.
func (sc *scanner) slabAlloc(n int) []byte {
	if c := sc.chunk; c != nil && len(c.b)+n <= cap(c.b) {
		start := len(c.b)
		c.b = c.b[:start+n]
		return c.b[start : start+n : start+n]
	}
	if len(sc.slab)+n > cap(sc.slab) {
		sc.slab = make([]byte, 0, max(64<<10, n))
	}
	start := len(sc.slab)
	sc.slab = sc.slab[:start+n]
	return sc.slab[start : start+n : start+n]
}

// scanV2 reads the current row of a schema 2 query (selectV2's columns).
// The envelope column of a bare event (scanner.bare) is not asked for:
// SQLite then neither converts nor copies it.
func (sc *scanner) scanV2(s *sqlite.Stmt) (events.Envelope, error) {
	stream, typ := sc.interned(s, 1), sc.interned(s, 3)
	if sc.isBare(stream, typ) {
		var e events.Envelope
		sc.header(&e, s.ColumnInt64(0), stream, s.ColumnInt64(2), typ, s.ColumnInt64(4))
		return e, nil
	}
	var hash []byte
	if !sc.forFolding {
		hash = sc.column(s, 5)
	}
	n := s.ColumnLen(6)
	if cap(sc.obj) < n {
		sc.obj = make([]byte, n, 2*n)
	}
	obj := sc.obj[:n]
	s.ColumnBytes(6, obj)
	var e events.Envelope
	err := sc.envelopeV2(&e, s.ColumnInt64(0), stream, s.ColumnInt64(2), typ, s.ColumnInt64(4), hash, obj)
	return e, err
}

// envelopeV2 makes e the envelope of a schema 2 row from its columns,
// writing every field of e (a long read fills its page in place, without
// copying the 272-byte envelope again). The envelope column obj and the
// hash are copied (parseEnvelope).
func (sc *scanner) envelopeV2(e *events.Envelope, position int64, stream string, version int64, typ string, recorded int64, hash, obj []byte) error {
	sc.header(e, position, stream, version, typ, recorded)
	if err := sc.parseEnvelope(obj, hash, e); err != nil {
		return fmt.Errorf("position %d (%s version %d): %w", e.Position, e.Stream, e.Version, err)
	}
	return nil
}

// header makes e an envelope of the columns every schema 2 row has
// besides its envelope object: all a bare event holds (isBare).
func (sc *scanner) header(e *events.Envelope, position int64, stream string, version int64, typ string, recorded int64) {
	*e = events.Envelope{
		Position: uint64(position),
		Stream:   stream,
		Version:  uint64(version),
		Type:     typ,
		Recorded: time.Unix(0, recorded).UTC(),
	}
}

// isBare reports whether the reader asked for the event of stream and typ
// without its envelope (events.ReadOptions.Bare).
func (sc *scanner) isBare(stream, typ string) bool {
	return sc.bare != nil && sc.bare(stream, typ)
}

// scanV1 reads the current row of a schema 1 query (selectV1's columns).
func (sc *scanner) scanV1(s *sqlite.Stmt) (events.Envelope, error) {
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
		Data:          sc.slabbed(s, 16),
	}, nil
}

// withReader runs f on a pooled read connection.
func (s *Store) withReader(ctx context.Context, f func(*sqlite.Conn) error) error {
	if s.closed() {
		return events.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := s.readers.Take(ctx)
	if err != nil {
		return err
	}
	defer s.readers.Put(conn)
	return f(conn)
}

// page runs query (a position query of the layout) for up to limit events
// from position from, appending them to buf.
func (s *Store) page(ctx context.Context, sc *scanner, query string, from uint64, limit int, buf []events.Envelope) ([]events.Envelope, error) {
	err := s.withReader(ctx, func(conn *sqlite.Conn) error {
		var err error
		buf, err = s.rows(conn, sc, query, "", from, limit, -1, buf)
		return err
	})
	return buf, err
}

// rows runs query with its parameters (?1 from, ?2 limit, ?3 stream when
// not empty, ?4 watermark when not negative) and appends the envelopes.
func (s *Store) rows(conn *sqlite.Conn, sc *scanner, query, stream string, from uint64, limit int, watermark int64, buf []events.Envelope) ([]events.Envelope, error) {
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
	if watermark >= 0 {
		stmt.BindInt64(4, watermark)
	}
	for {
		row, err := stmt.Step()
		if err != nil {
			return buf, err
		}
		if !row {
			return buf, nil
		}
		e, err := s.layout.scan(sc, stmt)
		if err != nil {
			return buf, err
		}
		buf = append(buf, e)
	}
}

// streamPage reads up to limit events of stream from version from.
//
// In schema 2 a stream's events are found through stream_index up to the
// index's watermark (indexed.through) and, past it, by scanning the short
// unindexed tail of the log (the writer indexes it every few thousand
// events and whenever it is idle; see writer.go). Both queries run in one
// read transaction, so they see the same watermark and no event falls
// between them.
func (s *Store) streamPage(ctx context.Context, sc *scanner, stream string, from uint64, limit int) ([]events.Envelope, error) {
	var buf []events.Envelope
	err := s.withReader(ctx, func(conn *sqlite.Conn) (err error) {
		if s.layout.stream != "" {
			buf, err = s.rows(conn, sc, s.layout.stream, stream, from, limit, -1, buf)
			return err
		}
		defer sqlitex.Transaction(conn)(&err)
		through, err := watermark(conn)
		if err != nil {
			return err
		}
		if buf, err = s.rows(conn, sc, queryIndexed, stream, from, limit, -1, buf); err != nil || len(buf) == limit {
			return err
		}
		if len(buf) > 0 {
			from = buf[len(buf)-1].Version + 1
		}
		buf, err = s.rows(conn, sc, queryTail, stream, from, limit-len(buf), int64(through), buf)
		return err
	})
	return buf, err
}

// watermark returns the position through which stream_index and streams
// include the log.
func watermark(conn *sqlite.Conn) (uint64, error) {
	stmt, err := conn.Prepare(queryWatermark)
	if err != nil {
		return 0, err
	}
	defer stmt.Reset()
	row, err := stmt.Step()
	if err != nil {
		return 0, err
	}
	if !row {
		return 0, errors.New("indexed table is empty")
	}
	return uint64(stmt.ColumnInt64(0)), nil
}

// ReadStream implements events.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		next := max(from, 1)
		sc := newScanner()
		for {
			evs, err := s.streamPage(ctx, sc, stream, next, pageSize)
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
		for p := range s.prefetch(ctx, from, events.ReadOptions{}, false) {
			if p.err != nil {
				yield(events.Envelope{}, s.storeErr(ctx, "read all", "", -1, from, p.err))
				return
			}
			for _, e := range p.evs {
				if !yield(e, nil) {
					return
				}
			}
			putPage(p.evs)
		}
	}
}

// ReadPages implements events.PageReader with the pages ReadAll reads.
func (s *Store) ReadPages(ctx context.Context, from uint64, opts events.ReadOptions) iter.Seq2[events.Page, error] {
	return func(yield func(events.Page, error) bool) {
		for p := range s.prefetch(ctx, from, opts, true) {
			if p.err != nil {
				yield(events.Page{}, s.storeErr(ctx, "read all", "", -1, from, p.err))
				return
			}
			if !yield(events.Page{Events: p.evs, Prepared: p.prep, Memory: p.mem}, nil) {
				return
			}
		}
	}
}

// ReleasePage implements events.PageReader: the page's envelopes and the
// slab chunk holding its data are reused by later pages.
func (s *Store) ReleasePage(page events.Page) {
	putPage(page.Events)
	if c, ok := page.Memory.(*slabChunk); ok {
		putSlabChunk(c)
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

// StreamHeads implements events.StreamHeadLister: every stream's head in
// stream name order, a page at a time. In schema 2 the streams table holds
// the heads through the index watermark; the heads of streams written
// since are read from the unindexed tail first and merged in (a stream in
// both gets the higher version: a flush between two pages only moves a
// head from the tail into the table).
func (s *Store) StreamHeads(ctx context.Context) iter.Seq2[events.StreamHead, error] {
	return func(yield func(events.StreamHead, error) bool) {
		fail := func(err error) { yield(events.StreamHead{}, s.storeErr(ctx, "stream heads", "", -1, 0, err)) }
		var tail []events.StreamHead
		if s.layout.stream == "" {
			var err error
			if tail, err = s.headRows(ctx, queryTailHeads, "", -1); err != nil {
				fail(err)
				return
			}
		}
		after := "" // every stream name is non-empty (Append refuses "")
		for {
			heads, err := s.headRows(ctx, queryHeads, after, pageSize)
			if err != nil {
				fail(err)
				return
			}
			for _, h := range heads {
				for len(tail) > 0 && tail[0].Stream <= h.Stream {
					t := tail[0]
					tail = tail[1:]
					if t.Stream == h.Stream {
						if t.Version > h.Version {
							h = t
						}
						continue
					}
					if !yield(t, nil) {
						return
					}
				}
				if !yield(h, nil) {
					return
				}
				after = h.Stream
			}
			if len(heads) < pageSize {
				break
			}
		}
		for _, t := range tail {
			if !yield(t, nil) {
				return
			}
		}
	}
}

// queryTailHeads finds the last event of every stream written since the
// index watermark (the bare hash column takes its value from the row of
// max(version), as SQLite documents for min and max).
const queryTailHeads = `SELECT stream, max(version), hash FROM events
	WHERE position > (SELECT through FROM indexed) AND stream > ?1 GROUP BY stream ORDER BY stream LIMIT ?2`

// queryHeads pages through the streams table (the same in both schemas).
const queryHeads = `SELECT stream, version, hash FROM streams WHERE stream > ?1 ORDER BY stream LIMIT ?2`

// headRows runs a heads query for up to limit heads (-1: all) after the
// stream name after.
func (s *Store) headRows(ctx context.Context, query, after string, limit int) (out []events.StreamHead, err error) {
	err = s.withReader(ctx, func(conn *sqlite.Conn) error {
		stmt, err := conn.Prepare(query)
		if err != nil {
			return err
		}
		defer stmt.Reset()
		stmt.BindText(1, after)
		stmt.BindInt64(2, int64(limit))
		for {
			row, err := stmt.Step()
			if err != nil {
				return err
			}
			if !row {
				return nil
			}
			out = append(out, events.StreamHead{Stream: stmt.ColumnText(0), Version: uint64(stmt.ColumnInt64(1)), Hash: stmt.ColumnText(2)})
		}
	})
	return out, err
}

// ReadStreamRange returns up to limit events of stream from version from,
// in one read: the message archive reads a page of results back this way
// (im's streamRangeReader).
func (s *Store) ReadStreamRange(ctx context.Context, stream string, from uint64, limit int) ([]events.Envelope, error) {
	if limit <= 0 {
		return nil, nil
	}
	evs, err := s.streamPage(ctx, newScanner(), stream, max(from, 1), limit)
	if err != nil {
		return nil, s.storeErr(ctx, "read stream", stream, int64(from), 0, err)
	}
	return evs, nil
}

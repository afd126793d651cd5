package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/events"
)

// What CheckHeads found wrong with one stream's head.
const (
	// HeadTailRemoved: the event the streams table names as the stream's
	// last is not in the log (the tail was cut off, or the head moved on
	// past the log).
	HeadTailRemoved = "tail_removed"
	// HeadEventEdited: the last event is there but its content does not
	// match its hash.
	HeadEventEdited = "last_event_edited"
	// HeadRowEdited: the last event is intact but the streams row does
	// not match it (version or hash).
	HeadRowEdited = "head_row_edited"
)

// HeadProblem is one stream whose recorded head does not match its log.
type HeadProblem struct {
	Stream string
	Kind   string // HeadTailRemoved, HeadEventEdited or HeadRowEdited
	// RecordedVersion and RecordedHash are the streams table's head.
	RecordedVersion uint64
	RecordedHash    string
	// FoundVersion and FoundHash are the stream's last event actually in
	// the log (its stored hash; 0 and the genesis hash when none is left).
	FoundVersion uint64
	FoundHash    string
}

// Detail says what was found, for a person.
func (p HeadProblem) Detail() string {
	switch p.Kind {
	case HeadTailRemoved:
		return fmt.Sprintf("the store recorded version %d as the last, but the log ends at version %d (tail removed)", p.RecordedVersion, p.FoundVersion)
	case HeadEventEdited:
		return fmt.Sprintf("the last event (version %d) does not match its hash (edited)", p.RecordedVersion)
	default:
		return fmt.Sprintf("the store recorded version %d hash %.12s…, but the last event is version %d hash %.12s… (head edited)", p.RecordedVersion, p.RecordedHash, p.FoundVersion, p.FoundHash)
	}
}

// queryHeadEvents pairs each stream's recorded head with the event the
// stream index places at that version: one query, a lookup per stream
// (the index run holding the version is found by its primary key), no
// scan of the log.
const queryHeadEvents = `SELECT e.position, e.stream, e.version, e.type, e.recorded, e.hash, e.envelope,
		s.stream, s.version, s.hash
	FROM streams s
	LEFT JOIN stream_index i ON i.stream = s.stream AND i.last_version >= s.version
		AND i.first_version = (SELECT max(first_version) FROM stream_index
			WHERE stream = s.stream AND first_version <= s.version)
	LEFT JOIN events e ON e.position = json_extract(i.positions, '$[' || (s.version - i.first_version) || ']')
		AND e.stream = s.stream`

// CheckHeads compares every stream's head recorded in the streams table
// with the stream's last event in the log: that the event is there, has
// the recorded version and hash, and that its content matches that hash.
// It reads one event per stream, not the log: it catches an edited last
// event, a removed tail and an edited streams row, not an edit further
// back in a chain (`xmppd verify` reads everything). Streams written
// since the index watermark are checked up to their indexed head. A log
// of schema 1 (read-only) keeps no such table; nothing is checked.
func (s *Store) CheckHeads(ctx context.Context) ([]HeadProblem, error) {
	if s.layout.stream != "" {
		return nil, nil
	}
	var out []HeadProblem
	err := s.withReader(ctx, func(conn *sqlite.Conn) error {
		stmt, err := conn.Prepare(queryHeadEvents)
		if err != nil {
			return err
		}
		defer stmt.Reset()
		sc := newScanner()
		for {
			row, err := stmt.Step()
			if err != nil {
				return err
			}
			if !row {
				break
			}
			p := HeadProblem{Stream: stmt.ColumnText(7), RecordedVersion: uint64(stmt.ColumnInt64(8)), RecordedHash: stmt.ColumnText(9)}
			if stmt.ColumnType(0) == sqlite.TypeNull {
				p.Kind = HeadTailRemoved
			} else {
				e, err := sc.scanV2(stmt)
				switch {
				case err != nil || events.CanonicalHash(&e) != e.Hash:
					p.Kind = HeadEventEdited
				case e.Version != p.RecordedVersion || e.Hash != p.RecordedHash:
					p.Kind = HeadRowEdited
				}
				sc.slab = sc.slab[:0]
			}
			if p.Kind != "" {
				out = append(out, p)
			}
		}
		for i := range out {
			h, err := realTail(conn, out[i].Stream)
			if err != nil {
				return fmt.Errorf("find the last event of %s: %w", out[i].Stream, err)
			}
			out[i].FoundVersion, out[i].FoundHash = h.version, h.hash
			if out[i].Kind == HeadTailRemoved && h.version > out[i].RecordedVersion {
				out[i].Kind = HeadRowEdited // the log goes on past the recorded head
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.storeErr(ctx, "check stream heads", "", -1, 0, err)
	}
	return out, nil
}

// realTail finds the stream's last indexed event that is in the log,
// walking the stream index back from its highest version.
func realTail(conn *sqlite.Conn, stream string) (head, error) {
	runs, err := conn.Prepare(`SELECT first_version, positions FROM stream_index WHERE stream = ?1 ORDER BY first_version DESC`)
	if err != nil {
		return head{}, err
	}
	defer runs.Reset()
	ev, err := conn.Prepare(`SELECT hash FROM events WHERE position = ?1 AND stream = ?2 AND version = ?3`)
	if err != nil {
		return head{}, err
	}
	runs.BindText(1, stream)
	for {
		row, err := runs.Step()
		if err != nil {
			return head{}, err
		}
		if !row {
			return head{0, events.GenesisHash}, nil
		}
		first := uint64(runs.ColumnInt64(0))
		pos, err := parsePositions(runs.ColumnText(1))
		if err != nil {
			return head{}, fmt.Errorf("stream index of %s from version %d: %w", stream, first, err)
		}
		for j := len(pos) - 1; j >= 0; j-- {
			ev.BindInt64(1, int64(pos[j]))
			ev.BindText(2, stream)
			ev.BindInt64(3, int64(first)+int64(j))
			found, err := ev.Step()
			h := head{first + uint64(j), ""}
			if found {
				h.hash = ev.ColumnText(0)
			}
			ev.Reset()
			if err != nil {
				return head{}, err
			}
			if found {
				return h, nil
			}
		}
	}
}

func parsePositions(s string) ([]uint64, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, errors.New("positions are not a JSON array")
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("positions: %w", err)
		}
		out[i] = v
	}
	return out, nil
}

// RebaseHeads moves the recorded head of each named stream to its last
// event actually in the log, and drops the stream index entries past it,
// in one transaction. Appends then continue each chain from that event:
// after a removed tail, the next event takes the removed one's version
// and its prev is the hash of the last event left. It returns each
// stream's head as set. The operator's decision to do so must be
// recorded (cmd/xmppd records it in server-<domain>): the chain verifies
// again afterwards, so the record is the only trace of what was removed.
func (s *Store) RebaseHeads(ctx context.Context, streams []string) (map[string]HeadProblem, error) {
	if s.cfg.ReadOnly {
		return nil, s.storeErr(ctx, "rebase stream heads", "", -1, 0, errReadOnly)
	}
	conn, err := s.openConn(false)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	out := map[string]HeadProblem{}
	err = func() (err error) {
		end, err := sqlitex.ImmediateTransaction(conn)
		if err != nil {
			return err
		}
		defer end(&err)
		for _, stream := range streams {
			h, err := realTail(conn, stream)
			if err != nil {
				return fmt.Errorf("find the last event of %s: %w", stream, err)
			}
			if err := rebaseStream(conn, stream, h); err != nil {
				return fmt.Errorf("rebase %s to version %d: %w", stream, h.version, err)
			}
			out[stream] = HeadProblem{Stream: stream, FoundVersion: h.version, FoundHash: h.hash}
		}
		return nil
	}()
	if err != nil {
		return nil, s.storeErr(ctx, "rebase stream heads", "", -1, 0, err)
	}
	return out, nil
}

// rebaseStream sets stream's head to h and trims its index to h.version.
func rebaseStream(conn *sqlite.Conn, stream string, h head) error {
	exec := func(sql string, args ...any) error {
		return sqlitex.Execute(conn, sql, &sqlitex.ExecOptions{Args: args})
	}
	if err := exec(`DELETE FROM stream_index WHERE stream = ?1 AND first_version > ?2`, stream, int64(h.version)); err != nil {
		return err
	}
	var first int64 = -1
	var positions string
	err := sqlitex.Execute(conn, `SELECT first_version, positions FROM stream_index WHERE stream = ?1 AND last_version > ?2`,
		&sqlitex.ExecOptions{Args: []any{stream, int64(h.version)}, ResultFunc: func(st *sqlite.Stmt) error {
			first, positions = st.ColumnInt64(0), st.ColumnText(1)
			return nil
		}})
	if err != nil {
		return err
	}
	if first >= 0 {
		pos, err := parsePositions(positions)
		if err != nil {
			return err
		}
		keep := pos[:int64(h.version)-first+1]
		b := []byte{'['}
		for i, p := range keep {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, p, 10)
		}
		b = append(b, ']')
		if err := exec(`UPDATE stream_index SET last_version = ?3, positions = ?4 WHERE stream = ?1 AND first_version = ?2`,
			stream, first, int64(h.version), string(b)); err != nil {
			return err
		}
	}
	if h.version == 0 {
		return exec(`DELETE FROM streams WHERE stream = ?1`, stream)
	}
	return exec(upsertHeadSQL, stream, int64(h.version), h.hash)
}

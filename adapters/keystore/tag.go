package keystore

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/events"
)

// A key file made beside a log that already holds sealed content (the
// one that sealed it was lost, or the server was pointed at another) must
// not make keys under the ids the lost file used: "alice@example.org
// 2026-12" would then name two keys, the log's old content would meet the
// new key and fail to open, and the server could not rebuild its views,
// even with the old file restored. Such a file is tagged (TagNewKeys):
// every key it makes is named "<period>~<tag>", an id no other key file
// makes. PeriodEnd reads the period before the "~", so retention is
// unchanged; content sealed under the lost file's keys reads as missing,
// and opens again with that file restored.

const tagTable = `CREATE TABLE IF NOT EXISTS tag (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	tag TEXT NOT NULL
)`

// readTag reads the file's tag, "" if it has none. Called by Open.
func readTag(conn *sqlite.Conn) (string, error) {
	var tag string
	err := sqlitex.Execute(conn, `SELECT tag FROM tag WHERE one = 1`, &sqlitex.ExecOptions{
		ResultFunc: func(st *sqlite.Stmt) error { tag = st.ColumnText(0); return nil }})
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return "", nil // a file made before tags, or by a read-only open
	}
	return tag, err
}

// TagNewKeys gives the key file a tag of its own, once: from then on the
// keys it makes are named "<period>~<tag>". The server calls it when it
// makes a key file beside a log that is not empty.
func (s *Store) TagNewKeys() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tag != "" {
		return nil
	}
	if s.readOnly || s.conn == nil {
		return fmt.Errorf("keystore: tag: opened read-only")
	}
	var b [5]byte
	rand.Read(b[:])
	tag := strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
	err := sqlitex.ExecuteTransient(s.conn, tagTable, nil)
	if err == nil {
		err = sqlitex.Execute(s.conn, `INSERT INTO tag (one, tag) VALUES (1, ?1)`, &sqlitex.ExecOptions{Args: []any{tag}})
	}
	s.wrote(err)
	if err != nil {
		return fmt.Errorf("keystore: tag: %w", err)
	}
	s.tag = tag
	clear(s.sealing) // what is sealed from now on goes under tagged keys
	return nil
}

// keyName is the id of the n-th key (from 1) that this file would make
// for month: month itself, then "<period>~2", "~3", ...; with a tag,
// "<period>~<tag>", then "~<tag>.2", ...
func (s *Store) keyName(month events.KeyID, n int) events.KeyID {
	id := month
	switch {
	case s.tag != "" && n == 1:
		id.Period = month.Period + "~" + s.tag
	case s.tag != "":
		id.Period = fmt.Sprintf("%s~%s.%d", month.Period, s.tag, n)
	case n > 1:
		id.Period = fmt.Sprintf("%s~%d", month.Period, n)
	}
	return id
}

package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// sqliteMagic is the first 16 bytes of every SQLite 3 database file.
const sqliteMagic = "SQLite format 3\x00"

// ErrNoLog is the cause of Inspect's error for a file that exists but
// holds no xmppd log: empty, not SQLite, or SQLite without xmppd's schema.
var ErrNoLog = errors.New("not an xmppd log")

// NoLogError says why a file holds no xmppd log.
type NoLogError struct {
	Path   string
	Reason string // e.g. "the file is empty (0 bytes)"
}

func (e *NoLogError) Error() string {
	return fmt.Sprintf("sqlite: %s holds no xmppd log: %s", e.Path, e.Reason)
}

func (e *NoLogError) Unwrap() error { return ErrNoLog }

// Inspect tells, without changing it, whether the file at path is an
// xmppd log. It returns an error wrapping fs.ErrNotExist when there is no
// file (a first start makes one), a *NoLogError when the file is empty
// (a 0-byte file would otherwise silently become a new, empty log: every
// account gone), is not SQLite, or is SQLite without xmppd's schema (it
// would otherwise get xmppd's tables added beside its own), and nil for a
// log of a schema version this code reads or migrates.
func Inspect(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sqlite: inspect %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlite: inspect %s: %w", path, err)
	}
	if st.IsDir() {
		return &NoLogError{path, "it is a directory"}
	}
	if st.Size() == 0 {
		return &NoLogError{path, "the file is empty (0 bytes)"}
	}
	magic := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, magic); err != nil || !bytes.Equal(magic, []byte(sqliteMagic)) {
		return &NoLogError{path, fmt.Sprintf("it is not an SQLite database (%d bytes, no SQLite header)", st.Size())}
	}
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadOnly)
	if err != nil {
		return fmt.Errorf("sqlite: inspect %s: %w", path, err)
	}
	defer conn.Close()
	v, err := userVersion(conn)
	if err != nil {
		return &NoLogError{path, fmt.Sprintf("SQLite cannot read it: %v", err)}
	}
	tables, err := tableNames(conn)
	if err != nil {
		return &NoLogError{path, fmt.Sprintf("SQLite cannot read its schema: %v", err)}
	}
	has := map[string]bool{}
	for _, t := range tables {
		has[t] = true
	}
	switch {
	case v > schemaVersion:
		return fmt.Errorf("sqlite: %s: schema version %d is newer than this xmppd knows (%d): run the xmppd that wrote it", path, v, schemaVersion)
	case v == 0 || !has["events"] || (v == schemaVersion && !has["streams"]):
		what := "no tables"
		if len(tables) > 0 {
			what = "tables " + strings.Join(tables, ", ")
		}
		return &NoLogError{path, fmt.Sprintf("it is an SQLite database of another program (schema version %d, %s)", v, what)}
	}
	return nil
}

func tableNames(conn *sqlite.Conn) ([]string, error) {
	var names []string
	err := sqlitex.ExecuteTransient(conn, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error { names = append(names, s.ColumnText(0)); return nil },
	})
	return names, err
}

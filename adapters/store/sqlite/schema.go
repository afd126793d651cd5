package sqlite

import (
	"fmt"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// schemaVersion is stored in PRAGMA user_version. A file with a newer
// version was written by a newer xmppd and is refused rather than misread.
const schemaVersion = 1

// schemaV1 creates the log. Columns are plain SQL types an auditor can read
// with the sqlite3 shell; doc.go describes each one. Metadata columns hold
// ” rather than NULL when empty so that the canonical hash input is exactly
// what is stored.
const schemaV1 = `
CREATE TABLE events (
	position    INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT    NOT NULL UNIQUE,
	stream      TEXT    NOT NULL,
	version     INTEGER NOT NULL CHECK (version > 0),
	type        TEXT    NOT NULL,
	schema      INTEGER NOT NULL,
	recorded    INTEGER NOT NULL,
	actor       TEXT    NOT NULL DEFAULT '',
	session     TEXT    NOT NULL DEFAULT '',
	addr        TEXT    NOT NULL DEFAULT '',
	stanza_id   TEXT    NOT NULL DEFAULT '',
	causation   TEXT    NOT NULL DEFAULT '',
	correlation TEXT    NOT NULL DEFAULT '',
	node        TEXT    NOT NULL DEFAULT '',
	prev        TEXT    NOT NULL,
	hash        TEXT    NOT NULL,
	data        TEXT    NOT NULL,
	UNIQUE (stream, version)
);
CREATE TABLE streams (
	stream  TEXT    PRIMARY KEY,
	version INTEGER NOT NULL,
	hash    TEXT    NOT NULL
) WITHOUT ROWID;
CREATE VIEW log AS
	SELECT position,
	       strftime('%Y-%m-%dT%H:%M:%fZ', recorded / 1000000000.0, 'unixepoch') AS recorded_utc,
	       stream, version, type, actor, session, addr, data
	FROM events;
PRAGMA user_version = 1;
`

// migrate brings a writable file to schemaVersion inside one immediate
// transaction, so two processes opening a new file at once do not both
// create the tables.
func migrate(conn *sqlite.Conn) (err error) {
	end, err := sqlitex.ImmediateTransaction(conn)
	if err != nil {
		return fmt.Errorf("sqlite: begin migration: %w", err)
	}
	defer end(&err)
	v, err := userVersion(conn)
	if err != nil {
		return err
	}
	switch {
	case v == schemaVersion:
		return nil
	case v > schemaVersion:
		return fmt.Errorf("sqlite: schema version %d is newer than this xmppd knows (%d)", v, schemaVersion)
	}
	if err := sqlitex.ExecuteScript(conn, schemaV1, nil); err != nil {
		return fmt.Errorf("sqlite: create schema: %w", err)
	}
	return nil
}

// checkSchema refuses a read-only file that is not an xmppd log of a
// version this code reads.
func checkSchema(conn *sqlite.Conn) error {
	v, err := userVersion(conn)
	if err != nil {
		return err
	}
	if v != schemaVersion {
		return fmt.Errorf("sqlite: schema version %d, want %d (is this an xmppd log?)", v, schemaVersion)
	}
	return nil
}

func userVersion(conn *sqlite.Conn) (int, error) {
	var v int
	err := sqlitex.ExecuteTransient(conn, "PRAGMA user_version", &sqlitex.ExecOptions{
		ResultFunc: func(stmt *sqlite.Stmt) error { v = stmt.ColumnInt(0); return nil },
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	return v, nil
}

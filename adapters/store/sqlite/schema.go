package sqlite

import (
	"fmt"
	"strings"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// schemaVersion is stored in PRAGMA user_version. A file with a newer
// version was written by a newer xmppd and is refused rather than misread;
// a file of schema 1 is read as it is (read-only) or migrated (writable).
const schemaVersion = 2

// schemaV2 creates the log. doc.go describes each table and column.
//
// The events table has no secondary index: an index on (stream, version)
// written in every commit costs one more page per stream in the batch, and
// measured here it cut durable appends from 110k to 33k events/s (64
// streams per commit). Instead the writer fills stream_index and streams
// from the log in bulk (writer.go), and readers scan the few events past
// indexed.through.
const schemaV2 = `
CREATE TABLE events (
	position  INTEGER PRIMARY KEY,
	stream    TEXT    NOT NULL,
	version   INTEGER NOT NULL CHECK (version > 0),
	type      TEXT    NOT NULL,
	recorded  INTEGER NOT NULL,
	hash      TEXT    NOT NULL,
	envelope  TEXT    NOT NULL
);
CREATE TABLE stream_index (
	stream        TEXT    NOT NULL,
	first_version INTEGER NOT NULL,
	last_version  INTEGER NOT NULL,
	positions     TEXT    NOT NULL,
	PRIMARY KEY (stream, first_version)
) WITHOUT ROWID;
CREATE TABLE streams (
	stream  TEXT    PRIMARY KEY,
	version INTEGER NOT NULL,
	hash    TEXT    NOT NULL
) WITHOUT ROWID;
CREATE TABLE indexed (
	one     INTEGER PRIMARY KEY CHECK (one = 1),
	through INTEGER NOT NULL
);
INSERT INTO indexed (one, through) VALUES (1, 0);
CREATE VIEW log AS
	SELECT position,
	       strftime('%Y-%m-%dT%H:%M:%fZ', recorded / 1000000000.0, 'unixepoch') AS recorded_utc,
	       stream, version, type,
	       json_extract(envelope, '$.actor')       AS actor,
	       json_extract(envelope, '$.session')     AS session,
	       json_extract(envelope, '$.addr')        AS addr,
	       json_extract(envelope, '$.stanza_id')   AS stanza_id,
	       json_extract(envelope, '$.correlation') AS correlation,
	       json_extract(envelope, '$.node')        AS node,
	       json_extract(envelope, '$.data')        AS data,
	       json_extract(envelope, '$.id')          AS id,
	       json_extract(envelope, '$.schema')      AS schema,
	       json_extract(envelope, '$.causation')   AS causation,
	       json_extract(envelope, '$.prev')        AS prev,
	       hash
	FROM events;
PRAGMA user_version = 2;
`

// migrate brings a writable file to schemaVersion inside one immediate
// transaction, so two processes opening a new file at once do not both
// create the tables, and a migration killed halfway leaves the old file.
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
	case v == 1:
		return migrateV1(conn)
	case v != 0:
		return fmt.Errorf("sqlite: schema version %d is not one xmppd ever wrote", v)
	}
	if err := sqlitex.ExecuteScript(conn, schemaV2, nil); err != nil {
		return fmt.Errorf("sqlite: create schema: %w", err)
	}
	return nil
}

// migrateV1 rewrites a schema 1 log (one column per envelope field, and
// the stream index written in every commit) as schema 2, inside the
// caller's transaction. Every event keeps its position, stream, version
// and hash, and its data byte for byte, so the hash chains still verify.
func migrateV1(conn *sqlite.Conn) error {
	script := `
DROP VIEW log;
ALTER TABLE events RENAME TO events_v1;
DROP TABLE streams;` + schemaV2
	if err := sqlitex.ExecuteScript(conn, script, nil); err != nil {
		return fmt.Errorf("sqlite: migrate schema 1: %w", err)
	}
	read, err := conn.Prepare(strings.Replace(selectV1, "FROM events", "FROM events_v1", 1) + "ORDER BY position")
	if err != nil {
		return fmt.Errorf("sqlite: migrate schema 1: %w", err)
	}
	defer read.Reset()
	insert, err := conn.Prepare(insertV2)
	if err != nil {
		return fmt.Errorf("sqlite: migrate schema 1: %w", err)
	}
	sc := newScanner()
	var body, env []byte
	all := make(runs)
	for {
		row, err := read.Step()
		if err != nil {
			return fmt.Errorf("sqlite: migrate schema 1: %w", err)
		}
		if !row {
			break
		}
		e, _ := sc.scanV1(read)
		if err := checkEnvelope(0, &e); err != nil {
			return fmt.Errorf("sqlite: migrate schema 1: position %d: %w", e.Position, err)
		}
		body = appendBody(body[:0], &e)
		env = composeEnvelope(env[:0], e.Prev, body)
		insert.BindInt64(1, int64(e.Position))
		bindEvent(insert, &e, env)
		if _, err := insert.Step(); err != nil {
			return fmt.Errorf("sqlite: migrate schema 1: position %d: %w", e.Position, err)
		}
		insert.Reset()
		all.add(&e)
		sc.slab = sc.slab[:0]
	}
	// Index the whole log as one flush would (writer.go).
	if err := sqlitex.ExecuteTransient(conn, "DROP TABLE events_v1", nil); err != nil {
		return fmt.Errorf("sqlite: migrate schema 1: %w", err)
	}
	ins, err := conn.Prepare(insertRun)
	if err != nil {
		return fmt.Errorf("sqlite: migrate schema 1: %w", err)
	}
	up, err := conn.Prepare(upsertHeadSQL)
	if err != nil {
		return fmt.Errorf("sqlite: migrate schema 1: %w", err)
	}
	if err := all.write(ins, up); err != nil {
		return fmt.Errorf("sqlite: migrate schema 1: index: %w", err)
	}
	return sqlitex.ExecuteTransient(conn, "UPDATE indexed SET through = (SELECT coalesce(max(position), 0) FROM events)", nil)
}

// checkSchema refuses a read-only file that is not an xmppd log of a
// version this code reads.
func checkSchema(conn *sqlite.Conn) (layout, error) {
	v, err := userVersion(conn)
	if err != nil {
		return layout{}, err
	}
	switch v {
	case schemaVersion:
		return layoutV2, nil
	case 1:
		return layoutV1, nil
	}
	return layout{}, fmt.Errorf("sqlite: schema version %d, want %d (is this an xmppd log?)", v, schemaVersion)
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

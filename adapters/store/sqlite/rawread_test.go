package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	zsqlite "zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
)

// sqlOnly keeps a store from reading the file directly, so that what it
// reads is SQLite's own answer.
const sqlOnly = 1 << 62

// appendVaried commits n events to a few interleaved streams with data of
// varied sizes: most small, some non-ASCII or with escapes, and some
// larger than a 4 KiB page, which SQLite spills to overflow pages.
func appendVaried(t *testing.T, s *sqlite.Store, n int, seed uint64) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	for done := 0; done < n; {
		stream := fmt.Sprintf("account-u%d@example.com", rng.IntN(9))
		batch := 1 + rng.IntN(30)
		evs := make([]events.Envelope, batch)
		for i := range evs {
			var stanza string
			switch rng.IntN(20) {
			case 0:
				stanza = strings.Repeat("<big>ça ✓</big>", 300+rng.IntN(3000)) // 4 KB to 60 KB
			case 1:
				stanza = "quote \" backslash \\ tab \t ünïcödé"
			default:
				stanza = strings.Repeat("x", rng.IntN(200))
			}
			p := events.SubscriptionChanged{Contact: fmt.Sprintf("c%d@example.net", rng.IntN(1000)),
				Cause: events.InSubscribe, Before: events.StateNone, After: events.StateNonePendingIn, Stanza: stanza}
			e, err := events.New(p, events.Meta{Actor: "u@example.com/r", SessionID: fmt.Sprintf("s%d", rng.IntN(5)), ClientAddr: "127.0.0.1:5222", Node: "n1"})
			if err != nil {
				t.Fatal(err)
			}
			e.Recorded = time.Unix(1_790_000_000, int64(done+i)*1_000_003).UTC()
			evs[i] = e
		}
		if _, err := s.Append(ctx, stream, events.Any, evs...); err != nil {
			t.Fatal(err)
		}
		done += batch
	}
}

// readPages reads the log from from through ReadPages.
func readPages(t *testing.T, s *sqlite.Store, from uint64, opts events.ReadOptions) []events.Envelope {
	t.Helper()
	var out []events.Envelope
	for page, err := range s.ReadPages(context.Background(), from, opts) {
		if err != nil {
			t.Fatalf("ReadPages from %d: %v", from, err)
		}
		out = append(out, page.Events...)
	}
	return out
}

// foldFields is what a ForFolding read promises (events.ReadOptions).
func foldFields(e events.Envelope) events.Envelope {
	return events.Envelope{Position: e.Position, Stream: e.Stream, Version: e.Version, Type: e.Type,
		SchemaVersion: e.SchemaVersion, Recorded: e.Recorded, SessionID: e.SessionID, Data: e.Data}
}

// TestDirectReadAgreesWithSQL reads a log straight from the file and
// through SQL, from several positions, whole envelopes and folding's
// fields: live with recent commits still in the WAL, then reopened
// read-only after Close checkpointed everything into the file.
func TestDirectReadAgreesWithSQL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	appendVaried(t, s, 9000, 1)
	head, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, s *sqlite.Store) {
		t.Helper()
		for _, from := range []uint64{0, 1, 2, 777, head / 2, head - 5000, head - 1, head} {
			sqlite.SetDirectReadMin(s, sqlOnly)
			want := readPages(t, s, from, events.ReadOptions{})
			sqlite.SetDirectReadMin(s, 1)
			got := readPages(t, s, from, events.ReadOptions{})
			if len(got) != len(want) || len(want) != int(head-max(from, 1)+1) {
				t.Fatalf("%s, from %d: %d events read directly, %d through SQL, want %d", when, from, len(got), len(want), head-max(from, 1)+1)
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%s, from %d: event %d differs:\ndirect %+v\nSQL    %+v", when, from, i, got[i], want[i])
				}
			}
			folding := readPages(t, s, from, events.ReadOptions{ForFolding: true})
			for i := range want {
				if !reflect.DeepEqual(foldFields(folding[i]), foldFields(want[i])) {
					t.Fatalf("%s, from %d: event %d read for folding differs:\ndirect %+v\nSQL    %+v", when, from, i, folding[i], want[i])
				}
			}
		}
		if n := sqlite.DirectReadFallbacks(s); n != 0 {
			t.Fatalf("%s: %d direct reads fell back to SQL", when, n)
		}
	}
	check("live", s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	defer ro.Close()
	check("reopened read-only", ro)
}

// TestDirectReadFallsBackToSQL gives the events table a layout the direct
// reader does not know (a column added by hand, as a careless migration
// or an auditor's annotation would): every event is still read, the ones
// with the new layout through SQL, and the fallback is counted.
func TestDirectReadFallsBackToSQL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	appendVaried(t, s, 3000, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlitex.ExecuteTransient(conn, "ALTER TABLE events ADD COLUMN note TEXT DEFAULT 'x'", nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	s = openTemp(t, sqlite.Config{Path: path})
	defer s.Close()
	appendVaried(t, s, 3000, 3) // rows written now carry eight columns
	sqlite.SetDirectReadMin(s, sqlOnly)
	want := readPages(t, s, 1, events.ReadOptions{})
	sqlite.SetDirectReadMin(s, 1)
	var got []events.Envelope
	for e, err := range s.ReadAll(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if !reflect.DeepEqual(got, want) || len(want) < 6000 {
		t.Fatalf("read %d events with a fallback, %d through SQL alone; they differ", len(got), len(want))
	}
	if n := sqlite.DirectReadFallbacks(s); n != 1 {
		t.Fatalf("%d fallbacks counted, want 1", n)
	}
}

// TestDirectReadSeesTamperingAsSQLDoes edits the file behind the store's
// back as `xmppd verify`'s tamper tests do (a byte of an envelope, a
// json_set that leaves the envelope as text, a deleted row, two rows
// swapped): a direct read must return exactly what SQL returns, so that
// verify judges the same events either way.
func TestDirectReadSeesTamperingAsSQLDoes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	appendVaried(t, s, 6000, 4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE events SET envelope = replace(envelope, 'example.net', 'example.org') WHERE position = 100`,
		`UPDATE events SET envelope = json_set(envelope, '$.actor', 'admin:mallory') WHERE position = 2000`,
		`DELETE FROM events WHERE position = 3000`,
		`UPDATE events SET position = -position WHERE position IN (4000, 4500)`,
		`UPDATE events SET position = 4500 WHERE position = -4000`,
		`UPDATE events SET position = 4000 WHERE position = -4500`,
	} {
		if err := sqlitex.ExecuteTransient(conn, stmt, nil); err != nil || conn.Changes() == 0 {
			t.Fatalf("%s: %v, %d rows changed", stmt, err, conn.Changes())
		}
	}
	conn.Close()

	ro := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	defer ro.Close()
	sqlite.SetDirectReadMin(ro, sqlOnly)
	want := readPages(t, ro, 1, events.ReadOptions{})
	sqlite.SetDirectReadMin(ro, 1)
	got := readPages(t, ro, 1, events.ReadOptions{})
	if len(want) < 5999 || !reflect.DeepEqual(got, want) {
		t.Fatalf("direct read of the tampered log (%d events) differs from SQL's (%d)", len(got), len(want))
	}
	if n := sqlite.DirectReadFallbacks(ro); n != 0 {
		t.Fatalf("%d direct reads fell back to SQL", n)
	}
}

// TestJSONColumnsAreText: the envelope and the stream index's positions
// are stored as TEXT, as the schema declares, so that the sqlite3 shell,
// SQLite's JSON functions (which take a BLOB for JSONB first) and other
// tools read them as JSON.
func TestJSONColumnsAreText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	appendVaried(t, s, 50, 5)
	if err := s.Close(); err != nil { // indexes the tail
		t.Fatal(err)
	}
	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`SELECT count(*) FROM events WHERE typeof(envelope) <> 'text' OR json_extract(envelope, '$.node') <> 'n1'`,
		`SELECT count(*) FROM stream_index WHERE typeof(positions) <> 'text' OR json_type(positions) <> 'array'`,
		`SELECT (SELECT count(*) FROM events) < 50 OR (SELECT count(*) FROM stream_index) = 0`,
	} {
		var bad int64 = -1
		if err := sqlitex.ExecuteTransient(conn, q, &sqlitex.ExecOptions{ResultFunc: func(st *zsqlite.Stmt) error {
			bad = st.ColumnInt64(0)
			return nil
		}}); err != nil || bad != 0 {
			t.Errorf("%s: %d, %v", q, bad, err)
		}
	}
}

// TestDirectReadKeepsSQLiteLocks: on POSIX systems closing any descriptor
// of a file drops every fcntl lock the process holds on it, SQLite's
// included. When the direct reader closed the database file it had
// opened, the sqlite3 shell closing its connection in another process
// found the file unused, checkpointed it and deleted the WAL under this
// store, which went on appending to a deleted file. After direct reads,
// another process (the sqlite3 shell an auditor runs, and a connection
// like xmppd's own) must leave the WAL alone, and the store must go on
// appending to the one log everyone sees.
func TestDirectReadKeepsSQLiteLocks(t *testing.T) {
	shell, err := exec.LookPath("sqlite3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the sqlite3 shell is not installed (make deps installs it): %v", err)
		}
		t.Skip("the sqlite3 shell is not installed: run make deps (or make test)")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	defer s.Close()
	appendVaried(t, s, 200, 6)
	sqlite.SetDirectReadMin(s, 1)
	for range 3 {
		readPages(t, s, 0, events.ReadOptions{})
	}
	out, err := exec.Command(shell, path, "SELECT count(*) FROM events;").CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v: %s", err, out)
	}
	cmd, sc := startChild(t, "peek", path)
	for sc.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second process: %v", err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("after other processes closed their connections, the WAL is gone: %v", err)
	}
	appendVaried(t, s, 200, 7)
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ro := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	defer ro.Close()
	if got, err := ro.Head(ctx); err != nil || got != head {
		t.Fatalf("another store sees the log end at %d (%v); this one wrote up to %d", got, err, head)
	}
}

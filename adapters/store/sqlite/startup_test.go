package sqlite_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	zsqlite "zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// TestInspect tells a log from every file that is not one, without
// changing the file.
func TestInspect(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log.db")
	s := openTemp(t, sqlite.Config{Path: log})
	if _, err := s.Append(context.Background(), "account-a@example.com", events.NoStream, storetest.Envelopes(t, 2, storetest.FullMeta())...); err != nil {
		t.Fatal(err)
	}
	s.Close()

	foreign := filepath.Join(dir, "foreign.db")
	conn, err := zsqlite.OpenConn(foreign)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlitex.ExecuteScript(conn, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');", nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, path string
		noLog      bool   // a *NoLogError
		reason     string // in its message
	}{
		{"an xmppd log", log, false, ""},
		{"an empty file", write("empty.db", ""), true, "empty (0 bytes)"},
		{"a text file", write("text.db", "hello, this is not a database\n"), true, "not an SQLite database"},
		{"another program's SQLite file", foreign, true, "another program (schema version 0, tables notes)"},
		{"a directory", dir, true, "directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.path)
			err := sqlite.Inspect(tc.path)
			if !tc.noLog {
				if err != nil {
					t.Fatalf("Inspect: %v", err)
				}
				return
			}
			var nl *sqlite.NoLogError
			if !errors.As(err, &nl) || !errors.Is(err, sqlite.ErrNoLog) {
				t.Fatalf("Inspect = %v, want a NoLogError", err)
			}
			if !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("message %q does not name the file and %q", err, tc.reason)
			}
			if after, _ := os.ReadFile(tc.path); string(after) != string(before) {
				t.Error("Inspect changed the file")
			}
		})
	}
	if err := sqlite.Inspect(filepath.Join(dir, "missing.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestLockServer takes the server lock once: a second holder, even in
// the same process (flock belongs to the open file), is refused with the
// first one's pid, node and start, and gets it once it is released.
func TestLockServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xmppd.db")
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	first, err := sqlite.LockServer(path, sqlite.Holder{PID: 4242, Node: "node-a", Started: start})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.LockServer(path, sqlite.Holder{PID: 1, Node: "node-b", Started: time.Now()})
	var held *sqlite.LockedError
	if !errors.As(err, &held) || !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("second lock: %v, want a LockedError", err)
	}
	if held.Holder.PID != 4242 || held.Holder.Node != "node-a" || !held.Holder.Started.Equal(start) {
		t.Errorf("holder %+v, want pid 4242 node-a %v", held.Holder, start)
	}
	for _, want := range []string{path, "process 4242", `"node-a"`, sqlite.LockPath(path)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlite.LockServer(path, sqlite.Holder{PID: 7, Node: "node-b", Started: time.Now()})
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Release()
}

// headsLog makes a log with streams a (3 events), b (2) and c (1),
// closed (so indexed), and returns its path.
func headsLog(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	ctx := context.Background()
	for stream, n := range map[string]int{"account-a@x": 3, "account-b@x": 2, "account-c@x": 1} {
		for range n {
			if _, err := s.Append(ctx, stream, events.Any, storetest.Envelopes(t, 1, storetest.FullMeta())...); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func execSQL(t *testing.T, path string, stmts ...string) {
	t.Helper()
	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if err := sqlitex.ExecuteTransient(conn, s, nil); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if conn.Changes() == 0 {
			t.Fatalf("%s changed nothing", s)
		}
	}
}

// TestCheckHeads finds each kind of alteration of a stream's end, names
// only the altered stream, and finds nothing on an intact log or on
// streams whose newest events are not indexed yet.
func TestCheckHeads(t *testing.T) {
	cases := []struct {
		name  string
		sql   []string
		kind  string
		found uint64
	}{
		{"intact", nil, "", 0},
		{"tail removed", []string{`DELETE FROM events WHERE stream = 'account-a@x' AND version = 3`}, sqlite.HeadTailRemoved, 2},
		{"whole stream removed", []string{`DELETE FROM events WHERE stream = 'account-a@x'`}, sqlite.HeadTailRemoved, 0},
		{"last event edited", []string{`UPDATE events SET envelope = json_set(envelope, '$.actor', 'admin:mallory') WHERE stream = 'account-a@x' AND version = 3`}, sqlite.HeadEventEdited, 3},
		{"last event and its hash edited", []string{`UPDATE events SET hash = (CASE WHEN substr(hash, 1, 2) = 'ff' THEN '00' ELSE 'ff' END) || substr(hash, 3) WHERE stream = 'account-a@x' AND version = 3`}, sqlite.HeadEventEdited, 3},
		{"streams row hash edited", []string{`UPDATE streams SET hash = (CASE WHEN substr(hash, 1, 2) = 'ff' THEN '00' ELSE 'ff' END) || substr(hash, 3) WHERE stream = 'account-a@x'`}, sqlite.HeadRowEdited, 3},
		{"streams row version lowered", []string{`UPDATE streams SET version = 2 WHERE stream = 'account-a@x'`}, sqlite.HeadRowEdited, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := headsLog(t)
			if tc.sql != nil {
				execSQL(t, path, tc.sql...)
			}
			s := openTemp(t, sqlite.Config{Path: path})
			defer s.Close()
			got, err := s.CheckHeads(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tc.kind == "" {
				if len(got) != 0 {
					t.Fatalf("intact log: %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].Stream != "account-a@x" || got[0].Kind != tc.kind || got[0].FoundVersion != tc.found {
				t.Fatalf("got %+v, want account-a@x %s found at version %d", got, tc.kind, tc.found)
			}
			if got[0].Detail() == "" {
				t.Error("no detail")
			}
		})
	}
}

// TestRebaseHeadsAfterRemovedTail re-bases a stream whose last event was
// removed: appends then continue from the last event left (the removed
// version is written again, chained to it), and every chain and the
// heads check out.
func TestRebaseHeadsAfterRemovedTail(t *testing.T) {
	ctx := context.Background()
	path := headsLog(t)
	execSQL(t, path, `DELETE FROM events WHERE stream = 'account-a@x' AND version >= 2`)
	s := openTemp(t, sqlite.Config{Path: path})
	defer s.Close()
	// Before: the store's head is version 3, the stream ends at 1.
	if _, err := s.Append(ctx, "account-a@x", events.Exactly(1), storetest.Envelopes(t, 1, storetest.FullMeta())...); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("append at the real tail before re-basing: %v, want a conflict", err)
	}
	got, err := s.RebaseHeads(ctx, []string{"account-a@x"})
	if err != nil {
		t.Fatal(err)
	}
	if h := got["account-a@x"]; h.FoundVersion != 1 {
		t.Fatalf("re-based to %+v, want version 1", h)
	}
	for range 5000 { // past a flush (4096), so the index is written again
		if _, err := s.Append(ctx, "account-a@x", events.Any, storetest.Envelopes(t, 1, storetest.FullMeta())...); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := s.CheckHeads(ctx); err != nil || len(p) != 0 {
		t.Fatalf("heads after re-basing: %+v %v", p, err)
	}
	n := 0
	for e, err := range s.ReadStream(ctx, "account-a@x", 1) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if e.Version != uint64(n) {
			t.Fatalf("version %d at %d", e.Version, n)
		}
	}
	if n != 5001 {
		t.Fatalf("stream has %d events, want 5001", n)
	}
	c := events.NewChainChecker()
	for e, err := range s.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Check(&e); err != nil {
			t.Errorf("chain: %v", err)
		}
	}
}

package sqlite_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	zsqlite "zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// TestStreamsReadAcrossIndexFlushes writes more than three index flushes'
// worth of events (the writer indexes the tail every 4,096 events) to
// interleaved streams, and reads every stream from several versions while
// the tail is unindexed, after an idle flush and after a reopen: each read
// must be exactly the stream's events from that version, in order.
func TestStreamsReadAcrossIndexFlushes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	rng := rand.New(rand.NewPCG(1, 2))
	const streams, total = 7, 13_000
	want := map[string][]uint64{} // positions by version
	for n := 0; n < total; {
		stream := fmt.Sprintf("presence-u%d@example.com", rng.IntN(streams))
		size := 1 + rng.IntN(40)
		out, err := s.Append(ctx, stream, events.Exactly(uint64(len(want[stream]))), storetest.Envelopes(t, size, storetest.FullMeta())...)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out {
			want[stream] = append(want[stream], e.Position)
		}
		n += size
	}
	check := func(when string, s *sqlite.Store) {
		t.Helper()
		for stream, pos := range want {
			for _, from := range []uint64{1, 2, uint64(len(pos)) / 2, uint64(len(pos)) - 1, uint64(len(pos)), uint64(len(pos)) + 1} {
				var got []uint64
				v := from
				for e, err := range s.ReadStream(ctx, stream, from) {
					if err != nil {
						t.Fatalf("%s: ReadStream %s from %d: %v", when, stream, from, err)
					}
					if e.Version != v || e.Stream != stream {
						t.Fatalf("%s: ReadStream %s from %d: got %s version %d, want version %d", when, stream, from, e.Stream, e.Version, v)
					}
					v++
					got = append(got, e.Position)
				}
				var exp []uint64
				if from <= uint64(len(pos)) {
					exp = pos[from-1:]
				}
				if !slices.Equal(got, exp) {
					t.Fatalf("%s: ReadStream %s from %d: %d events, want %d", when, stream, from, len(got), len(exp))
				}
			}
		}
	}
	check("live", s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close indexes the whole tail.
	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	var through, last, indexed int64
	sqlitex.ExecuteTransient(conn, `SELECT (SELECT through FROM indexed), (SELECT max(position) FROM events),
		(SELECT sum(json_array_length(positions)) FROM stream_index)`, &sqlitex.ExecOptions{
		ResultFunc: func(st *zsqlite.Stmt) error {
			through, last, indexed = st.ColumnInt64(0), st.ColumnInt64(1), st.ColumnInt64(2)
			return nil
		}})
	conn.Close()
	if through != last || indexed != last {
		t.Fatalf("after Close: watermark %d, %d events indexed, log ends at %d", through, indexed, last)
	}
	r := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	defer r.Close()
	check("reopened", r)
	checkFile(t, path)
}

// TestSchema1LogIsReadAndMigrated opens a log written by the previous
// xmppd (schema 1: one column per envelope field, cmd/xmppd/testdata), first
// read-only, as an auditor with a copy would, then writable, which migrates
// it to schema 2. Every envelope must read back identical, byte for byte
// in its data, the chains must verify, and appends continue the chains.
func TestSchema1LogIsReadAndMigrated(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "xmppd.db")
	copyFile(t, "../../../cmd/xmppd/testdata/v1log/xmppd.db", path)
	readAll := func(s *sqlite.Store) []events.Envelope {
		var out []events.Envelope
		for e, err := range s.ReadAll(ctx, 0) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out
	}
	old := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	before := readAll(old)
	oldStream := slices.Collect(func(yield func(uint64) bool) {
		for e, err := range old.ReadStream(ctx, "account-alice@localhost", 2) {
			if err != nil {
				t.Fatal(err)
			}
			yield(e.Position)
		}
	})
	old.Close()
	if len(before) != 31 || len(oldStream) == 0 {
		t.Fatalf("schema 1 log: %d events, alice's stream from 2: %d", len(before), len(oldStream))
	}
	checkFile(t, path) // the schema 1 read path: chains, heads, streams

	s := openTemp(t, sqlite.Config{Path: path})
	after := readAll(s)
	if len(after) != len(before) {
		t.Fatalf("migrated log has %d events, want %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", b) || string(a.Data) != string(b.Data) {
			t.Fatalf("event %d changed in migration:\n was %+v\n now %+v", i, b, a)
		}
	}
	out, err := s.Append(ctx, "account-alice@localhost", events.Any, storetest.Envelopes(t, 1, storetest.FullMeta())...)
	if err != nil {
		t.Fatal(err)
	}
	var prev string
	for e, err := range s.ReadStream(ctx, "account-alice@localhost", 1) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Position == out[0].Position {
			prev = e.Prev
		}
		if e.Version >= 2 && e.Position < out[0].Position && !slices.Contains(oldStream, e.Position) {
			t.Errorf("migrated stream has position %d the old one did not", e.Position)
		}
	}
	if prev == "" || prev == events.GenesisHash {
		t.Fatalf("append after migration did not continue the chain (prev %q)", prev)
	}
	s.Close()
	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v int
	sqlitex.ExecuteTransient(conn, "PRAGMA user_version", &sqlitex.ExecOptions{ResultFunc: func(st *zsqlite.Stmt) error { v = st.ColumnInt(0); return nil }})
	if v != 2 {
		t.Fatalf("user_version %d after migration, want 2", v)
	}
	checkFile(t, path)
}

// TestEnvelopeEditedBySQLIsStillRead rewrites one event's envelope column
// with SQLite's json_set, as an auditor (or an attacker) might: the object
// comes back in another layout, which the reader must still take apart
// (the change itself is then for `xmppd verify` to find, through the
// hash). Strings with quotes, backslashes, control characters and
// non-ASCII text must survive the envelope column unchanged.
func TestEnvelopeEditedBySQLIsStillRead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	evs := storetest.Envelopes(t, 2, storetest.FullMeta())
	evs[0].Actor = `jüliet@exämple.com/"quoted" \ back` + "\t\x01"
	evs[0].StanzaID = "ü\n"
	evs[0].Data = []byte(`{"s":"a\"b\\c\u0001 ü"}`)
	out, err := s.Append(ctx, "account-edit@example.com", events.NoStream, evs...)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	r := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	for e, err := range r.ReadStream(ctx, "account-edit@example.com", 1) {
		if err != nil {
			t.Fatal(err)
		}
		w := out[e.Version-1]
		if e.Actor != w.Actor || e.StanzaID != w.StanzaID || string(e.Data) != string(w.Data) || e.Hash != events.CanonicalHash(&e) {
			t.Fatalf("version %d read back as actor %q stanza %q data %s", e.Version, e.Actor, e.StanzaID, e.Data)
		}
	}
	r.Close()

	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	err = sqlitex.ExecuteTransient(conn, `UPDATE events SET envelope = json_set(envelope, '$.actor', 'admin:mallory')
		WHERE stream = 'account-edit@example.com' AND version = 2`, nil)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	r = openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	defer r.Close()
	n := 0
	for e, err := range r.ReadStream(ctx, "account-edit@example.com", 2) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if e.Actor != "admin:mallory" || e.ID != out[1].ID || string(e.Data) != string(out[1].Data) || e.Prev != out[1].Prev {
			t.Fatalf("edited event read back as %+v", e)
		}
		if events.CanonicalHash(&e) == e.Hash {
			t.Fatal("the edited event still matches its hash")
		}
	}
	if n != 1 {
		t.Fatalf("read %d edited events, want 1", n)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStreamReadOfAHandEditedIndex: a stream_index row whose positions are
// valid JSON but not as the writer lays them out (an auditor's edit with
// spaces) reads the same streams.
func TestStreamReadOfAHandEditedIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	appendVaried(t, s, 3000, 8)
	if err := s.Close(); err != nil { // indexes everything
		t.Fatal(err)
	}
	read := func() map[string][]events.Envelope {
		ro := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
		defer ro.Close()
		out := map[string][]events.Envelope{}
		for h, err := range ro.StreamHeads(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			for e, err := range ro.ReadStream(ctx, h.Stream, 2) {
				if err != nil {
					t.Fatal(err)
				}
				out[h.Stream] = append(out[h.Stream], e)
			}
			if uint64(len(out[h.Stream])) != h.Version-1 {
				t.Fatalf("%s from version 2: %d events, head at %d", h.Stream, len(out[h.Stream]), h.Version)
			}
		}
		return out
	}
	want := read()
	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlitex.ExecuteTransient(conn, `UPDATE stream_index SET positions = replace(positions, ',', ', ')`, nil); err != nil || conn.Changes() == 0 {
		t.Fatalf("edit: %v, %d rows", err, conn.Changes())
	}
	conn.Close()
	if got := read(); !reflect.DeepEqual(got, want) {
		t.Fatal("streams read through a hand-edited index differ")
	}
}

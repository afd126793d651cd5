package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	zsqlite "zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
)

// appendArchived commits n archive.message_stored events, in batches, to
// a few archive streams, with content of about a kilobyte as chat
// messages have, some spilling to overflow pages.
func appendArchived(t testing.TB, s *sqlite.Store, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 13))
	for done := 0; done < n; {
		owner := fmt.Sprintf("u%d@example.com", rng.IntN(9))
		evs := make([]events.Envelope, min(n-done, 1+rng.IntN(20)))
		for i := range evs {
			content := strings.Repeat("see you at the station at six ", 30+rng.IntN(10))
			if rng.IntN(30) == 0 {
				content = strings.Repeat(content, 6) // past a 4 KiB page
			}
			e, err := events.New(events.ArchiveMessageStored{ID: fmt.Sprintf("a%d-%d", seed, done+i),
				With: "c@example.net/phone", Direction: events.ArchiveIn, Content: content}, events.Meta{SessionID: "s-archive"})
			if err != nil {
				t.Fatal(err)
			}
			e.Recorded = time.Unix(1_790_000_000, int64(done+i)*1_000_007).UTC()
			evs[i] = e
		}
		if _, err := s.Append(context.Background(), events.ArchiveStream(owner), events.Any, evs...); err != nil {
			t.Fatal(err)
		}
		done += len(evs)
	}
}

// bareArchive is the Bare predicate of a rebuild that does not fold the
// archive, and one more stream, picked by name, to show the predicate is
// asked with each event's own stream.
func bareArchive(stream, typ string) bool {
	return typ == events.TypeArchiveMessageStored && strings.HasPrefix(stream, events.ArchivePrefix) ||
		stream == "account-u4@example.com"
}

// releasedPages reads the log from from through ReadPages, giving every
// page back (ReleasePage) once its events are copied out, so that later
// pages reuse the memory of earlier ones.
func releasedPages(t *testing.T, s *sqlite.Store, from uint64, opts events.ReadOptions) []events.Envelope {
	t.Helper()
	var out []events.Envelope
	for page, err := range s.ReadPages(context.Background(), from, opts) {
		if err != nil {
			t.Fatalf("ReadPages from %d: %v", from, err)
		}
		for _, e := range page.Events {
			e.Data = bytes.Clone(e.Data)
			out = append(out, e)
		}
		s.ReleasePage(page)
	}
	return out
}

// checkBare compares a read with opts.Bare set (got) with the same read
// without it (want): the same events in the same order, those Bare picks
// with only their position, stream, version, type and time, the others
// whole. It returns how many were bare.
func checkBare(t *testing.T, what string, got, want []events.Envelope) int {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events read with Bare, %d without", what, len(got), len(want))
	}
	bare := 0
	for i, w := range want {
		g := got[i]
		if !bareArchive(w.Stream, w.Type) {
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("%s: event %d is not bare but differs:\nwith Bare    %+v\nwithout Bare %+v", what, i, g, w)
			}
			continue
		}
		bare++
		header := events.Envelope{Position: w.Position, Stream: w.Stream, Version: w.Version, Type: w.Type, Recorded: w.Recorded}
		if !reflect.DeepEqual(g, header) || g.Data != nil {
			t.Fatalf("%s: bare event %d is not its header alone:\nwith Bare    %+v\nwithout Bare %+v", what, i, g, w)
		}
	}
	return bare
}

// TestBareReadsAgree reads a log of archived messages mixed with other
// events with and without ReadOptions.Bare, straight from the file and
// through SQL, from several positions, whole envelopes and for folding:
// the same events come out, and those Bare picks carry no envelope.
func TestBareReadsAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	defer s.Close()
	appendVaried(t, s, 2000, 11)
	appendArchived(t, s, 3000, 12)
	appendVaried(t, s, 1500, 13)
	appendArchived(t, s, 2500, 14)
	appendVaried(t, s, 500, 15)
	head, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int64
	counting := func(stream, typ string) bool { asked.Add(1); return bareArchive(stream, typ) }
	for _, path := range []struct {
		name string
		min  uint64
	}{{"direct", 1}, {"SQL", sqlOnly}} {
		sqlite.SetDirectReadMin(s, path.min)
		for _, from := range []uint64{0, 1, 1999, head / 2, head - 3000, head - 1, head} {
			for _, folding := range []bool{false, true} {
				what := fmt.Sprintf("%s read from %d, for folding %v", path.name, from, folding)
				want := readPages(t, s, from, events.ReadOptions{ForFolding: folding})
				asked.Store(0)
				got := releasedPages(t, s, from, events.ReadOptions{ForFolding: folding, Bare: counting})
				if len(want) != int(head-max(from, 1)+1) {
					t.Fatalf("%s: %d events without Bare, want %d", what, len(want), head-max(from, 1)+1)
				}
				bare := checkBare(t, what, got, want)
				if from <= head/2 && (bare < 1000 || bare > len(want)-1000) {
					t.Fatalf("%s: %d of %d events bare: the log does not mix them", what, bare, len(want))
				}
				if n := asked.Load(); n < int64(len(want)) {
					t.Fatalf("%s: Bare asked about %d events of %d", what, n, len(want))
				}
			}
		}
	}
	if n := sqlite.DirectReadFallbacks(s); n != 0 {
		t.Fatalf("%d direct reads fell back to SQL", n)
	}
}

// TestBareReadFallsBackToSQL: a direct read with Bare that meets rows it
// cannot read (a column added by hand, as in TestDirectReadFallsBackToSQL)
// goes on through SQL, still leaving out the envelopes Bare picks.
func TestBareReadFallsBackToSQL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xmppd.db")
	s := openTemp(t, sqlite.Config{Path: path})
	appendArchived(t, s, 3000, 21)
	appendVaried(t, s, 1000, 22)
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
	appendArchived(t, s, 2000, 23) // rows written now carry eight columns
	appendVaried(t, s, 1000, 24)
	sqlite.SetDirectReadMin(s, sqlOnly)
	want := readPages(t, s, 1, events.ReadOptions{ForFolding: true})
	sqlite.SetDirectReadMin(s, 1)
	got := releasedPages(t, s, 1, events.ReadOptions{ForFolding: true, Bare: bareArchive})
	if bare := checkBare(t, "read with a fallback", got, want); bare < 5000 || len(want) < 7000 {
		t.Fatalf("%d of %d events read bare, want 5000 and more of 7000 and more", bare, len(want))
	}
	if n := sqlite.DirectReadFallbacks(s); n != 1 {
		t.Fatalf("%d fallbacks counted, want 1", n)
	}
}

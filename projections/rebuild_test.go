package projections_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
	"xmppd/projections/projtest"
)

// TestRebuild commits a generated log of realistic shape to a real SQLite
// store, applies the committed events one by one as the bus would deliver
// them (with duplicates and stale redeliveries), and checks that every
// kind of rebuild from the store gives the same views, byte for byte.
func TestRebuild(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	log := commit(t, store, projtest.Generate(t, projtest.GenConfig{Seed: 42, Accounts: 24, MinRoster: 3, MaxRoster: 40, Sessions: 3}))

	// live applies the committed log as the bus would, redelivering an
	// earlier event after every fifth one: each redelivery must change
	// nothing.
	live := projections.NewViews(domain.DefaultPolicy())
	for i := range log {
		if err := live.Apply(&log[i]); err != nil {
			t.Fatal(err)
		}
		if i%5 == 4 {
			before := ""
			if i%50 == 49 { // dumping is slow: compare in full now and then
				before = dumpOf(t, live)
			}
			for _, j := range []int{i, i / 2} {
				if err := live.Apply(&log[j]); err != nil {
					t.Fatalf("redelivery of position %d: %v", log[j].Position, err)
				}
			}
			if live.Position() != log[i].Position {
				t.Fatalf("redelivery moved position to %d, want %d", live.Position(), log[i].Position)
			}
			if before != "" && dumpOf(t, live) != before {
				t.Fatalf("redelivering positions %d and %d changed the views", log[i].Position, log[i/2].Position)
			}
		}
	}
	want := dumpOf(t, live)
	t.Logf("%d events committed, dump of %d bytes", len(log), len(want))
	checkRealistic(t, live, want)

	t.Run("whole log", func(t *testing.T) {
		v := projections.NewViews(domain.DefaultPolicy())
		var calls []uint64
		pos, err := projections.Rebuild(ctx, store, v, 0, func(n uint64) { calls = append(calls, n) })
		if err != nil {
			t.Fatal(err)
		}
		if pos != log[len(log)-1].Position {
			t.Fatalf("rebuilt to %d, log ends at %d", pos, log[len(log)-1].Position)
		}
		if got := dumpOf(t, v); got != want {
			t.Fatalf("rebuilt views differ from live ones:\n%s", firstDiff(want, got))
		}
		if len(calls) == 0 || calls[len(calls)-1] != uint64(len(log)) {
			t.Fatalf("progress calls %v, want the last to be %d", calls, len(log))
		}
	})

	t.Run("in two steps", func(t *testing.T) {
		v := projections.NewViews(domain.DefaultPolicy())
		mid := log[len(log)/3].Position
		if pos, err := projections.Rebuild(ctx, store, v, mid, nil); err != nil || pos != mid {
			t.Fatalf("first step: position %d, %v; want %d", pos, err, mid)
		}
		if _, err := projections.Rebuild(ctx, store, v, 0, nil); err != nil {
			t.Fatal(err)
		}
		if got := dumpOf(t, v); got != want {
			t.Fatalf("views rebuilt in two steps differ:\n%s", firstDiff(want, got))
		}
	})

	t.Run("as of position", func(t *testing.T) {
		for _, n := range []int{1, 17, len(log) / 2, len(log) - 1, len(log)} {
			upTo := log[n-1].Position
			v := projections.NewViews(domain.DefaultPolicy())
			pos, err := projections.Rebuild(ctx, store, v, upTo, nil)
			if err != nil || pos != upTo {
				t.Fatalf("upTo %d: position %d, %v", upTo, pos, err)
			}
			if got, want := dumpOf(t, v), dumpOf(t, applyAll(t, log[:n])); got != want {
				t.Fatalf("upTo %d: views differ from the first %d events applied:\n%s", upTo, n, firstDiff(want, got))
			}
		}
	})

	t.Run("as of instant", func(t *testing.T) {
		// The store's commit order differs from recording order (streams
		// were appended concurrently): the rebuild stops at the first
		// event recorded after the instant, in log order.
		for _, n := range []int{0, 10, len(log) / 2, len(log)} {
			until := projtest.Start().Add(-time.Hour)
			if n > 0 {
				until = log[n-1].Recorded
			}
			stop := len(log)
			for i, e := range log {
				if e.Recorded.After(until) {
					stop = i
					break
				}
			}
			v := projections.NewViews(domain.DefaultPolicy())
			if _, err := projections.RebuildUntil(ctx, store, v, until, nil); err != nil {
				t.Fatal(err)
			}
			if got, want := dumpOf(t, v), dumpOf(t, applyAll(t, log[:stop])); got != want {
				t.Fatalf("until %v: views differ from the first %d events applied:\n%s", until, stop, firstDiff(want, got))
			}
		}
	})

	t.Run("from a store without pages", func(t *testing.T) {
		// The SQLite store reads in pages (events.PageReader); a store
		// that only has ReadAll goes through Rebuild's batching.
		var plain struct{ events.Store }
		plain.Store = store
		v := projections.NewViews(domain.DefaultPolicy())
		if _, err := projections.Rebuild(ctx, plain, v, 0, nil); err != nil {
			t.Fatal(err)
		}
		if got := dumpOf(t, v); got != want {
			t.Fatalf("views rebuilt through ReadAll differ:\n%s", firstDiff(want, got))
		}
		until := log[len(log)/2].Recorded
		stop := slices.IndexFunc(log, func(e events.Envelope) bool { return e.Recorded.After(until) })
		v = projections.NewViews(domain.DefaultPolicy())
		if _, err := projections.RebuildUntil(ctx, plain, v, until, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := dumpOf(t, v), dumpOf(t, applyAll(t, log[:stop])); got != want {
			t.Fatalf("until %v through ReadAll: views differ:\n%s", until, firstDiff(want, got))
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		v := projections.NewViews(domain.DefaultPolicy())
		if _, err := projections.Rebuild(cctx, store, v, 0, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("rebuild with a cancelled context: %v", err)
		}
	})
}

// TestRebuildStopsAtBadEvent checks that an event that cannot be decoded
// ends the rebuild with an error naming it, with every event before it
// applied and none after.
func TestRebuildStopsAtBadEvent(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	good, err := events.New(events.AccountCreated{JID: "a@localhost"}, events.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	good.Recorded = projtest.Start()
	bad := events.Envelope{Type: events.TypeRosterItemSet, SchemaVersion: 1, Recorded: projtest.Start(), Data: []byte(`{"contact":7}`)}
	for _, e := range []events.Envelope{good, bad, good} {
		if _, err := store.Append(ctx, events.AccountStream("a@localhost"), events.Any, e); err != nil {
			t.Fatal(err)
		}
	}
	v := projections.NewViews(domain.DefaultPolicy())
	pos, err := projections.Rebuild(ctx, store, v, 0, nil)
	if err == nil || !strings.Contains(err.Error(), "account-a@localhost version 2") {
		t.Fatalf("rebuild over a malformed event: %v", err)
	}
	if a, _ := v.Accounts.Get("a@localhost"); pos != v.Position() || a.StreamVersion != 1 {
		t.Fatalf("after the failure: position %d (views at %d), account version %d; want version 1", pos, v.Position(), a.StreamVersion)
	}
}

// checkRealistic guards the generator: the views it yields must exercise
// every view, or the comparisons above prove little.
func checkRealistic(t *testing.T, v *projections.Views, dump string) {
	t.Helper()
	for _, s := range []string{`"Subscription": "Both"`, `"Subscription": "None + Pending In"`, `"Approved": true`,
		`"Available": true`, `"Directed": [`, `"last_unavailable"`, `"kind": "message"`, `"credentials_sha256"`} {
		if !strings.Contains(dump, s) {
			t.Errorf("generated views hold no %s", s)
		}
	}
	if len(v.OpenSessionsOnNode("node-a")) == 0 || len(v.OpenSessionsOnNode("node-b")) == 0 {
		t.Errorf("generated views leave no session open on node-a and node-b")
	}
}

// firstDiff shows where two dumps part.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			lo := max(0, i-3)
			return "line " + strconv.Itoa(i+1) + ":\nwant " + strings.Join(w[lo:i+1], "\n     ") + "\ngot  " + strings.Join(g[lo:i+1], "\n     ")
		}
	}
	return "one dump is a prefix of the other (" + strconv.Itoa(len(w)) + " and " + strconv.Itoa(len(g)) + " lines)"
}

// TestRebuildOfALongLog rebuilds from a log of many pages, long enough
// for the SQLite store to read it straight from the file and to reuse
// each page's memory once it is folded: the views must equal those of
// the events applied one by one, so nothing a view keeps may point into
// a page's memory after it is released.
func TestRebuildOfALongLog(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	log := commit(t, store, projtest.Generate(t, projtest.GenConfig{Seed: 7, Accounts: 60, MinRoster: 20, MaxRoster: 120, Sessions: 4}))
	if len(log) < 10_000 {
		t.Fatalf("only %d events: too short to exercise long reads", len(log))
	}
	want := dumpOf(t, applyAll(t, log))
	for _, upTo := range []uint64{0, log[len(log)/2].Position} {
		v := projections.NewViews(domain.DefaultPolicy())
		if _, err := projections.Rebuild(ctx, store, v, upTo, nil); err != nil {
			t.Fatal(err)
		}
		// A second rebuild reuses the first one's pages and their memory.
		if upTo == 0 {
			if got := dumpOf(t, v); got != want {
				t.Fatalf("rebuilt views differ from the events applied:\n%s", firstDiff(want, got))
			}
			continue
		}
		if got, want := dumpOf(t, v), dumpOf(t, applyAll(t, log[:len(log)/2+1])); got != want {
			t.Fatalf("rebuilt to %d: views differ:\n%s", upTo, firstDiff(want, got))
		}
	}
}

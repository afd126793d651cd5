package projections_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"testing"
	"time"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
)

// Issue 13 ("rebuilding the views is not slowed by archive events"): a
// server's views skip the archived messages when rebuilt and load each
// account's archive index from its stream when first read. What a reader
// then sees is what eagerly folded views show: the entries in archive
// order, retractions, preferences, nothing from before an erasure, and
// what was archived after the rebuild but before the load (applied live
// while the index was lazy) exactly once.
func TestLazyArchiveIndexMatchesEager(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	admin := events.Meta{Actor: "admin:root"}
	alice, bob := "alice@localhost", "bob@localhost"
	appendOne := func(stream string, p events.Payload) events.Envelope {
		t.Helper()
		e, err := events.New(p, admin)
		if err != nil {
			t.Fatal(err)
		}
		e.Recorded = time.Now().UTC()
		got, err := store.Append(ctx, stream, events.Any, e)
		if err != nil {
			t.Fatal(err)
		}
		return got[0]
	}
	stored := func(id, with string) events.ArchiveMessageStored {
		return events.ArchiveMessageStored{ID: id, With: with, Direction: events.ArchiveIn}
	}
	appendOne(events.AccountStream(alice), events.AccountCreated{})
	appendOne(events.AccountStream(bob), events.AccountCreated{})
	appendOne(events.ArchiveStream(alice), stored("a-old", bob+"/pc"))
	appendOne(events.AccountStream(alice), events.AccountErased{Keys: 1})
	appendOne(events.AccountStream(alice), events.AccountDeleted{Reason: "erased"})
	appendOne(events.AccountStream(alice), events.AccountCreated{})
	appendOne(events.ArchiveStream(alice), stored("a1", bob+"/pc"))
	appendOne(events.ArchiveStream(alice), events.ArchivePrefsSet{Default: "roster"})
	appendOne(events.ArchiveStream(bob), stored("b1", alice+"/phone"))
	appendOne(events.ArchiveStream(bob), stored("b2", alice+"/phone"))
	appendOne(events.ArchiveStream(bob), events.ArchiveMessageRetracted{ID: "b1", By: alice})

	lazy := projections.NewViews(domain.DefaultPolicy())
	lazy.LoadArchivesLazily(store)
	if _, err := projections.Rebuild(ctx, store, lazy, 0, nil); err != nil {
		t.Fatal(err)
	}
	// Archived after the rebuild, applied live while alice's index is
	// still lazy: the load must show it, once.
	if err := lazy.Apply(ptr(appendOne(events.ArchiveStream(alice), stored("a2", bob+"/pc")))); err != nil {
		t.Fatal(err)
	}
	eager := projections.NewViews(domain.DefaultPolicy())
	if _, err := projections.Rebuild(ctx, store, eager, 0, nil); err != nil {
		t.Fatal(err)
	}

	if p, ok := lazy.ArchivePrefs(alice); !ok || p.Default != "roster" {
		t.Errorf("alice's preferences before any load: %+v %v, want default roster (folded at the rebuild)", p, ok)
	}
	for _, who := range []string{alice, bob} {
		want, err := eager.QueryArchive(who, projections.ArchiveQuery{Max: -1}, 100)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lazy.QueryArchive(who, projections.ArchiveQuery{Max: -1}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), ids(want)) || len(got.Retracted) != len(want.Retracted) {
			t.Errorf("%s: lazy index %v (retracted %v), eager %v (retracted %v)", who, ids(got), got.Retracted, ids(want), want.Retracted)
		}
	}
	if got, _ := lazy.QueryArchive(alice, projections.ArchiveQuery{Max: -1}, 100); !slices.Equal(ids(got), []string{"a1", "a2"}) {
		t.Errorf("alice's archive after her erasure and return: %v, want a1 a2", ids(got))
	}
	if got, _ := lazy.QueryArchive(bob, projections.ArchiveQuery{Max: -1}, 100); got.Retracted["b1"].By != alice {
		t.Errorf("bob's b1 retraction after the load: %+v", got.Retracted)
	}
	// Loaded: what is archived now is folded live.
	if err := lazy.Apply(ptr(appendOne(events.ArchiveStream(bob), stored("b3", alice+"/phone")))); err != nil {
		t.Fatal(err)
	}
	if n, _ := lazy.ArchiveLen(bob); n != 3 {
		t.Errorf("bob's index after a live message: %d entries, want 3", n)
	}
}

// WarmArchives loads every index the rebuild left lazy.
func TestWarmArchivesLoadsEveryIndex(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	for i, who := range []string{"alice@localhost", "bob@localhost"} {
		e, _ := events.New(events.ArchiveMessageStored{ID: "m" + string(rune('0'+i)), With: "x@localhost", Direction: events.ArchiveIn}, events.Meta{})
		e.Recorded = time.Now().UTC()
		if _, err := store.Append(ctx, events.ArchiveStream(who), events.Any, e); err != nil {
			t.Fatal(err)
		}
	}
	v := projections.NewViews(domain.DefaultPolicy())
	v.LoadArchivesLazily(failingReader{})
	if _, err := projections.Rebuild(ctx, store, v, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := v.WarmArchives(ctx); err == nil {
		t.Fatal("WarmArchives read nothing: the rebuild did not leave the indexes lazy")
	}
	v.LoadArchivesLazily(store)
	if err := v.WarmArchives(ctx); err != nil {
		t.Fatal(err)
	}
	v.LoadArchivesLazily(failingReader{}) // a loaded index reads no more
	for _, who := range []string{"alice@localhost", "bob@localhost"} {
		if n, err := v.ArchiveLen(who); n != 1 || err != nil {
			t.Errorf("%s after WarmArchives: %d entries, %v", who, n, err)
		}
	}
}

func ids(p projections.ArchivePage) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

func ptr(e events.Envelope) *events.Envelope { return &e }

// failingReader is a stream reader whose every read fails.
type failingReader struct{}

func (failingReader) ReadStream(context.Context, string, uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		yield(events.Envelope{}, errors.New("failingReader: read"))
	}
}

package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// TestSubscribeOwnAndOutsideCommitsInterleaved: a live subscription hands
// this store's own commits on from memory and reads another store's
// (another process's) from the file. Appends from both, interleaved and
// concurrent, with a subscriber that falls far behind (past what memory
// holds) for a while, must still reach it once each, in position order,
// each envelope equal to the one read back from the file.
func TestSubscribeOwnAndOutsideCommitsInterleaved(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "shared.db")
	own := openTemp(t, sqlite.Config{Path: path})
	defer own.Close()
	other := openTemp(t, sqlite.Config{Path: path})
	defer other.Close()

	// Local times with a monotonic reading: what is handed on from
	// memory must still equal what the file gives back (UTC).
	meta := storetest.FullMeta()
	appendN := func(s *sqlite.Store, stream string, n int) {
		evs := storetest.Envelopes(t, n, meta)
		for i := range evs {
			evs[i].Recorded = time.Now().Local()
		}
		if _, err := s.Append(ctx, stream, events.Any, evs...); err != nil {
			t.Error(err)
		}
	}

	got := make(chan events.Envelope, 1<<16)
	stall := make(chan struct{})
	subErr := make(chan error, 1)
	go func() {
		first := true
		for e, err := range own.Subscribe(ctx, 1) {
			if err != nil {
				subErr <- err
				return
			}
			got <- e
			if first {
				first = false
				<-stall // fall behind while thousands are committed
			}
		}
	}()

	appendN(own, "account-first@example.com", 1)
	// Behind by more than the store keeps in memory.
	for i := range 60 {
		appendN(own, fmt.Sprintf("account-bulk%d@example.com", i%7), 100)
	}
	appendN(other, "account-outside@example.com", 3)
	close(stall)

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				appendN(own, fmt.Sprintf("account-own%d@example.com", g), 1+i%3)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 30 {
			appendN(other, "account-outside@example.com", 1+i%2)
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	if t.Failed() {
		return
	}

	var want []events.Envelope
	for e, err := range own.ReadAll(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	for i, w := range want {
		select {
		case e := <-got:
			if e.Position != w.Position {
				t.Fatalf("event %d: position %d, want %d (each once, in order)", i, e.Position, w.Position)
			}
			if !reflect.DeepEqual(e, w) {
				t.Fatalf("position %d: subscriber got\n%+v\nfile holds\n%+v", e.Position, e, w)
			}
		case err := <-subErr:
			t.Fatalf("subscription failed after %d of %d: %v", i, len(want), err)
		case <-ctx.Done():
			t.Fatalf("subscription got %d of %d events", i, len(want))
		}
	}
	// Nothing more: a marker from the other store is the next one seen.
	appendN(other, "account-marker@example.com", 1)
	select {
	case e := <-got:
		if e.Stream != "account-marker@example.com" || e.Position != want[len(want)-1].Position+1 {
			t.Fatalf("after the last event: got %s at %d, want the marker at %d", e.Stream, e.Position, want[len(want)-1].Position+1)
		}
	case <-ctx.Done():
		t.Fatal("the marker never arrived")
	}
	t.Logf("%d events, %d from the other store", len(want)+1, 3+45+1)
}

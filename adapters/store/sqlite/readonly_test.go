package sqlite_test

import (
	"github.com/google/uuid"

	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// TestReadOnly proves a read-only store refuses a missing file and
// appends, reads while the writer keeps appending (without blocking it),
// sees those appends live, and leaves an auditor's copy byte for byte.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ro.db")

	if _, err := sqlite.Open(ctx, sqlite.Config{Path: path, ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing file succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only open created the file: %v", err)
	}

	w := openTemp(t, sqlite.Config{Path: path})
	defer w.Close()
	if _, err := w.Append(ctx, "account-a@example.com", events.NoStream, storetest.Envelopes(t, 10, storetest.FullMeta())...); err != nil {
		t.Fatal(err)
	}
	ro := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	defer ro.Close()
	if _, err := ro.Append(ctx, "account-a@example.com", events.Any, storetest.Envelopes(t, 1, storetest.FullMeta())...); err == nil {
		t.Fatal("read-only Append succeeded")
	}

	subCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	seen := make(chan int, 1)
	go func() {
		n := 0
		for _, err := range ro.Subscribe(subCtx, 0) {
			if err != nil {
				break
			}
			if n++; n == 30 {
				break
			}
		}
		seen <- n
	}()
	// A reader holding the log open must not stall the writer.
	for range 20 {
		ctxW, cancelW := context.WithTimeout(ctx, 2*time.Second)
		_, err := w.Append(ctxW, "account-a@example.com", events.Any, storetest.Envelopes(t, 1, storetest.FullMeta())...)
		cancelW()
		if err != nil {
			t.Fatalf("writer beside a reader: %v", err)
		}
	}
	if n := <-seen; n != 30 {
		t.Fatalf("read-only subscriber saw %d events, want 30", n)
	}
	ro.Close()
	w.Close()

	// An auditor's copy, opened by nobody else: reading it read-only must
	// leave its bytes as they were.
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	audit := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
	n := 0
	for _, err := range audit.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	audit.Close()
	if n != 30 {
		t.Fatalf("read %d events, want 30", n)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("a read-only store changed the database file")
	}
}

// TestIDs checks the event IDs the store keeps: a caller's own ID is kept
// as given, and every ID the store makes is a distinct version 7 UUID
// (time first, so that IDs sort roughly in commit order). The store does
// not look for a caller's ID among the events already written: like
// EventStoreDB outside its idempotency window, it leaves that to the
// caller, and xmppd itself never supplies IDs.
func TestIDs(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, sqlite.Config{})
	defer s.Close()
	mine := storetest.Envelopes(t, 3, storetest.FullMeta())
	mine[1].ID = "0192f7e4-1111-7222-8333-944455556666"
	mine[0].ID, mine[2].ID = "", ""
	out, err := s.Append(ctx, "account-ids@example.com", events.NoStream, mine...)
	if err != nil {
		t.Fatal(err)
	}
	if out[1].ID != mine[1].ID {
		t.Errorf("caller's ID became %q", out[1].ID)
	}
	seen := map[string]bool{}
	for e, err := range s.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[e.ID] {
			t.Errorf("ID %s repeated", e.ID)
		}
		seen[e.ID] = true
		if e.ID == mine[1].ID {
			continue
		}
		id, err := uuid.Parse(e.ID)
		if err != nil || id.Version() != 7 {
			t.Errorf("store-made ID %q is not a version 7 UUID (%v)", e.ID, err)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("read %d events, want 3", len(seen))
	}
}

package sqlite_test

import (
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

// TestDuplicateIDFailsAlone appends, among concurrent appends, one whose
// event ID already exists: it fails without conflict, and every other
// append in the same group commit succeeds.
func TestDuplicateIDFailsAlone(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, sqlite.Config{})
	defer s.Close()
	first, err := s.Append(ctx, "account-dup@example.com", events.NoStream, storetest.Envelopes(t, 1, storetest.FullMeta())...)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		errs := make(chan error, 9)
		for range 8 {
			go func() {
				_, err := s.Append(ctx, "account-ok@example.com", events.Any, storetest.Envelopes(t, 2, storetest.FullMeta())...)
				errs <- err
			}()
		}
		dup := storetest.Envelopes(t, 2, storetest.FullMeta())
		dup[1].ID = first[0].ID
		_, dupErr := s.Append(ctx, "account-other@example.com", events.Any, dup...)
		if dupErr == nil || errors.Is(dupErr, events.ErrConflict) {
			t.Fatalf("round %d: duplicate ID: err = %v, want a non-conflict error", round, dupErr)
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: innocent append failed: %v", round, err)
			}
		}
	}
	c := checkFile(t, s.Path())
	if c.Events != 1+20*8*2 {
		t.Fatalf("log holds %d events, want %d", c.Events, 1+20*8*2)
	}
}

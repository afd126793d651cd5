package keystore_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xmppd/adapters/keystore"
	"xmppd/events"
)

// Issue 13 "Personal content encrypted under keys outside the log": one
// key per account and month, made on first use, durable, and destroyed
// for good.
func TestKeysAreMadeOnceKeptAndDestroyed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := keystore.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	dec := events.KeyID{Account: "alice@localhost", Period: "2026-12"}
	nov := events.KeyID{Account: "alice@localhost", Period: "2026-11"}
	bob := events.KeyID{Account: "bob@localhost", Period: "2026-12"}
	k1, err := s.Key(dec)
	if err != nil || len(k1) != 32 {
		t.Fatalf("Key = %d bytes, %v", len(k1), err)
	}
	k2, _ := s.Key(nov)
	kb, _ := s.Key(bob)
	if bytes.Equal(k1, k2) || bytes.Equal(k1, kb) {
		t.Fatal("two periods or two accounts share a key")
	}
	s.Close()

	// Another process (replay, audit) reads the same keys.
	r, err := keystore.Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if k, gone, err := r.Lookup(dec); err != nil || gone != "" || !bytes.Equal(k, k1) {
		t.Fatalf("read-only Lookup = %x %q %v, want the key made", k, gone, err)
	}
	if _, gone, _ := r.Lookup(events.KeyID{Account: "carol@localhost", Period: "2026-12"}); gone != events.GoneMissing {
		t.Errorf("never made: gone = %q, want %q", gone, events.GoneMissing)
	}
	r.Close()

	s, err = keystore.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if k, _ := s.Key(dec); !bytes.Equal(k, k1) {
		t.Fatal("reopened store made a new key")
	}
	periods, err := s.Destroy("alice@localhost", events.GoneErased)
	if err != nil {
		t.Fatal(err)
	}
	if len(periods) != 2 || periods[0] != "2026-11" || periods[1] != "2026-12" {
		t.Errorf("destroyed %v, want [2026-11 2026-12]", periods)
	}
	for _, id := range []events.KeyID{dec, nov} {
		if k, gone, err := s.Lookup(id); err != nil || gone != events.GoneErased || k != nil {
			t.Errorf("Lookup(%s) after erasure = %x %q %v", id, k, gone, err)
		}
	}
	if _, err := s.Key(dec); err == nil {
		t.Error("Key made a new key for an erased account's month")
	}
	if k, gone, _ := s.Lookup(bob); gone != "" || !bytes.Equal(k, kb) {
		t.Error("erasing alice touched bob's key")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, k1) || bytes.Contains(raw, k2) {
		t.Error("the destroyed key's bytes are still in the key file")
	}
	if !bytes.Contains(raw, kb) {
		t.Error("bob's key is not in the file as stored bytes: the check above proves nothing")
	}
	if _, err := os.Stat(path + "-journal"); !os.IsNotExist(err) {
		t.Errorf("a journal is left beside the key file: %v", err)
	}
}

// A store opened read-only over no file opens nothing and makes nothing.
func TestReadOnlyWithoutFile(t *testing.T) {
	s, err := keystore.Open(filepath.Join(t.TempDir(), "keys.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Key(events.KeyID{Account: "a@localhost", Period: events.PeriodOf(time.Now())}); err == nil {
		t.Error("a read-only store made a key")
	}
}

package keystore_test

import (
	"bytes"
	"crypto/cipher"
	"os"
	"path/filepath"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/keystore"
	"xmppd/events"
)

// same reports whether a and b are the cipher of one key: what a seals,
// b opens.
func same(a, b cipher.AEAD) bool {
	if a == nil || b == nil {
		return false
	}
	nonce := make([]byte, a.NonceSize())
	_, err := b.Open(nil, nonce, a.Seal(nil, nonce, []byte("x"), nil), nil)
	return err == nil
}

// rawKeys reads every key's bytes from the file, as an attacker with the
// file would.
func rawKeys(t *testing.T, path string) map[string][]byte {
	t.Helper()
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	out := map[string][]byte{}
	err = sqlitex.Execute(conn, `SELECT account || ' ' || period, key FROM keys`, &sqlitex.ExecOptions{ResultFunc: func(st *sqlite.Stmt) error {
		k := make([]byte, st.ColumnLen(1))
		st.ColumnBytes(1, k)
		out[st.ColumnText(0)] = k
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

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
	id, k1, err := s.Key(dec)
	if err != nil || id != dec {
		t.Fatalf("Key(%s) = %s, %v", dec, id, err)
	}
	_, k2, _ := s.Key(nov)
	_, kb, _ := s.Key(bob)
	if same(k1, k2) || same(k1, kb) {
		t.Fatal("two periods or two accounts share a key")
	}
	s.Close()
	raw := rawKeys(t, path)
	if len(raw) != 3 || len(raw["alice@localhost 2026-12"]) != 32 {
		t.Fatalf("key file holds %d keys, alice's December one of %d bytes", len(raw), len(raw["alice@localhost 2026-12"]))
	}

	// Another process (replay, audit) reads the same keys.
	r, err := keystore.Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if k, gone, err := r.Lookup(dec); err != nil || gone != "" || !same(k, k1) {
		t.Fatalf("read-only Lookup = %q %v, want the key made", gone, err)
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
	if _, k, _ := s.Key(dec); !same(k, k1) {
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
			t.Errorf("Lookup(%s) after erasure = %v %q %v", id, k, gone, err)
		}
	}
	// The address registered again the same month: new content is sealed
	// under a new generation, and the erased key stays erased.
	id2, k3, err := s.Key(dec)
	if err != nil || id2.Period != "2026-12~2" || same(k3, k1) {
		t.Errorf("Key after erasure = %s, same key %v, %v; want a new key 2026-12~2", id2, same(k3, k1), err)
	}
	if _, gone, _ := s.Lookup(dec); gone != events.GoneErased {
		t.Errorf("the erased key reads as %q after a new generation", gone)
	}
	if k, gone, _ := s.Lookup(bob); gone != "" || !same(k, kb) {
		t.Error("erasing alice touched bob's key")
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, raw["alice@localhost 2026-12"]) || bytes.Contains(file, raw["alice@localhost 2026-11"]) {
		t.Error("the destroyed key's bytes are still in the key file")
	}
	if !bytes.Contains(file, raw["bob@localhost 2026-12"]) {
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
	if _, _, err := s.Key(events.KeyID{Account: "a@localhost", Period: events.PeriodOf(time.Now())}); err == nil {
		t.Error("a read-only store made a key")
	}
}

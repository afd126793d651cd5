package keystore_test

import (
	"path/filepath"
	"strings"
	"testing"

	"xmppd/adapters/keystore"
	"xmppd/events"
)

// A tagged key file (one made beside a log another file sealed) names
// every key it makes "<period>~<tag>", never the plain id another file
// may hold, keeps the tag across opens, and its periods still end when
// the period does (retention reads the part before "~").
func TestTaggedKeysAreNamedApart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := keystore.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	month := events.KeyID{Account: "alice@localhost", Period: "2026-12"}
	if err := s.TagNewKeys(); err != nil {
		t.Fatal(err)
	}
	id, k1, err := s.Key(month)
	if err != nil || id.Account != month.Account || !strings.HasPrefix(id.Period, "2026-12~") || len(id.Period) <= len("2026-12~") {
		t.Fatalf("Key(%s) in a tagged file = %s, %v; want 2026-12~<tag>", month, id, err)
	}
	if _, gone, _ := s.Lookup(month); gone != events.GoneMissing {
		t.Errorf("the plain id %s reads as %q in a tagged file, want missing", month, gone)
	}
	if end, err := events.PeriodEnd(id.Period); err != nil || end.Format("2006-01-02") != "2027-01-01" {
		t.Errorf("PeriodEnd(%s) = %v, %v", id.Period, end, err)
	}
	s.Close()

	s, err = keystore.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id2, k2, err := s.Key(month)
	if err != nil || id2 != id || !same(k2, k1) {
		t.Fatalf("reopened tagged file: Key = %s, %v; want the same key %s", id2, err, id)
	}
	if _, err := s.Destroy("alice@localhost", events.GoneErased); err != nil {
		t.Fatal(err)
	}
	id3, _, err := s.Key(month)
	if err != nil || id3 == id || !strings.HasPrefix(id3.Period, id.Period+".") {
		t.Errorf("Key after erasure in a tagged file = %s, %v; want a new generation %s.2", id3, err, id.Period)
	}
}

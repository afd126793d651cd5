package keystore_test

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/keystore"
	"xmppd/events"
)

// Retention destroys only the keys whose period is over: Due lists them
// by the end of their period, whatever period they were made under, and
// DestroyPeriods destroys those named, as expired, leaving the rest.
func TestDueAndDestroyPeriods(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := keystore.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := events.ParseKeyPeriod("2s")
	s.SetPeriod(p)
	t0 := time.Date(2026, 12, 8, 14, 0, 0, 0, time.UTC)
	var ids []events.KeyID
	for i := range 3 {
		id := events.KeyID{Account: "alice@localhost", Period: s.PeriodName(t0.Add(time.Duration(2*i) * time.Second))}
		if _, _, err := s.Key(id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	month := events.KeyID{Account: "bob@localhost", Period: "2026-11"} // a month key, as before keys.period
	s.Key(month)

	due, err := s.Due(t0.Add(4 * time.Second)) // the first two 2s periods are over
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"alice@localhost": {ids[0].Period, ids[1].Period}, "bob@localhost": {"2026-11"}}
	if !reflect.DeepEqual(due, want) {
		t.Fatalf("Due = %v, want %v", due, want)
	}
	done, err := s.DestroyPeriods("alice@localhost", []string{ids[0].Period, ids[1].Period, "1999-01"}, events.GoneExpired)
	if err != nil || len(done) != 2 {
		t.Fatalf("DestroyPeriods = %v, %v; want the two periods", done, err)
	}
	for i, id := range ids {
		_, gone, _ := s.Lookup(id)
		if want := map[bool]string{true: events.GoneExpired, false: ""}[i < 2]; gone != want {
			t.Errorf("key %s reads as %q after expiry, want %q", id, gone, want)
		}
	}
	if due, _ := s.Due(t0.Add(4 * time.Second)); len(due["alice@localhost"]) != 0 {
		t.Errorf("destroyed keys are still due: %v", due)
	}
	s.Close()

	// A key file from before the ends column: Open adds and fills it.
	old := filepath.Join(t.TempDir(), "old.db")
	conn, err := sqlite.OpenConn(old, sqlite.OpenReadWrite|sqlite.OpenCreate)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE keys (account TEXT NOT NULL, period TEXT NOT NULL, key BLOB, gone TEXT NOT NULL DEFAULT '',
		created TEXT NOT NULL, destroyed TEXT, PRIMARY KEY (account, period)) WITHOUT ROWID`,
		`INSERT INTO keys VALUES ('carol@localhost', '2026-10', zeroblob(32), '', '2026-10-01T00:00:00Z', NULL)`} {
		if err := sqlitex.ExecuteTransient(conn, q, nil); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	s, err = keystore.Open(old, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if due, _ := s.Due(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); !reflect.DeepEqual(due, map[string][]string{"carol@localhost": {"2026-10"}}) {
		t.Errorf("old file: Due(November 1st) = %v, want carol's October key", due)
	}
	if due, _ := s.Due(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)); len(due) != 0 {
		t.Errorf("old file: Due(October 31st) = %v, want nothing", due)
	}
}

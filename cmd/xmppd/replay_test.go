package main_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
)

// TestReplayUsageErrors: every malformed replay or audit command line
// exits 2 saying what is wrong, before touching the log.
func TestReplayUsageErrors(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	cases := []struct {
		name string
		argv []string
		want string
	}{
		{"no moment", []string{"replay"}, "--at"},
		{"bad moment", []string{"replay", "--at", "yesterday"}, "neither a log position nor an RFC 3339 time"},
		{"bad format", []string{"replay", "--at", "1", "--format", "xml"}, "--format"},
		{"diff with one moment", []string{"replay", "--diff", "1"}, "two moments"},
		{"diff with --at", []string{"replay", "--diff", "--at", "1", "1", "2"}, "two moments"},
		{"user with resource", []string{"replay", "--at", "1", "--user", "alice@localhost/x"}, "resource"},
		{"audit bad since", []string{"audit", "--user", "alice@localhost", "--since", "noon"}, "--since"},
		{"audit bad format", []string{"audit", "--user", "alice@localhost", "--format", "xml"}, "--format"},
		{"explain without contact", []string{"audit", "--explain", "--user", "alice@localhost"}, "--contact"},
		{"at without explain", []string{"audit", "--user", "alice@localhost", "--at", "1"}, "--explain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := xmppd(t, dir, "", tc.argv...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d stderr %q; want exit 2 mentioning %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

// TestReplayOfAdminHistory: accounts made and deleted with the command
// line replay as they were at each position, and replay never writes.
func TestReplayOfAdminHistory(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw") // positions 1, 2
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "pw")   // 3, 4
	mustRun(t, dir, "", "user", "del", "bob@localhost")                       // 5
	cases := []struct {
		at   string
		want []string // accounts listed, with existence
	}{
		{"1", []string{"alice@localhost true"}},
		{"4", []string{"alice@localhost true", "bob@localhost true"}},
		{"5", []string{"alice@localhost true", "bob@localhost false"}},
	}
	for _, tc := range cases {
		states := readStates(t, mustRun(t, dir, "", "replay", "--at", tc.at, "--format", "json").stdout)
		var got []string
		for _, s := range states {
			got = append(got, s.JID+" "+map[bool]string{true: "true", false: "false"}[s.Exists])
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("--at %s: %q, want %q", tc.at, got, tc.want)
		}
	}
	before := len(readJSONL(t, mustRun(t, dir, "", "export").stdout))
	mustRun(t, dir, "", "replay", "--at", "5")
	mustRun(t, dir, "", "audit", "--user", "bob@localhost")
	if after := len(readJSONL(t, mustRun(t, dir, "", "export").stdout)); after != before {
		t.Errorf("replay and audit changed the log: %d events, then %d", before, after)
	}
	text := mustRun(t, dir, "", "audit", "--user", "bob@localhost").stdout
	for _, want := range []string{"account created", "credentials set", "account deleted", "admin:"} {
		if !strings.Contains(text, want) {
			t.Errorf("bob's story lacks %q:\n%s", want, text)
		}
	}
}

// TestVerifyRebuildsViews: verify rebuilds every projection after the
// chain checks, says what it rebuilt, and names an event the views cannot
// apply.
func TestVerifyRebuildsViews(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "pw")
	r := mustRun(t, dir, "", "verify")
	if !strings.Contains(r.stdout, "rebuilt views to position 4: 2 accounts, 0 roster items, 0 open sessions, 0 offline stanzas") {
		t.Errorf("verify did not report the rebuild:\n%s", r.stdout)
	}
	// A payload that is not JSON of its type: the chain check names it,
	// and so does the rebuild.
	tamper(t, filepath.Join(dir, "data", "xmppd.db"), []string{
		`UPDATE events SET envelope = json_set(envelope, '$.data', json('{"jid": 5}')) WHERE stream = 'account-bob@localhost' AND version = 1`})
	r = xmppd(t, dir, "", "verify")
	want := "stream account-bob@localhost version 1 (position 3): cannot be replayed"
	if r.code != 1 || !strings.Contains(r.stdout, want) {
		t.Fatalf("exit %d, want 1 naming %q:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	// One problem from the chain check (the hash), one from the rebuild.
	if !strings.Contains(r.stdout, "FAILED: 2 problem(s)") {
		t.Errorf("problems miscounted:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "rebuilt views to position 4: 1 accounts") {
		t.Errorf("the rebuild did not go on past the bad event:\n%s", r.stdout)
	}
}

// TestVerifySaysUnreadableForANewerSchema appends, through the store and
// with a valid hash, an event of a schema version this xmppd does not know,
// as a newer xmppd would: verify must not call the log altered (the chains
// are intact) but must say it cannot read that event, and exit 1.
func TestVerifySaysUnreadableForANewerSchema(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "data", "xmppd.db")})
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.New(events.SessionEnded{Resource: "laptop", Cause: events.EndClientClosed}, events.Meta{Actor: "alice@localhost/laptop"})
	if err != nil {
		t.Fatal(err)
	}
	e.SchemaVersion, e.Recorded = 99, time.Now()
	out, err := s.Append(context.Background(), events.PresenceStream("alice@localhost"), events.Any, e)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	r := xmppd(t, dir, "", "verify")
	want := fmt.Sprintf("UNREADABLE: stream presence-alice@localhost version 1 (position %d): ", out[0].Position)
	if r.code != 1 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "newer") || strings.Contains(r.stdout, "ALTERED") {
		t.Fatalf("exit %d, want 1, %q and no ALTERED:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
}

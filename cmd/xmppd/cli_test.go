package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/events"
)

// xmppdBin is the binary built once for every test here: the tests run it
// as a user would, as a separate process on a real SQLite file.
var xmppdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xmppd-cli")
	if err != nil {
		panic(err)
	}
	xmppdBin = filepath.Join(dir, "xmppd")
	if out, err := exec.Command("go", "build", "-o", xmppdBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build xmppd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// xmppd runs the binary in dir with no configuration file, so the defaults
// apply (./data/xmppd.db).
func xmppd(t *testing.T, dir, stdin string, argv ...string) result {
	t.Helper()
	cmd := exec.Command(xmppdBin, argv...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XMPPD_NODE=test-node")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func mustRun(t *testing.T, dir, stdin string, argv ...string) result {
	t.Helper()
	r := xmppd(t, dir, stdin, argv...)
	if r.code != 0 {
		t.Fatalf("xmppd %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(argv, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func TestUserCommandsOnTheDefaultStore(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw-alice")
	mustRun(t, dir, "bob-secret\n", "user", "add", "Bob@localhost", "--password-stdin")
	mustRun(t, dir, "", "user", "add", "ñoño@localhost", "--password", "pw")
	if _, err := os.Stat(filepath.Join(dir, "data", "xmppd.db")); err != nil {
		t.Fatalf("default store not created: %v", err)
	}

	list := mustRun(t, dir, "", "user", "list")
	for _, want := range []string{"alice@localhost", "bob@localhost", "ñoño@localhost"} {
		if !strings.Contains(list.stdout, want) {
			t.Errorf("user list misses %s (RFC 7622 case-maps localparts):\n%s", want, list.stdout)
		}
	}

	mustRun(t, dir, "", "user", "passwd", "alice@localhost", "--password", "new")
	mustRun(t, dir, "", "user", "del", "bob@localhost")
	list = mustRun(t, dir, "", "user", "list")
	if strings.Contains(list.stdout, "bob@localhost") {
		t.Errorf("deleted account still listed:\n%s", list.stdout)
	}
	// A deleted account can be created again; its stream goes on.
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "again")

	errorCases := []struct {
		name string
		argv []string
		code int
		want string
	}{
		{"duplicate account", []string{"user", "add", "alice@localhost", "--password", "x"}, 1, "already exists"},
		{"invalid JID", []string{"user", "add", "al ice@localhost", "--password", "x"}, 2, "not a valid JID"},
		{"no localpart", []string{"user", "add", "localhost", "--password", "x"}, 2, "no localpart"},
		{"resource", []string{"user", "add", "carol@localhost/phone", "--password", "x"}, 2, "has a resource"},
		{"other domain", []string{"user", "add", "carol@example.org", "--password", "x"}, 2, "not on this server's domain"},
		{"no password", []string{"user", "add", "carol@localhost"}, 2, "--password"},
		{"empty password", []string{"user", "add", "carol@localhost", "--password-stdin"}, 2, "no password"},
		{"passwd of unknown account", []string{"user", "passwd", "nobody@localhost", "--password", "x"}, 1, "no account"},
		{"del of unknown account", []string{"user", "del", "nobody@localhost"}, 1, "no account"},
		{"missing argument", []string{"user", "add"}, 2, "arg"},
		{"unknown flag", []string{"user", "list", "--frobnicate"}, 2, "unknown flag"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			r := xmppd(t, dir, "", tc.argv...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}

	// Credentials are stored as SCRAM keys only: the password is nowhere in
	// the log.
	exp := mustRun(t, dir, "", "export", "--format", "jsonl")
	for _, pw := range []string{"pw-alice", "bob-secret", "again"} {
		if strings.Contains(exp.stdout, pw) {
			t.Errorf("password %q appears in the exported log", pw)
		}
	}
	if v := mustRun(t, dir, "", "verify"); !strings.Contains(v.stdout, "OK") {
		t.Errorf("verify of an untouched log: %s", v.stdout)
	}
}

func TestExportWritesEveryEnvelopeInOrder(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"a", "b", "c"} {
		mustRun(t, dir, "", "user", "add", u+"@localhost", "--password", "pw")
	}
	all := readJSONL(t, mustRun(t, dir, "", "export", "--format", "jsonl").stdout)
	if len(all) != 6 { // account.created + credentials_set per account
		t.Fatalf("exported %d events, want 6", len(all))
	}
	checker := events.NewChainChecker()
	for i, e := range all {
		if i > 0 && e.Position <= all[i-1].Position {
			t.Errorf("position %d after %d", e.Position, all[i-1].Position)
		}
		if err := checker.Check(&e); err != nil {
			t.Errorf("exported envelope does not verify: %v", err)
		}
		if e.Actor == "" || !strings.HasPrefix(e.Actor, "admin:") || e.Node != "test-node" {
			t.Errorf("provenance missing: actor %q node %q", e.Actor, e.Node)
		}
		if age := time.Since(e.Recorded); age < 0 || age > time.Minute {
			t.Errorf("recorded %v is not the time of the command", e.Recorded)
		}
	}
	since := readJSONL(t, mustRun(t, dir, "", "export", "--format", "jsonl", "--since", fmt.Sprint(all[3].Position)).stdout)
	if len(since) != 3 || since[0].ID != all[3].ID {
		t.Fatalf("--since %d gave %d events starting %v", all[3].Position, len(since), since)
	}
	if r := xmppd(t, dir, "", "export", "--format", "csv"); r.code != 2 {
		t.Errorf("unknown format: exit %d", r.code)
	}
}

func readJSONL(t *testing.T, s string) []events.Envelope {
	t.Helper()
	var out []events.Envelope
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e events.Envelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// TestVerifyFindsTampering changes the SQLite file behind xmppd's back, as
// someone with write access to the file would, and expects verify to exit
// 1 naming the stream and version, and 0 on the untouched log.
func TestVerifyFindsTampering(t *testing.T) {
	const stream = "account-alice@localhost"
	cases := []struct {
		name    string
		sql     []string
		version int
	}{
		{"one byte of one event's data", []string{
			`UPDATE events SET envelope = replace(envelope, 'SCRAM-SHA-1', 'SCRAM-SHA-2') WHERE stream = '` + stream + `' AND version = 2`}, 2},
		{"the actor rewritten with json_set", []string{
			`UPDATE events SET envelope = json_set(envelope, '$.actor', 'admin:mallory') WHERE stream = '` + stream + `' AND version = 3`}, 3},
		{"an event deleted", []string{
			`DELETE FROM events WHERE stream = '` + stream + `' AND version = 2`}, 3},
		// alice's events 2 and 3 sit at positions 2 and 5 (bob's are 3, 4).
		{"two events swapped", []string{
			`UPDATE events SET position = -position WHERE stream = '` + stream + `' AND version IN (2, 3)`,
			`UPDATE events SET position = 5 WHERE position = -2`,
			`UPDATE events SET position = 2 WHERE position = -5`}, 2},
		{"the stream's tail truncated", []string{
			`DELETE FROM events WHERE stream = '` + stream + `' AND version = 3`}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
			mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "pw")
			mustRun(t, dir, "", "user", "passwd", "alice@localhost", "--password", "pw2")
			if r := xmppd(t, dir, "", "verify"); r.code != 0 {
				t.Fatalf("untouched log: exit %d\n%s", r.code, r.stdout)
			}
			tamper(t, filepath.Join(dir, "data", "xmppd.db"), tc.sql)
			r := xmppd(t, dir, "", "verify")
			want := fmt.Sprintf("stream %s version %d", stream, tc.version)
			if r.code != 1 || !strings.Contains(r.stdout, want) {
				t.Fatalf("exit %d, want 1 naming %q:\n%s%s", r.code, want, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout, "bob@localhost") {
				t.Errorf("an untouched stream was reported:\n%s", r.stdout)
			}
		})
	}
}

func tamper(t *testing.T, path string, stmts []string) {
	t.Helper()
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if err := sqlitex.ExecuteTransient(conn, s, nil); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if conn.Changes() == 0 {
			t.Fatalf("%s changed nothing", s)
		}
	}
}

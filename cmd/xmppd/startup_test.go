package main_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// The start-up checks of `xmppd serve` on its log (issue 10, items 5, 7
// and 8), through the real binary on a real SQLite file.

// runBounded runs xmppd in dir with extra environment and gives up after
// 20s: a command expected to refuse at once must not hang a test by
// serving instead.
func runBounded(t *testing.T, dir string, env []string, argv ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, xmppdBin, argv...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "XMPPD_NODE=test-node"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("xmppd %s still running after 20s:\n%s", strings.Join(argv, " "), errb.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// freePorts is the environment that keeps a serve that should have
// refused off the default ports.
func freePorts(t *testing.T) []string {
	return []string{"XMPPD_C2S_STARTTLS_ADDR=" + freePort(t), "XMPPD_C2S_TLS_ADDR=" + freePort(t), "XMPPD_METRICS_ADDR=" + freePort(t)}
}

// rosterSet adds jid to the logged-in client's roster and returns the
// type of the server's answer (RFC 6121 2.3.2: result, after the push).
func (c *rawXMPP) rosterSet(id, jid string) string {
	c.t.Helper()
	c.send(`<iq type='set' id='` + id + `'><query xmlns='jabber:iq:roster'><item jid='` + jid + `' name='x'/></query></iq>`)
	return c.await("iq", id).attr("type")
}

// TestSecondServeIsRefused starts a server with a client logged in, then
// a second server on the same data directory: it must exit at once naming
// the log and the first one's pid, having written nothing (before, its
// recovery ended the first one's live sessions), and the first must go on
// serving: the logged-in client sets its roster and a new client logs in.
// Once the first is killed (SIGKILL: no clean release), a new server
// starts: the lock died with its holder.
func TestSecondServeIsRefused(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	first := startServe(t, dir)
	c := dialXMPP(t, first.directTLS)
	c.login("alice", "pw", "phone")
	before := mustRun(t, dir, "", "export").stdout

	start := time.Now()
	r := runBounded(t, dir, freePorts(t), "serve")
	took := time.Since(start)
	pid := fmt.Sprint(first.cmd.Process.Pid)
	if r.code != 1 {
		t.Fatalf("second serve: exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"process " + pid, filepath.Join("data", "xmppd.db"), "xmppd.db.lock", `node "test-node"`, "Stop process " + pid} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("second serve's message does not say %q:\n%s", want, r.stderr)
		}
	}
	t.Logf("second serve refused in %v: %s", took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
	if after := mustRun(t, dir, "", "export").stdout; after != before {
		t.Errorf("the refused server wrote to the log:\n%s", strings.TrimPrefix(after, before))
	}

	if typ := c.rosterSet("r1", "bob@localhost"); typ != "result" {
		t.Fatalf("roster set on the first server after the refusal: %s", typ)
	}
	c2 := dialXMPP(t, first.directTLS)
	c2.login("alice", "pw", "laptop")
	if typ := c2.rosterSet("r2", "carol@localhost"); typ != "result" {
		t.Fatalf("roster set by a new client: %s", typ)
	}
	if out := mustRun(t, dir, "", "export").stdout; strings.Contains(out, "session.ended") {
		t.Errorf("a live session was ended:\n%s", out)
	}

	first.stop(t, syscall.SIGKILL)
	second := startServe(t, dir)
	second.stop(t, syscall.SIGTERM)
}

// TestFilesThatHoldNoLogAreRefused: a 0-byte file, a text file and
// another program's SQLite database where the log should be are refused
// by serve, verify and user add, each naming the file, and left as they
// were (before, a 0-byte file silently became a new, empty log).
func TestFilesThatHoldNoLogAreRefused(t *testing.T) {
	cases := []struct {
		name   string
		make   func(path string)
		reason string
	}{
		{"empty", func(p string) { writeFile(t, p, "") }, "the file is empty (0 bytes)"},
		{"text", func(p string) { writeFile(t, p, "not a database\n") }, "not an SQLite database"},
		{"foreign sqlite", func(p string) {
			conn, err := sqlite.OpenConn(p)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := sqlitex.ExecuteScript(conn, "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x');", nil); err != nil {
				t.Fatal(err)
			}
		}, "another program (schema version 0, tables contacts)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "data", "xmppd.db")
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				t.Fatal(err)
			}
			tc.make(path)
			before, _ := os.ReadFile(path)
			for _, argv := range [][]string{{"serve"}, {"verify"}, {"user", "add", "alice@localhost", "--password", "pw"}, {"export"}} {
				r := runBounded(t, dir, freePorts(t), argv...)
				if r.code != 1 {
					t.Errorf("%s: exit %d, want 1\n%s%s", argv[0], r.code, r.stdout, r.stderr)
				}
				for _, want := range []string{filepath.Join("data", "xmppd.db") + " holds no xmppd log", tc.reason, "move it away"} {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("%s does not say %q:\n%s", argv[0], want, r.stderr)
					}
				}
				if strings.Contains(r.stdout, "OK") {
					t.Errorf("%s reported OK:\n%s", argv[0], r.stdout)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Errorf("the file changed (%d bytes, was %d)", len(after), len(before))
			}
		})
	}
	// A missing file is still a first start.
	dir := t.TempDir()
	p := startServe(t, dir)
	p.stop(t, syscall.SIGTERM)
	mustRun(t, dir, "", "verify")
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// alteredLog makes alice (3 events: created, credentials, credentials
// again) and bob, then alters the file with sql.
func alteredLog(t *testing.T, sql ...string) string {
	t.Helper()
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "pw")
	mustRun(t, dir, "", "user", "passwd", "alice@localhost", "--password", "pw2")
	tamper(t, filepath.Join(dir, "data", "xmppd.db"), sql)
	return dir
}

const (
	aliceStream   = "account-alice@localhost"
	editLastEvent = `UPDATE events SET envelope = json_set(envelope, '$.actor', 'admin:mallory') WHERE stream = '` + aliceStream + `' AND version = 3`
	removeTail    = `DELETE FROM events WHERE stream = '` + aliceStream + `' AND version = 3`
	// The first byte of the head's hash is set to one it is not (a hash
	// that already began with ff would otherwise be left as it was).
	editHeadRow = `UPDATE streams SET hash = (CASE WHEN substr(hash, 1, 2) = 'ff' THEN '00' ELSE 'ff' END) || substr(hash, 3) WHERE stream = '` + aliceStream + `'`
)

// TestAlteredLogIsRefused: serve refuses a log whose stream heads do not
// match their events, naming the stream and pointing to verify, and the
// flag that would accept it.
func TestAlteredLogIsRefused(t *testing.T) {
	cases := []struct{ name, sql, says string }{
		{"edited last event", editLastEvent, "the last event (version 3) does not match its hash (edited)"},
		{"removed tail", removeTail, "the store recorded version 3 as the last, but the log ends at version 2 (tail removed)"},
		{"edited streams row", editHeadRow, "the store recorded version 3 hash "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := alteredLog(t, tc.sql)
			r := runBounded(t, dir, freePorts(t), "serve")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			for _, want := range []string{"was altered", "stream " + aliceStream + ": " + tc.says, "xmppd verify", "--accept-altered-log"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("refusal does not say %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "bob@localhost") {
				t.Errorf("an intact stream was named:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "xmppd ready") {
				t.Errorf("the server got ready:\n%s", r.stderr)
			}
			// verify agrees that the log was altered.
			if v := xmppd(t, dir, "", "verify"); v.code != 1 {
				t.Errorf("verify: exit %d, want 1\n%s", v.code, v.stdout)
			}
		})
	}
}

// TestAcceptAlteredLog: with --accept-altered-log the server starts on a
// log whose alice stream lost its last event, records the decision
// (server.altered_log_accepted, in `xmppd export`), re-bases the stream
// so that a roster set by a real client on alice's account succeeds, and
// the log then verifies, with the acceptance on record.
func TestAcceptAlteredLog(t *testing.T) {
	dir := alteredLog(t, removeTail)
	p := &serverProc{dir: dir, starttls: freePort(t), directTLS: freePort(t), metrics: freePort(t),
		args: []string{"--accept-altered-log"}, exited: make(chan struct{})}
	p.start(t)
	t.Cleanup(func() { p.stop(t, syscall.SIGTERM) })
	for _, want := range []string{"serving an altered log", "stream " + aliceStream + ": the store recorded version 3", "checked stream heads"} {
		if !strings.Contains(p.log(), want) {
			t.Errorf("server log does not say %q:\n%s", want, p.log())
		}
	}

	// The removed event was alice's second password: the first is back.
	c := dialXMPP(t, p.directTLS)
	c.login("alice", "pw", "phone")
	if typ := c.rosterSet("r1", "bob@localhost"); typ != "result" {
		t.Fatalf("roster set on the re-based stream: %s\n%s", typ, p.log())
	}
	if typ := c.rosterSet("r2", "carol@localhost"); typ != "result" {
		t.Fatalf("second roster set: %s\n%s", typ, p.log())
	}
	p.stop(t, syscall.SIGTERM)

	out := mustRun(t, dir, "", "export").stdout
	evs := readJSONL(t, out)
	var found bool
	for _, e := range evs {
		if e.Type != "server.altered_log_accepted" {
			continue
		}
		found = true
		if e.Stream != "server-localhost" || e.Node != "test-node" || !strings.HasPrefix(e.Actor, "admin:") {
			t.Errorf("recorded in %s by %s on %s", e.Stream, e.Actor, e.Node)
		}
		for _, want := range []string{`"stream":"` + aliceStream + `"`, `"problem":"tail_removed"`, `"recorded_version":3`, `"found_version":2`, `"rebased":true`} {
			if !strings.Contains(string(e.Data), want) {
				t.Errorf("event data %s lacks %s", e.Data, want)
			}
		}
	}
	if !found {
		t.Fatalf("no server.altered_log_accepted in the export:\n%s", out)
	}
	var roster []uint64
	for _, e := range evs {
		if e.Stream == aliceStream && e.Type == "roster.item_set" {
			roster = append(roster, e.Version)
		}
	}
	if fmt.Sprint(roster) != "[3 4]" {
		t.Errorf("alice's roster sets at versions %v, want [3 4] (continuing from version 2)", roster)
	}
	v := xmppd(t, dir, "", "verify")
	if v.code != 0 {
		t.Fatalf("verify after accepting: exit %d\n%s", v.code, v.stdout)
	}
	if !strings.Contains(v.stdout, "accepted an altered log") {
		t.Errorf("verify does not mention the accepted alteration:\n%s", v.stdout)
	}
}

// TestAcceptEditedLastEvent: accepting an edited last event (by the
// configuration key, as an environment variable) records it without
// moving the head (the chain goes on from the event's recorded hash), and
// verify keeps reporting the edit.
func TestAcceptEditedLastEvent(t *testing.T) {
	dir := alteredLog(t, editLastEvent)
	p := startServe(t, dir, "XMPPD_STORE_ACCEPT_ALTERED_LOG=true")
	c := dialXMPP(t, p.directTLS)
	c.login("alice", "pw2", "phone")
	if typ := c.rosterSet("r1", "bob@localhost"); typ != "result" {
		t.Fatalf("roster set after an accepted edit: %s\n%s", typ, p.log())
	}
	p.stop(t, syscall.SIGTERM)
	out := mustRun(t, dir, "", "export").stdout
	if !strings.Contains(out, `"problem":"last_event_edited"`) || !strings.Contains(out, `"rebased":false`) {
		t.Errorf("export lacks the accepted edit:\n%s", out)
	}
	v := xmppd(t, dir, "", "verify")
	if v.code != 1 || !strings.Contains(v.stdout, "stream "+aliceStream+" version 3") {
		t.Errorf("verify: exit %d, want 1 naming version 3\n%s", v.code, v.stdout)
	}
}

// TestRecoveryAfterNodeRename: a server killed while alice is online,
// restarted under another node name (the default node is the host name,
// which a re-created container changes), ends her session and records the
// dead process's stop: the server lock proves no other server shares the
// log, so what it shows open is a dead process's, whatever its node.
func TestRecoveryAfterNodeRename(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	first := startServe(t, dir, "XMPPD_NODE=node-a")
	c := dialXMPP(t, first.directTLS)
	c.login("alice", "pw", "phone")
	c.send(`<presence/>`)
	if typ := c.rosterSet("r1", "bob@localhost"); typ != "result" { // a round trip after the presence
		t.Fatalf("roster set: %s", typ)
	}
	first.stop(t, syscall.SIGKILL)

	second := startServe(t, dir, "XMPPD_NODE=node-b")
	second.stop(t, syscall.SIGTERM)
	var ended, stopped bool
	for _, e := range readJSONL(t, mustRun(t, dir, "", "export").stdout) {
		switch {
		case e.Type == "session.ended" && e.Stream == "presence-alice@localhost" && e.Node == "node-b":
			ended = strings.Contains(string(e.Data), `"cause":"restart"`)
		case e.Type == "server.stopped" && strings.Contains(string(e.Data), `"node":"node-a"`):
			stopped = strings.Contains(string(e.Data), "not stopped cleanly")
		}
	}
	if !ended || !stopped {
		t.Errorf("after the rename: alice's session ended (restart) %v, node-a's unclean stop recorded %v", ended, stopped)
	}
}

// TestAppendFailureIsLogged: when the store's head of a stream moves
// behind the running server's back (here the streams row of alice's
// account is edited while it serves), her roster set fails with
// internal-server-error, as it must (RFC 6120 8.3.3.6), and the server
// log names the stream and the cause (before, nothing was logged).
func TestAppendFailureIsLogged(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	p := startServe(t, dir)
	c := dialXMPP(t, p.directTLS)
	c.login("alice", "pw", "phone")

	conn, err := sqlite.OpenConn(filepath.Join(dir, "data", "xmppd.db"), sqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetBusyTimeout(5 * time.Second)
	err = sqlitex.ExecuteTransient(conn, `UPDATE streams SET version = version + 1 WHERE stream = '`+aliceStream+`'`, nil)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}

	c.send(`<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost'/></query></iq>`)
	reply := c.await("iq", "r1")
	if reply.attr("type") != "error" || len(reply.Nodes) == 0 || !reply.Nodes[0].child("internal-server-error") {
		t.Fatalf("roster set on a stream whose head moved: %+v", reply)
	}
	eventually(t, "the failure in the server log", func() bool {
		l := p.log()
		return strings.Contains(l, "append keeps conflicting") && strings.Contains(l, "stream="+aliceStream) && strings.Contains(l, "wrong expected version")
	})
}

// TestEmptyNodeIsRefused: every event names its node, and a log shared by
// several servers (EventStoreDB) tells their sessions apart by it, so an
// empty node name is a configuration error, for every store.
func TestEmptyNodeIsRefused(t *testing.T) {
	for _, store := range []string{"sqlite", "esdb"} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "xmppd.yaml"), "node: \" \"\nstore:\n  kind: "+store+"\n  url: esdb://127.0.0.1:1?tls=false\n")
		r := runBounded(t, dir, append(freePorts(t), "XMPPD_NODE="), "serve")
		if r.code != 2 || !strings.Contains(r.stderr, "node is empty") {
			t.Errorf("%s: exit %d, want 2 saying the node is empty:\n%s", store, r.code, r.stderr)
		}
	}
}

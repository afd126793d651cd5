package main_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// Issue 13 "Retention" and "Legal hold", through the real binary: with
// two-second keys and a one-second retention, the server's sweep destroys
// alice's keys and records keys.expired; her archived messages then read
// as expired in the live log and in a copy taken before, in audit and in
// MAM (XEP-0313 4.2: the result is still returned, its content marked
// gone), and verify exits 0. Bob, held by a case placed while the server
// ran, keeps his copies through the same sweeps; the hold blocks his
// erasure, naming the case, until it is released; once erased, his MAM
// index forgets his messages.
func TestRetentionExpiresUnheldArchives(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"alice", "bob"} {
		mustRun(t, dir, "", "user", "add", u+"@localhost", "--password", u+"-pw")
	}
	srv := startServe(t, dir, "XMPPD_ARCHIVE_ENABLED=true", "XMPPD_KEYS_PERIOD=2s",
		"XMPPD_ARCHIVE_RETENTION=1s", "XMPPD_ARCHIVE_RETENTION_INTERVAL=500ms")

	// The hold commands run beside the server, and refuse bad input.
	for _, c := range []struct {
		argv []string
		code int
		want string
	}{
		{[]string{"hold", "add", "--user", "bob@localhost", "--reason", "x"}, 2, "--case ID"},
		{[]string{"hold", "add", "--user", "nobody@localhost", "--case", "C-7", "--reason", "x"}, 1, "no such account"},
		{[]string{"hold", "add", "--user", "bob@elsewhere", "--case", "C-7", "--reason", "x"}, 2, "not on this server's domain"},
		{[]string{"hold", "release", "--user", "alice@localhost", "--case", "C-7"}, 1, "alice@localhost is not held"},
	} {
		if r := xmppd(t, dir, "", c.argv...); r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("xmppd %s: exit %d, stderr %q; want exit %d naming %q", strings.Join(c.argv, " "), r.code, r.stderr, c.code, c.want)
		}
	}
	mustRun(t, dir, "", "hold", "add", "--user", "bob@localhost", "--case", "C-7", "--reason", "litigation, Smith v. Example")
	if r := xmppd(t, dir, "", "hold", "add", "--user", "bob@localhost", "--case", "C-7", "--reason", "again"); r.code == 0 || !strings.Contains(r.stderr, "already held") {
		t.Errorf("a second hold of the same case: exit %d, %q", r.code, r.stderr)
	}
	if out := mustRun(t, dir, "", "hold", "list").stdout; !strings.Contains(out, "bob@localhost") || !strings.Contains(out, "C-7") || !strings.Contains(out, "litigation, Smith v. Example") {
		t.Errorf("hold list:\n%s", out)
	}

	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "phone")
	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	alice.send(`<message type='chat' to='bob@localhost/desk' id='a1'><body>retained-secret-from-alice</body></message>`)
	bob.await("message", "a1")
	bob.send(`<message type='chat' to='alice@localhost/phone' id='b1'><body>retained-secret-from-bob</body></message>`)
	alice.await("message", "b1")
	copyLog(t, filepath.Join(dir, "data"), filepath.Join(dir, "backup"))

	deadline := time.Now().Add(20 * time.Second)
	for {
		audit := mustRun(t, dir, "", "audit", "--user", "alice@localhost", "--type", "archive").stdout
		if strings.Count(audit, "archived: content (expired)") == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice's archive not expired in 20s:\n%s\nserver log:\n%s", audit, srv.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // a few more sweeps: bob must survive them too

	for _, store := range []string{"", filepath.Join(dir, "backup", "xmppd.db")} {
		var extra []string
		if store != "" {
			extra = []string{"--store-path", store}
		}
		audit := mustRun(t, dir, "", append([]string{"audit", "--user", "alice@localhost"}, extra...)...).stdout
		for _, want := range []string{"message to bob@localhost/desk archived: content (expired)", "message from bob@localhost/desk archived: content (expired)"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit of alice %s lacks %q:\n%s", store, want, audit)
			}
		}
		audit = mustRun(t, dir, "", append([]string{"audit", "--user", "bob@localhost"}, extra...)...).stdout
		if strings.Contains(audit, "(expired)") || !strings.Contains(audit, "message from alice@localhost/phone archived (") {
			t.Errorf("audit of held bob %s:\n%s", store, audit)
		}
		mustRun(t, dir, "", append([]string{"replay", "--at", time.Now().UTC().Format(time.RFC3339Nano)}, extra...)...)
		mustRun(t, dir, "", append([]string{"verify"}, extra...)...)
	}
	if audit := mustRun(t, dir, "", "audit", "--user", "bob@localhost", "--type", "compliance").stdout; !strings.Contains(audit, "legal hold placed on bob@localhost: case C-7") || !strings.Contains(audit, "admin:") {
		t.Errorf("bob's compliance story:\n%s", audit)
	}

	// The keys themselves: alice's are gone from keys.db, bob's are there.
	live := keyRows(t, filepath.Join(dir, "data", "keys.db"))
	if live["alice@localhost"].expired == 0 || live["bob@localhost"].live == 0 || live["bob@localhost"].expired != 0 {
		t.Errorf("keys.db after retention: %+v; want alice's expired, bob's all live", live)
	}

	// MAM (XEP-0313): alice's archive answers with her messages marked
	// expired; bob's with their text.
	if got := mamGone(t, alice); len(got) != 2 || got[0] != "expired" || got[1] != "expired" {
		t.Errorf("alice's MAM results: gone = %q, want both expired", got)
	}
	if got := mamGone(t, bob); len(got) != 2 || got[0] != "" || got[1] != "" {
		t.Errorf("held bob's MAM results: gone = %q, want both readable", got)
	}

	// Erasure refuses a held account, naming the case; after the release
	// it goes ahead.
	srv.stop(t, syscall.SIGTERM)
	if r := xmppd(t, dir, "", "user", "erase", "bob@localhost"); r.code == 0 || !strings.Contains(r.stderr, "legal hold (case C-7)") {
		t.Fatalf("erase of held bob: exit %d, stderr %q", r.code, r.stderr)
	}
	if keyRows(t, filepath.Join(dir, "data", "keys.db"))["bob@localhost"].live == 0 {
		t.Fatal("a refused erasure destroyed keys")
	}
	mustRun(t, dir, "", "hold", "release", "--user", "bob@localhost", "--case", "C-7", "--reason", "case closed")
	mustRun(t, dir, "", "user", "erase", "bob@localhost")
	// The erased account's MAM index is rebuilt from the log without its
	// messages: the address registered again finds an empty archive.
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw2")
	srv = startServe(t, dir, "XMPPD_ARCHIVE_ENABLED=true")
	bob = dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw2", "desk")
	if got := mamGone(t, bob); len(got) != 0 {
		t.Errorf("the new bob's archive holds %d results of the erased bob's", len(got))
	}
	story := mustRun(t, dir, "", "audit", "--compliance").stdout
	for _, want := range []string{"legal hold placed on bob@localhost: case C-7", "retention expired", "legal hold released on bob@localhost: case C-7 (case closed)"} {
		if !strings.Contains(story, want) {
			t.Errorf("compliance story lacks %q:\n%s", want, story)
		}
	}
}

// keyCount counts one account's keys in keys.db.
type keyCount struct{ live, expired int }

// keyRows reads keys.db as an auditor with sqlite3 would.
func keyRows(t *testing.T, path string) map[string]keyCount {
	t.Helper()
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	out := map[string]keyCount{}
	err = sqlitex.Execute(conn, `SELECT account, key IS NOT NULL, gone FROM keys`, &sqlitex.ExecOptions{ResultFunc: func(st *sqlite.Stmt) error {
		c := out[st.ColumnText(0)]
		switch {
		case st.ColumnInt(1) == 1:
			c.live++
		case st.ColumnText(2) == "expired":
			c.expired++
		}
		out[st.ColumnText(0)] = c
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mamGone queries c's whole archive (XEP-0313 4.1) and returns, for each
// result, the reason of its <gone/> marker ("" for content returned).
func mamGone(t *testing.T, c *rawXMPP) []string {
	t.Helper()
	c.send(`<iq type='set' id='mam1'><query xmlns='urn:xmpp:mam:2' queryid='q1'/></iq>`)
	var gone []string
	for {
		n := c.next()
		if n.XMLName.Local == "iq" && n.attr("id") == "mam1" {
			if n.attr("type") != "result" {
				t.Fatalf("MAM query: %+v", n)
			}
			return gone
		}
		if n.XMLName.Local != "message" || !n.child("result") {
			continue
		}
		reason := ""
		if g, ok := findNode(n, "gone"); ok {
			reason = g.attr("reason")
		}
		gone = append(gone, reason)
	}
}

// findNode finds the first element named local under n, depth first.
func findNode(n xmlNode, local string) (xmlNode, bool) {
	for _, c := range n.Nodes {
		if c.XMLName.Local == local {
			return c, true
		}
		if f, ok := findNode(c, local); ok {
			return f, true
		}
	}
	return xmlNode{}, false
}

// The retention settings are checked with the rest of the configuration:
// every problem named at once, exit 2; overrides come as JID=DURATION.
func TestRetentionConfiguration(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XMPPD_ARCHIVE_RETENTION_OVERRIDES", "alice@localhost=90d,ceo@localhost=forever")
	t.Setenv("XMPPD_ARCHIVE_RETENTION", "2555d")
	t.Setenv("XMPPD_KEYS_PERIOD", "day")
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")

	t.Setenv("XMPPD_ARCHIVE_RETENTION_OVERRIDES", "alice@localhost=90d,bob@elsewhere=1d,carol@localhost")
	t.Setenv("XMPPD_ARCHIVE_RETENTION", "7y")
	t.Setenv("XMPPD_KEYS_PERIOD", "500ms")
	r := xmppd(t, dir, "", "user", "list")
	for _, want := range []string{"archive.retention: \"7y\" is not a retention", "bob@elsewhere is not on this server's domain",
		"\"carol@localhost\" is not JID=DURATION", "keys.period"} {
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("bad retention settings: exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
		}
	}
}

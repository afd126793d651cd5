package main_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Issue 13 "Erasure" reaches the message archive, through the real
// binary with XMPPD_ARCHIVE_ENABLED=true: each party's copy of a message
// (XEP-0313 3.5) is sealed under its own account's key, so the log's
// files hold no message text; after `user erase alice`, audit shows
// alice's archived messages with their content erased, in the live log
// and in a copy taken before, bob's copies still read, and verify exits 0.
func TestUserEraseShredsArchivedMessages(t *testing.T) {
	dir := t.TempDir()
	srv, alice, bob := startArchivingPair(t, dir)
	alice.send(`<message type='chat' to='bob@localhost/desk' id='a1'><body>archived-secret-from-alice</body></message>`)
	bob.await("message", "a1")
	bob.send(`<message type='chat' to='alice@localhost/phone' id='b1'><body>archived-secret-from-bob</body></message>`)
	alice.await("message", "b1")
	srv.stop(t, syscall.SIGTERM)

	logBytes := readLogFiles(t, filepath.Join(dir, "data"), "xmppd.db")
	for _, s := range []string{"archived-secret-from-alice", "archived-secret-from-bob"} {
		if bytes.Contains(logBytes, []byte(s)) {
			t.Errorf("the log file holds %q in clear", s)
		}
	}
	audit := mustRun(t, dir, "", "audit", "--user", "alice@localhost").stdout
	if !strings.Contains(audit, "message to bob@localhost/desk archived (") || strings.Contains(audit, "(erased)") {
		t.Fatalf("audit of alice before erasure:\n%s", audit)
	}
	copyLog(t, filepath.Join(dir, "data"), filepath.Join(dir, "backup"))
	mustRun(t, dir, "", "user", "erase", "alice@localhost")

	for _, store := range []string{"", filepath.Join(dir, "backup", "xmppd.db")} {
		args := []string{}
		if store != "" {
			args = []string{"--store-path", store}
		}
		audit := mustRun(t, dir, "", append([]string{"audit", "--user", "alice@localhost"}, args...)...).stdout
		for _, want := range []string{"message to bob@localhost/desk archived: content (erased)",
			"message from bob@localhost/desk archived: content (erased)"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit of alice %s lacks %q:\n%s", store, want, audit)
			}
		}
		audit = mustRun(t, dir, "", append([]string{"audit", "--user", "bob@localhost"}, args...)...).stdout
		if strings.Contains(audit, "(erased)") || !strings.Contains(audit, "message from alice@localhost/phone archived (") {
			t.Errorf("audit of bob %s after alice's erasure:\n%s", store, audit)
		}
		mustRun(t, dir, "", append([]string{"verify"}, args...)...)
	}
}

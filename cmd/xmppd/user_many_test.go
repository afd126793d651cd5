package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUserAddManyFromStdin: `user add --stdin` creates one account per
// line, each able to log in; a bad line creates nothing and names every
// bad line; an account that already exists stops the run there, keeping
// the ones created before it.
func TestUserAddManyFromStdin(t *testing.T) {
	dir := t.TempDir()
	r := mustRun(t, dir, "# test accounts\nann@localhost ann pw with spaces\n\nben@localhost\tben-pw\n", "user", "add", "--stdin")
	if r.stdout != "created ann@localhost\ncreated ben@localhost\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	r = xmppd(t, dir, "cat@localhost pw\nnopassword@localhost\ndan@elsewhere pw\n", "user", "add", "--stdin")
	if r.code != 2 || !strings.Contains(r.stderr, "line 2: want \"JID password\"") || !strings.Contains(r.stderr, "line 3: dan@elsewhere is not on this server's domain") {
		t.Errorf("bad lines: exit %d, stderr %q", r.code, r.stderr)
	}
	r = xmppd(t, dir, "eve@localhost pw\nann@localhost pw\nfay@localhost pw\n", "user", "add", "--stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "line 2: account ann@localhost already exists") {
		t.Errorf("existing account: exit %d, stderr %q", r.code, r.stderr)
	}
	list := mustRun(t, dir, "", "user", "list").stdout
	for jid, want := range map[string]bool{"ann@localhost": true, "ben@localhost": true, "eve@localhost": true, "cat@localhost": false, "fay@localhost": false} {
		if strings.Contains(list, jid) != want {
			t.Errorf("%s listed: %v, want %v\n%s", jid, !want, want, list)
		}
	}
	if r := xmppd(t, dir, "", "user", "add", "--stdin", "ann@localhost"); r.code != 2 || !strings.Contains(r.stderr, "give no JID") {
		t.Errorf("--stdin with a JID: exit %d, stderr %q", r.code, r.stderr)
	}

	srv := startServe(t, dir)
	c := dialXMPP(t, srv.directTLS)
	if !c.plain("ann", "ann pw with spaces") {
		t.Error("ann cannot log in with the password read from standard input")
	}
}

// TestServeRefusesBadQueueSettings: the c2s output limits are checked
// with the rest of the configuration.
func TestServeRefusesBadQueueSettings(t *testing.T) {
	dir := t.TempDir()
	yaml := "c2s:\n  queue_len: 0\n  queue_bytes: -1\n  write_timeout: 0s\n"
	if err := os.WriteFile(filepath.Join(dir, "xmppd.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := xmppd(t, dir, "", "serve")
	for _, want := range []string{"c2s.queue_len 0 must be at least 1", "c2s.queue_bytes -1 must be at least 1", "c2s.write_timeout 0s must be positive"} {
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr %q, want it to say %q", r.code, r.stderr, want)
		}
	}
}

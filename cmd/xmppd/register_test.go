package main_test

import (
	"strings"
	"testing"
)

// XEP-0077 section 3.3 with the real binary: alice changes her password
// in band; a new login with it works, the old one is refused, and audit
// tells the change as hers (the session as actor).
func TestInBandPasswordChangeWithTheBinary(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	srv := startServe(t, dir)

	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "desk")
	alice.send(`<iq type='set' id='pw1' to='localhost'><query xmlns='jabber:iq:register'><username>alice</username><password>brand new pw</password></query></iq>`)
	if n := alice.await("iq", "pw1"); n.attr("type") != "result" {
		t.Fatalf("password change: %+v", n)
	}
	alice.send(`</stream:stream>`)

	for _, tc := range []struct {
		password string
		ok       bool
	}{{"brand new pw", true}, {"alice-pw", false}} {
		c := dialXMPP(t, srv.directTLS)
		if got := c.plain("alice", tc.password); got != tc.ok {
			t.Errorf("login with %q: %v, want %v", tc.password, got, tc.ok)
		}
	}

	out := mustRun(t, dir, "", "audit", "--user", "alice@localhost", "--type", "account").stdout
	changes := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "credentials set") && strings.Contains(line, "alice@localhost/desk") {
			changes++
		}
	}
	if changes != 1 {
		t.Errorf("audit shows %d password changes by alice's session, want 1:\n%s", changes, out)
	}
}

// XEP-0077 section 3.2 with im.allow_account_removal on: alice cancels
// her account in band: the result, then her stream closed with
// <not-authorized/>; she can no longer log in, and the log records the
// deletion by her session.
func TestInBandAccountRemovalWhenAllowed(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	srv := startServe(t, dir, "XMPPD_IM_ALLOW_ACCOUNT_REMOVAL=true")

	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "desk")
	alice.send(`<iq type='set' id='rm1'><query xmlns='jabber:iq:register'><remove/></query></iq>`)
	if n := alice.await("iq", "rm1"); n.attr("type") != "result" {
		t.Fatalf("removal: %+v", n)
	}
	if n := alice.await("error", ""); !n.child("not-authorized") {
		t.Errorf("stream error after removal: %+v", n)
	}
	if c := dialXMPP(t, srv.directTLS); c.plain("alice", "alice-pw") {
		t.Error("login to the removed account succeeded")
	}
	out := mustRun(t, dir, "", "audit", "--user", "alice@localhost", "--type", "account").stdout
	if !strings.Contains(out, "account deleted") {
		t.Errorf("audit lacks the deletion:\n%s", out)
	}
}

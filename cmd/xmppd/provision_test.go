package main_test

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// provisionEnv lets one address fail many logins: the refused logins
// below are the point of the test, not an attack, and must not be
// slowed by the failed-login throttle.
var provisionEnv = []string{
	"XMPPD_AUTH_THROTTLE_ADDR_FREE_FAILURES=1000",
	"XMPPD_AUTH_THROTTLE_REFUSE_AFTER=2000",
}

// timings summarises durations as "median m, max x".
func timings(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("median %v, max %v", s[len(s)/2].Round(100*time.Microsecond), s[len(s)-1].Round(100*time.Microsecond))
}

// TestProvisionedAccountLogsInAtOnce: `xmppd user add`, run as another
// process while `xmppd serve` runs, appends to the log the server polls;
// a client that logs in the moment the command returns must be let in
// (a provisioning script does exactly that). Likewise a new password
// works, and the old one is refused, the moment `user passwd` returns,
// and a deleted account is refused the moment `user del` returns (RFC
// 6120 6.5.10 not-authorized). Each iteration runs the command and logs
// in with no pause between.
func TestProvisionedAccountLogsInAtOnce(t *testing.T) {
	const n = 20
	dir := t.TempDir()
	// One account first, so the server starts on an existing store.
	mustRun(t, dir, "", "user", "add", "seed@localhost", "--password", "seed-pw")
	srv := startServe(t, dir, provisionEnv...)

	login := func(user, password string) (bool, time.Duration) {
		t.Helper()
		c := dialXMPP(t, srv.directTLS)
		start := time.Now()
		ok := c.plain(user, password)
		took := time.Since(start)
		c.conn.Close()
		return ok, took
	}

	var cmds, logins []time.Duration
	run := func(argv ...string) {
		t.Helper()
		start := time.Now()
		mustRun(t, dir, "", argv...)
		cmds = append(cmds, time.Since(start))
	}

	for i := range n {
		user := fmt.Sprintf("user%d", i)
		run("user", "add", user+"@localhost", "--password", "pw-"+user)
		ok, took := login(user, "pw-"+user)
		logins = append(logins, took)
		if !ok {
			t.Errorf("add %d: %s refused right after `xmppd user add` returned", i, user)
		}
	}
	t.Logf("add: %d accounts; user add %s; login %s", n, timings(cmds), timings(logins))

	cmds, logins = nil, nil
	for i := range n {
		user := fmt.Sprintf("user%d", i)
		run("user", "passwd", user+"@localhost", "--password", "new-"+user)
		// Alternate which password is tried first: each must already
		// hold when it is the first login after the command.
		tries := []struct {
			pw   string
			want bool
		}{{"new-" + user, true}, {"pw-" + user, false}}
		if i%2 == 1 {
			tries[0], tries[1] = tries[1], tries[0]
		}
		for _, try := range tries {
			ok, took := login(user, try.pw)
			logins = append(logins, took)
			if ok != try.want {
				t.Errorf("passwd %d: login as %s with %q: got success=%v, want %v right after `xmppd user passwd` returned", i, user, try.pw, ok, try.want)
			}
		}
	}
	t.Logf("passwd: %d accounts; user passwd %s; login %s", n, timings(cmds), timings(logins))

	cmds, logins = nil, nil
	for i := range n {
		user := fmt.Sprintf("user%d", i)
		run("user", "del", user+"@localhost")
		ok, took := login(user, "new-"+user)
		logins = append(logins, took)
		if ok {
			t.Errorf("del %d: %s let in right after `xmppd user del` returned", i, user)
		}
	}
	t.Logf("del: %d accounts; user del %s; login %s", n, timings(cmds), timings(logins))

	// The server still serves: the seed account logs in and binds.
	c := dialXMPP(t, srv.directTLS)
	c.login("seed", "seed-pw", "check")
}

package main_test

import (
	"fmt"
	"testing"
)

// TestServeIdleSessionStack: an idle session's reader keeps the 4 KiB
// goroutine stack it starts with. Its deepest path while a session is
// used as a client does must fit in it: a stack that grew to 8 KiB is
// never shrunk again, as the reader parked in the TLS read uses more than
// a quarter of it, and a server holding tens of thousands of idle clients
// pays 4 KiB more for each (adapters/c2s Session.run). Sessions here do
// what xmppbench idle does: bind, get the roster, send initial presence
// (broadcast to the account's other resources, RFC 6121 4.2.2) and ping
// the server. The IQs matter: a stanza with a child element takes the
// decoder's deepest path (stanza.Parse, encoding/xml's rawToken), which
// a bare <presence/> does not. Measured: about 5.2 KiB of stack a session
// with the fix, 8.9-9.3 KiB without (each count includes a share of the
// server's own goroutines).
func TestServeIdleSessionStack(t *testing.T) {
	const accounts, perAccount = 20, 10
	dir := t.TempDir()
	for a := range accounts {
		mustRun(t, dir, "", "user", "add", fmt.Sprintf("idle%d@localhost", a), "--password", "pw")
	}
	srv := startServe(t, dir, "XMPPD_LIMITS_RESOURCES_PER_ACCOUNT=0", "XMPPD_METRICS_PPROF=true")
	stack := func() float64 {
		// A collection first (the heap profile's gc=1): it shrinks the
		// stacks that can be, as a running server's collections would.
		if code, _ := httpGet(t, "http://"+srv.metrics+"/debug/pprof/heap?gc=1"); code != 200 {
			t.Fatalf("heap profile: %d", code)
		}
		return scrape(t, srv.metrics)["go_memstats_stack_inuse_bytes"]
	}
	s0 := stack()
	n := 0
	for a := range accounts {
		for r := range perAccount {
			c := dialXMPP(t, srv.directTLS)
			c.login(fmt.Sprintf("idle%d", a), "pw", fmt.Sprintf("r%d", r))
			c.send(`<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>`)
			c.await("iq", "roster")
			c.send(`<presence/>`)
			c.send(`<iq type='get' id='ping' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
			c.await("iq", "ping")
			n++
		}
	}
	if got := scrape(t, srv.metrics)["xmppd_c2s_sessions"]; got != float64(n) {
		t.Fatalf("%v sessions open, want %d", got, n)
	}
	per := (stack() - s0) / float64(n)
	t.Logf("%d idle sessions: %.0f bytes of goroutine stack each", n, per)
	// 4 KiB each, and a share of the server's other goroutines.
	if per > 6.5*1024 {
		t.Errorf("%.0f bytes of goroutine stack per idle session, want about 4096: the reader's stack grew to 8 KiB", per)
	}
}

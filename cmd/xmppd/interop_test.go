package main_test

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

const python = "/usr/bin/python3"

// requireSlixmpp skips where Debian's python3-slixmpp is missing, except in
// CI, where `make test` installs it and its absence is a failure.
func requireSlixmpp(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import slixmpp").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-slixmpp is not installed (make deps installs it): %v", err)
		}
		t.Skip("python3-slixmpp is not installed: run make deps (or make test)")
	}
}

// runSlixmpp runs the slixmpp script in testdata against srv as
// alice/alice-pw and bob/bob-pw (accounts the caller made) and returns
// what it printed; a script that fails fails the test with its output
// and the server's log.
func runSlixmpp(t *testing.T, srv *serverProc, script string) []byte {
	t.Helper()
	host, port, _ := net.SplitHostPort(srv.starttls)
	out, err := exec.Command(python, "testdata/"+script, host, port, "alice@localhost", "alice-pw", "bob@localhost", "bob-pw").Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("slixmpp %s: %v\nstdout: %s\nstderr: %s\nserver:\n%s", script, err, out, stderr, srv.log())
	}
	return out
}

// TestSlixmppInterop: two slixmpp clients log in over STARTTLS with SCRAM
// (SHA-256 and SHA-1), subscribe to each other (RFC 6121 3.1), see each
// other's presence (4.2), chat (5.1), and end with subscription='both' on
// both rosters (2.1.2.5); the log records every transition.
func TestSlixmppInterop(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	out := runSlixmpp(t, srv, "interop_slixmpp.py")
	var res struct {
		Rosters map[string]struct {
			Subscription string `json:"subscription"`
			PendingOut   bool   `json:"pending_out"`
		} `json:"rosters"`
		Presence map[string][]string `json:"presence"`
		Messages map[string][]struct{ From, Body string }
		Bound    []string `json:"bound"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	for _, who := range []string{"alice@localhost", "bob@localhost"} {
		if r := res.Rosters[who]; r.Subscription != "both" || r.PendingOut {
			t.Errorf("%s's roster item: subscription %q pending_out %v, want both", who, r.Subscription, r.PendingOut)
		}
		if len(res.Presence[who]) == 0 {
			t.Errorf("%s never saw the other's available presence", who)
		}
	}
	if m := res.Messages["bob@localhost"]; len(m) != 1 || m[0].Body != "hello bob, ñ ✓" || m[0].From != "alice@localhost" {
		t.Errorf("bob received %+v", m)
	}
	if m := res.Messages["alice@localhost"]; len(m) != 1 || m[0].Body != "hi alice" {
		t.Errorf("alice received %+v", m)
	}

	// The log tells the same story: each side's transitions ending in Both,
	// each recorded with the acting client's full JID and address.
	srv.stop(t, syscall.SIGTERM)
	evs := readJSONL(t, mustRun(t, dir, "", "export").stdout)
	final := map[string]string{}
	for _, e := range evs {
		if e.Type != "subscription.changed" {
			continue
		}
		var p struct{ Contact, Cause, Before, After string }
		if err := json.Unmarshal(e.Data, &p); err != nil {
			t.Fatal(err)
		}
		final[e.Stream] = p.After
		if strings.HasPrefix(p.Cause, "outbound") && (!strings.Contains(e.Actor, "/") || e.ClientAddr == "" || e.SessionID == "") {
			t.Errorf("%s %s recorded without the client's full JID, session and address: actor %q session %q addr %q", e.Stream, p.Cause, e.Actor, e.SessionID, e.ClientAddr)
		}
	}
	for _, s := range []string{"account-alice@localhost", "account-bob@localhost"} {
		if final[s] != "Both" {
			t.Errorf("%s: last recorded subscription state %q, want Both", s, final[s])
		}
	}
	if r := mustRun(t, dir, "", "verify"); !strings.Contains(r.stdout, "OK") {
		t.Errorf("verify after the session: %s", r.stdout)
	}
}

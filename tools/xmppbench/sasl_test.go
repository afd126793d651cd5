package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestChooseMech(t *testing.T) {
	cases := []struct {
		want    string
		offered []string
		got     string
		ok      bool
	}{
		{"auto", []string{"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"}, "SCRAM-SHA-256", true},
		{"auto", []string{"PLAIN", "SCRAM-SHA-1"}, "SCRAM-SHA-1", true},
		{"auto", []string{"SCRAM-SHA-1-PLUS", "PLAIN"}, "PLAIN", true},
		{"auto", []string{"DIGEST-MD5"}, "", false},
		{"PLAIN", []string{"PLAIN", "SCRAM-SHA-1"}, "PLAIN", true},
		{"SCRAM-SHA-256", []string{"PLAIN", "SCRAM-SHA-1"}, "", false},
	}
	for _, tc := range cases {
		got, err := chooseMech(tc.want, tc.offered)
		if got != tc.got || (err == nil) != tc.ok {
			t.Errorf("chooseMech(%q, %v) = %q, %v; want %q, ok=%v", tc.want, tc.offered, got, err, tc.got, tc.ok)
		}
	}
}

// builtXmppd is xmppd built once per test binary from the root module.
var builtXmppd struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// buildXmppd builds cmd/xmppd of the root module, two directories up:
// built there, as its own module, since this one does not contain it.
func buildXmppd(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts xmppd")
	}
	b := &builtXmppd
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "xmppbench-test-xmppd")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "xmppd")
		build := exec.Command("go", "build", "-o", b.path, "./cmd/xmppd")
		build.Dir = "../.."
		b.out, b.err = build.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build xmppd: %v\n%s", b.err, b.out)
	}
	return b.path
}

// startXmppd starts a fresh xmppd (real binary, real SQLite file in its
// temporary directory, STARTTLS on a free loopback port) with accounts
// userN/passN, N from 1, and archiving on if archive, stopped and removed
// when the test ends.
func startXmppd(t *testing.T, users int, archive bool) *compareServer {
	t.Helper()
	bin := buildXmppd(t)
	s, err := newCompareServer("xmppd", bin, "localhost", archive)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.remove)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &config{users: users, first: 1, userPattern: "user%d", passwordPattern: "pass%d", domain: "localhost"}
	if err := s.provision(ctx, c, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := s.start(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLoginEveryMechanismAgainstXmppd logs in through mellium.im/sasl's
// client with each mechanism xmppbench negotiates (RFC 6120 §6; SCRAM
// per RFC 5802 and RFC 7677, PLAIN per RFC 4616) against a real xmppd:
// the server's signature must verify, and a wrong password must be
// counted as an auth error, never as a login. Each wrong password is
// tried once on an account of its own, below xmppd's failed-login
// throttle (3 free failures per account, 10 per address), which would
// otherwise slow the logins that follow.
func TestLoginEveryMechanismAgainstXmppd(t *testing.T) {
	s := startXmppd(t, 6, false)
	login := func(mech string, args ...string) (int, result, string) {
		var out, errOut bytes.Buffer
		args = append([]string{"login", "--addr", s.addr(), "--insecure", "--json", "--mech", mech,
			"--concurrency", "1", "--duration", "10s", "--timeout", "5s", "--max-time", "30s"}, args...)
		code := run(context.Background(), args, &out, &errOut)
		var r result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%v: exit %d, no result: %v\n%s", args, code, err, errOut.String())
		}
		return code, r, errOut.String()
	}
	mechs := []struct{ mech, used string }{
		{"auto", "SCRAM-SHA-256"},
		{"SCRAM-SHA-256", "SCRAM-SHA-256"},
		{"SCRAM-SHA-1", "SCRAM-SHA-1"},
		{"PLAIN", "PLAIN"},
	}
	for _, tc := range mechs {
		code, r, stderr := login(tc.mech, "--users", "2", "--count", "4")
		if code != exitOK || r.Ops != 4 || r.Errors != 0 || r.Mechanism != tc.used {
			t.Errorf("%s: exit %d, %d logins with %q, errors %v %q; want 4 logins with %s\n%s",
				tc.mech, code, r.Ops, r.Mechanism, r.ErrorsByKind, r.ErrorSamples, tc.used, stderr)
		}
	}
	for i, tc := range mechs {
		code, r, _ := login(tc.mech, "--users", "1", "--first", strconv.Itoa(3+i), "--count", "1", "--password-pattern", "wrong%d")
		if code != exitFailure || r.Ops != 0 || r.ErrorsByKind["auth"] != 1 || r.Mechanism != tc.used {
			t.Errorf("%s with a wrong password: exit %d, %d logins with %q, errors %v; want one auth error",
				tc.mech, code, r.Ops, r.Mechanism, r.ErrorsByKind)
		}
	}
}

// fakeLyingServer plays the server side of one SCRAM-SHA-1 exchange on
// conn without knowing the password: it answers the client-first with a
// server-first extending the client's nonce, then ends with final (the
// element after the client's proof). No real server lies like this, so
// the refusal can only be shown against a fake.
func fakeLyingServer(t *testing.T, conn net.Conn, final string) {
	t.Helper()
	defer conn.Close()
	r := newElemReader(conn)
	r.depth = 1 // the stream is open: only elements follow
	auth, err := r.next()
	if err != nil || !auth.is("auth") {
		t.Errorf("fake server: expected <auth/>: %v", err)
		return
	}
	first, err := saslPayload(auth)
	if err != nil {
		t.Errorf("fake server: %v", err)
		return
	}
	_, nonce, ok := strings.Cut(string(first), ",r=")
	if !strings.HasPrefix(string(first), "n,,n=user1,r=") || !ok {
		t.Errorf("fake server: client-first %q", first)
		return
	}
	serverFirst := "r=" + nonce + "fake,s=" + base64.StdEncoding.EncodeToString([]byte("salt")) + ",i=4096"
	conn.Write([]byte("<challenge xmlns='" + nsSASL + "'>" + base64.StdEncoding.EncodeToString([]byte(serverFirst)) + "</challenge>"))
	if resp, err := r.next(); err != nil || !resp.is("response") {
		t.Errorf("fake server: expected <response/>: %v", err)
		return
	}
	conn.Write([]byte(final))
	r.next() // until the client hangs up
}

// TestSCRAMRefusesAServerWithoutProof: a server that says success
// without proving it knows the password (RFC 5802 §5.1 "v=", §9) fails
// the login, whether it sends no verifier, a wrong one, or an error.
func TestSCRAMRefusesAServerWithoutProof(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for name, final := range map[string]string{
		"success without data":        "<success xmlns='" + nsSASL + "'/>",
		"wrong verifier with success": "<success xmlns='" + nsSASL + "'>" + b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=") + "</success>",
		"wrong verifier as challenge": "<challenge xmlns='" + nsSASL + "'>" + b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=") + "</challenge>",
		"server error":                "<success xmlns='" + nsSASL + "'>" + b64("e=invalid-proof") + "</success>",
	} {
		t.Run(name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			done := make(chan struct{})
			go func() { defer close(done); fakeLyingServer(t, server, final) }()
			client.SetDeadline(time.Now().Add(5 * time.Second))
			s := &session{conn: client, r: newElemReader(client)}
			s.r.depth = 1
			feats := elem{raw: []byte("<stream:features><mechanisms xmlns='" + nsSASL + "'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>")}
			err := s.authenticate(&clientConfig{mech: "auto"}, feats, "user1", "pass1")
			if err == nil || errorPhase(err) != "auth" {
				t.Errorf("authenticate against a server without proof = %v, want an auth error", err)
			}
			if name == "success without data" && !errors.Is(err, errNoServerProof) {
				t.Errorf("error %v does not say the proof was missing", err)
			}
			client.Close()
			<-done
		})
	}
}

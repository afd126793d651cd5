package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const prosodyBin = "/usr/bin/prosody"

// prosodyServer is a Prosody started for one test, on a free loopback
// port, with its config, data, certificate and log in a temporary
// directory. It is stopped when the test ends.
type prosodyServer struct {
	addr   string
	pid    int
	config string
}

// startProsody starts Prosody with users accounts userN/passN (N from 1),
// or skips the test when Prosody is not installed (apt-get install
// prosody).
func startProsody(t *testing.T, users int) *prosodyServer {
	t.Helper()
	if _, err := os.Stat(prosodyBin); err != nil {
		t.Skipf("needs Prosody at %s (apt-get install -y prosody): %v", prosodyBin, err)
	}
	dir := t.TempDir()
	writeSelfSignedCert(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// Nagle is turned off because Prosody's TLS handshake otherwise waits
	// out delayed ACKs (about 40 ms per login); a benchmark of Prosody
	// should run it the same way. Rate limits (mod_limits) are not loaded.
	cfg := fmt.Sprintf(`
%[4]s
pidfile = %[1]q
data_path = %[2]q
log = { { levels = { min = "warn" }, to = "file", filename = %[3]q } }
network_backend = "epoll"
network_settings = { nagle = false; tcp_backlog = 1024 }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping" }
modules_disabled = { "s2s"; "offline" }
c2s_ports = { %[5]d }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = {}
authentication = "internal_hashed"
c2s_require_encryption = true
storage = "internal"
certificates = %[6]q
ssl = { certificate = %[7]q; key = %[8]q }
VirtualHost "localhost"
`, filepath.Join(dir, "prosody.pid"), filepath.Join(dir, "data"), filepath.Join(dir, "prosody.log"),
		runAsSettings(), port, dir, filepath.Join(dir, "localhost.crt"), filepath.Join(dir, "localhost.key"))
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	p := &prosodyServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), config: filepath.Join(dir, "prosody.cfg.lua")}
	if err := os.WriteFile(p.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= users; i++ {
		out, err := exec.Command("prosodyctl", "--config", p.config, "register",
			fmt.Sprintf("user%d", i), "localhost", fmt.Sprintf("pass%d", i)).CombinedOutput()
		if err != nil {
			t.Fatalf("prosodyctl register user%d: %v: %s", i, err, out)
		}
	}
	cmd := exec.Command(prosodyBin, "--config", p.config, "-F")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting prosody: %v", err)
	}
	p.pid = cmd.Process.Pid
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "prosody.log"))
			t.Logf("prosody output:\n%s\nprosody log:\n%s", out.String(), log)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("prosody did not listen on %s: %v\n%s", p.addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runAsSettings lets Prosody run as root, which it refuses by default,
// so the test works as root as well as as an ordinary user (who needs
// nothing: Prosody only switches users when started as root).
func runAsSettings() string {
	if os.Geteuid() == 0 {
		return "run_as_root = true\nprosody_user = \"root\""
	}
	return ""
}

func writeSelfSignedCert(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"localhost.crt": {Type: "CERTIFICATE", Bytes: der},
		"localhost.key": {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// runJSON runs one command line against the server and decodes its JSON
// result, failing the test on a non-zero exit.
func runJSON(t *testing.T, p *prosodyServer, args ...string) result {
	t.Helper()
	args = append(args, "--addr", p.addr, "--insecure", "--json", "--label", "prosody", "--timeout", "5s", "--max-time", "1m")
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	if code != exitOK {
		t.Fatalf("xmppbench %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("decoding %q: %v", out.String(), err)
	}
	if r.Errors != 0 {
		t.Errorf("%s: %d errors: %v %q", args[0], r.Errors, r.ErrorsByKind, r.ErrorSamples)
	}
	if r.Ops == 0 {
		t.Errorf("%s: no operation completed", args[0])
	}
	if r.Scenario != args[0] || r.Label != "prosody" {
		t.Errorf("result names scenario %q, label %q", r.Scenario, r.Label)
	}
	return r
}

// TestScenariosAgainstProsody runs every scenario and setup step briefly
// against a real Prosody: the client's whole negotiation (STARTTLS,
// SCRAM-SHA-1 and PLAIN, bind, roster, presence) and each scenario's
// bookkeeping must hold up against a server written by others.
func TestScenariosAgainstProsody(t *testing.T) {
	p := startProsody(t, 8)

	for _, mech := range []string{"SCRAM-SHA-1", "PLAIN"} {
		r := runJSON(t, p, "login", "--users", "8", "--concurrency", "2", "--duration", "1s", "--mech", mech)
		if r.Latency.Count != int(r.Ops) || r.Latency.P50MS <= 0 || r.Latency.MaxMS < r.Latency.P99MS {
			t.Errorf("login %s: latency %+v does not fit %d logins", mech, r.Latency, r.Ops)
		}
	}

	counted := runJSON(t, p, "login", "--users", "8", "--concurrency", "3", "--duration", "30s", "--count", "7")
	if counted.Ops != 7 || counted.DurationS > 10 {
		t.Errorf("login --count 7: %d logins in %vs, want 7 well before --duration", counted.Ops, counted.DurationS)
	}

	r := runJSON(t, p, "chat", "--users", "4", "--duration", "1s", "--window", "4")
	if r.Figures["delivered"] != r.Figures["sent"] || r.Latency.Count != int(r.Figures["delivered"]) {
		t.Errorf("chat: sent %v, delivered %v, latency samples %d", r.Figures["sent"], r.Figures["delivered"], r.Latency.Count)
	}
	rated := runJSON(t, p, "chat", "--users", "2", "--duration", "1s", "--rate", "50")
	if rated.Figures["sent"] < 30 || rated.Figures["sent"] > 70 {
		t.Errorf("chat at --rate 50 for 1s sent %v messages", rated.Figures["sent"])
	}

	r = runJSON(t, p, "subscribe", "--users", "6")
	if r.Ops != 5 {
		t.Errorf("subscribe: %d mutual subscriptions, want 5", r.Ops)
	}
	r = runJSON(t, p, "fanout", "--users", "6", "--duration", "1s")
	rounds := r.MoreLatency["round (all contacts)"]
	if rounds.Count == 0 || r.Ops != int64(rounds.Count*5) || rounds.P50MS < r.Latency.P50MS {
		t.Errorf("fanout: %d deliveries, rounds %+v, per contact %+v", r.Ops, rounds, r.Latency)
	}

	runJSON(t, p, "fill-roster", "--users", "8", "--hub", "7", "--items", "30", "--window", "5")
	r = runJSON(t, p, "roster", "--users", "8", "--hub", "7", "--items", "30", "--duration", "1s", "--concurrency", "2")
	if r.Figures["roster_items"] != 30 {
		t.Errorf("roster: %v items, want 30", r.Figures["roster_items"])
	}

	r = runJSON(t, p, "idle", "--users", "8", "--sessions", "40", "--duration", "1s", "--server-pid", strconv.Itoa(p.pid))
	if r.Ops != 40 || r.Figures["server_rss_end_bytes"] <= 0 || r.Figures["server_rss_per_session_bytes"] == 0 ||
		r.Figures["server_cpu_s"] <= 0 || r.Figures["client_cpu_s"] <= 0 {
		t.Errorf("idle: %d sessions, figures %v", r.Ops, r.Figures)
	}
}

// A wrong password must show up as counted auth errors, not as logins.
func TestLoginWrongPasswordAgainstProsody(t *testing.T) {
	p := startProsody(t, 1)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"login", "--addr", p.addr, "--insecure", "--json", "--users", "1",
		"--password-pattern", "wrong%d", "--duration", "500ms", "--concurrency", "1", "--timeout", "5s"}, &out, &errOut)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d (no login succeeded)\n%s", code, exitFailure, errOut.String())
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Ops != 0 || r.ErrorsByKind["auth"] == 0 {
		t.Fatalf("ops %d, errors %v; want only auth errors", r.Ops, r.ErrorsByKind)
	}
}

// Without --insecure the self-signed certificate must be refused.
func TestLoginVerifiesCertificateByDefault(t *testing.T) {
	p := startProsody(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &config{addr: p.addr, domain: "localhost", mech: "auto", startTLS: true, timeout: 5 * time.Second}
	_, err := login(ctx, c.clientConfig(), "user1", "pass1", "x", loginSteps{})
	if err == nil || errorPhase(err) != "tls" {
		t.Fatalf("login with an untrusted certificate: %v, want a tls error", err)
	}
}

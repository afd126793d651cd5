package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/template"
	"time"
)

//go:embed testdata/compare/*.tmpl
var compareTemplates embed.FS

// compareScramIterations is the PBKDF2 round count every server stores
// credentials with, so logins cost the same work everywhere (xmppd's and
// ejabberd's default; Prosody's is 10,000 and is lowered here).
const compareScramIterations = 4096

// compareSettings fills a server's configuration template.
type compareSettings struct {
	Dir, Domain              string
	Port, TLSPort, AdminPort int
	Root                     bool
	// Archive turns message archiving on (XEP-0313, every one-to-one
	// message by default): xmppd's archive.enabled, Prosody's and
	// ejabberd's mod_mam on their default storage.
	Archive bool
}

// renderCompareTemplate renders testdata/compare/NAME.tmpl.
func renderCompareTemplate(name string, s any) ([]byte, error) {
	t, err := template.ParseFS(compareTemplates, "testdata/compare/"+name+".tmpl")
	if err != nil {
		return nil, fmt.Errorf("xmppbench: compare: template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, s); err != nil {
		return nil, fmt.Errorf("xmppbench: compare: template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// compareServer is one server under test, in its own temporary directory.
// Methods are called from one goroutine, in the order provision (before or
// after start, as the kind needs), start, stop.
type compareServer struct {
	kind   string // xmppd, prosody, ejabberd
	bin    string // xmppd binary
	dir    string
	domain string
	set    compareSettings

	cmd       *exec.Cmd
	out       *bytes.Buffer
	done      chan struct{}
	startedAt time.Time // when the last start began
}

// newCompareServer makes the server's directory, certificate and config.
func newCompareServer(kind, xmppdBin, domain string, archive bool) (*compareServer, error) {
	dir, err := os.MkdirTemp("", "xmppbench-compare-"+kind+"-")
	if err != nil {
		return nil, fmt.Errorf("xmppbench: compare: %w", err)
	}
	s := &compareServer{kind: kind, bin: xmppdBin, dir: dir, domain: domain}
	fail := func(err error) (*compareServer, error) { os.RemoveAll(dir); return nil, err }
	if err := writeCompareCert(dir, domain); err != nil {
		return fail(err)
	}
	ports, err := freeLoopbackPorts(3)
	if err != nil {
		return fail(err)
	}
	s.set = compareSettings{Dir: dir, Domain: domain, Port: ports[0], TLSPort: ports[1], AdminPort: ports[2], Root: os.Geteuid() == 0, Archive: archive}
	for _, d := range []string{"data", "certs", "spool", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return fail(err)
		}
	}
	name := map[string]string{"xmppd": "xmppd.yaml", "prosody": "prosody.cfg.lua", "ejabberd": "ejabberd.yml"}[kind]
	cfg, err := renderCompareTemplate(name, s.set)
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), cfg, 0o600); err != nil {
		return fail(err)
	}
	return s, nil
}

func (s *compareServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.set.Port)) }

func (s *compareServer) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// provision creates accounts 1..users as user%d/pass%d. xmppd and Prosody
// are provisioned before start, ejabberd after (through its HTTP API).
func (s *compareServer) provision(ctx context.Context, c *config, log io.Writer) error {
	switch s.kind {
	case "xmppd":
		return s.provisionXmppd(ctx, c, log)
	case "prosody":
		return s.provisionProsody(c)
	case "ejabberd":
		return s.provisionEjabberd(ctx, c)
	}
	return fmt.Errorf("xmppbench: compare: unknown server %q", s.kind)
}

// provisionXmppd runs `xmppd user add --password-stdin` once per account,
// two at a time: the command line is the supported way in, and it costs
// about 17 ms an account.
func (s *compareServer) provisionXmppd(ctx context.Context, c *config, log io.Writer) error {
	cfg := filepath.Join(s.dir, "xmppd.yaml")
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= c.users || ctx.Err() != nil {
					return
				}
				a := c.account(i)
				var err error
				for try := 0; try < 5; try++ { // two writers may meet on SQLite's lock
					cmd := exec.CommandContext(ctx, s.bin, "user", "add", "--config", cfg, a.user+"@"+c.domain, "--password-stdin")
					cmd.Stdin = strings.NewReader(a.password + "\n")
					var out []byte
					if out, err = cmd.CombinedOutput(); err == nil {
						break
					} else {
						err = fmt.Errorf("xmppd user add %s: %w: %s", a.user, err, bytes.TrimSpace(out))
					}
					time.Sleep(50 * time.Millisecond)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("xmppbench: compare: %w", err)
	}
	return ctx.Err()
}

// provisionProsody writes each account's file the way mod_auth_internal_hashed
// stores it (SCRAM-SHA-1 keys, hex), which takes milliseconds where
// `prosodyctl register` takes 85 ms an account.
func (s *compareServer) provisionProsody(c *config) error {
	dir := filepath.Join(s.dir, "data", prosodyEncode(c.domain), "accounts")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("xmppbench: compare: %w", err)
	}
	for i := range c.users {
		a := c.account(i)
		body, err := prosodyAccountFile(a.password, compareScramIterations)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, prosodyEncode(a.user)+".dat"), body, 0o600); err != nil {
			return fmt.Errorf("xmppbench: compare: %w", err)
		}
	}
	return nil
}

// prosodyEncode is util.datamanager's encode: every non-alphanumeric
// byte becomes %xx.
func prosodyEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02x", ch)
		}
	}
	return b.String()
}

// prosodyAccountFile returns a Prosody account file with SCRAM-SHA-1
// credentials for password (RFC 5802: StoredKey = H(HMAC(salted,
// "Client Key")), ServerKey = HMAC(salted, "Server Key")).
func prosodyAccountFile(password string, iterations int) ([]byte, error) {
	raw := make([]byte, 12)
	rand.Read(raw)
	salt := hex.EncodeToString(raw)
	salted, err := pbkdf2.Key(sha1.New, password, []byte(salt), iterations, sha1.Size)
	if err != nil {
		return nil, fmt.Errorf("xmppbench: compare: %w", err)
	}
	mac := func(msg string) []byte { m := hmac.New(sha1.New, salted); m.Write([]byte(msg)); return m.Sum(nil) }
	stored := sha1.Sum(mac("Client Key"))
	server := mac("Server Key")
	return fmt.Appendf(nil, "return {\n\t[\"stored_key\"] = %q;\n\t[\"server_key\"] = %q;\n\t[\"salt\"] = %q;\n\t[\"iteration_count\"] = %d;\n};\n",
		hex.EncodeToString(stored[:]), hex.EncodeToString(server), salt, iterations), nil
}

// provisionEjabberd registers accounts through mod_http_api on loopback,
// eight requests in flight (about 25 ms each, against 0.7 s for a call
// of ejabberdctl, which starts an Erlang node every time).
func (s *compareServer) provisionEjabberd(ctx context.Context, c *config) error {
	url := "http://127.0.0.1:" + strconv.Itoa(s.set.AdminPort) + "/api/register"
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, DialContext: newDialer(false).DialContext}}
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	for range 8 {
		wg.Go(func() {
			for firstErr.Load() == nil && ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= c.users {
					return
				}
				a := c.account(i)
				body := fmt.Sprintf(`{"user":%q,"host":%q,"password":%q}`, a.user, c.domain, a.password)
				req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
				resp, err := client.Do(req)
				if err == nil {
					msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s: %s", resp.Status, msg)
					}
				}
				if err != nil {
					err = fmt.Errorf("xmppbench: compare: ejabberd register %s: %w", a.user, err)
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return *e
	}
	return ctx.Err()
}

// raiseNofile runs argv with the open-file limit raised to the hard limit
// (a Go parent gives children its original soft limit, often 1,024),
// enough for ten thousand sessions.
func raiseNofile(argv ...string) []string {
	return append([]string{"/bin/sh", "-c", `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`, "sh"}, argv...)
}

// start starts the server in its own process group and waits until its
// client port accepts connections.
func (s *compareServer) start(ctx context.Context) error {
	var argv []string
	env := os.Environ()
	switch s.kind {
	case "xmppd":
		argv = []string{s.bin, "serve", "--config", filepath.Join(s.dir, "xmppd.yaml")}
	case "prosody":
		argv = []string{compareBins["prosody"], "--config", filepath.Join(s.dir, "prosody.cfg.lua"), "-F"}
	case "ejabberd":
		// ejabberd straight from erl, as ejabberdctl foreground would but
		// without a node name: no distribution, so no epmd to clean up,
		// and it runs as the current user in the temporary directory.
		argv = []string{"/usr/bin/erl", "+K", "true", "+P", "1000000", "-noinput", "-noshell",
			"-mnesia", "dir", strconv.Quote(filepath.Join(s.dir, "spool")), "-s", "ejabberd"}
		env = append(env, "EJABBERD_CONFIG_PATH="+filepath.Join(s.dir, "ejabberd.yml"),
			"EJABBERD_LOG_PATH="+filepath.Join(s.dir, "log", "ejabberd.log"),
			"ERL_LIBS=/usr/lib/x86_64-linux-gnu", "ERL_MAX_PORTS=65536", "ERL_CRASH_DUMP_BYTES=0",
			"ERL_EPMD_ADDRESS=127.0.0.1")
		if out, err := exec.Command("sh", "-c", "ls -d /usr/lib/*/ejabberd-* /usr/lib/erlang/lib/ejabberd-* 2>/dev/null | head -1").Output(); err == nil && len(out) > 0 {
			env = append(env, "ERL_LIBS="+filepath.Dir(strings.TrimSpace(string(out))))
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Args = raiseNofile(argv...)
	cmd.Path = "/bin/sh"
	cmd.Dir, cmd.Env = s.dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.out = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: s.out}, &lockedWriter{w: s.out}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("xmppbench: compare: starting %s: %w", s.kind, err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()
	s.startedAt = time.Now()
	deadline := s.startedAt.Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			c.Close()
			if s.kind == "ejabberd" { // the HTTP API comes up with the c2s listener's siblings
				time.Sleep(500 * time.Millisecond)
			}
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("xmppbench: compare: %s exited at start: %s", s.kind, s.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond): // fine enough to time a start-up
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("xmppbench: compare: %s did not listen on %s within 60s: %s", s.kind, s.addr(), s.logTail())
		}
	}
}

// logTail returns the end of what the server printed and logged.
func (s *compareServer) logTail() string {
	var b strings.Builder
	if lw, ok := s.cmd.Stdout.(*lockedWriter); ok {
		lw.mu.Lock()
		b.Write(s.out.Bytes())
		lw.mu.Unlock()
	}
	for _, f := range []string{"prosody.log", "log/ejabberd.log", "log/error.log"} {
		if data, err := os.ReadFile(filepath.Join(s.dir, f)); err == nil {
			b.Write(data)
		}
	}
	out := b.String()
	if len(out) > 2000 {
		out = "…" + out[len(out)-2000:]
	}
	return out
}

// stop ends the server's process group: SIGTERM, then SIGKILL after 15 s.
func (s *compareServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	}
	syscall.Kill(-pgid, syscall.SIGKILL) // anything the server left in its group
	s.cmd = nil
}

// remove stops the server and deletes its directory.
func (s *compareServer) remove() {
	s.stop()
	os.RemoveAll(s.dir)
}

// lockedWriter serializes writes from a process's stdout and stderr.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.w.(*bytes.Buffer); ok && b.Len() > 1<<20 {
		return len(p), nil // enough to explain a failure
	}
	return l.w.Write(p)
}

// freeLoopbackPorts returns n distinct ports free on 127.0.0.1 just now.
func freeLoopbackPorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("xmppbench: compare: finding a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writeCompareCert writes a self-signed certificate for domain as
// cert.pem, key.pem and certkey.pem (both, for ejabberd) in dir.
func writeCompareCert(dir, domain string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("xmppbench: compare: certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: domain},
		DNSNames:     []string{domain},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("xmppbench: compare: certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("xmppbench: compare: certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	for name, data := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM, "certkey.pem": append(append([]byte{}, keyPEM...), certPEM...)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("xmppbench: compare: certificate: %w", err)
		}
	}
	return nil
}

package c2s_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"

	"xmppd/adapters/c2s"
)

// Environment of the client half of TestIdleSessionFootprint, which runs
// in a child process so that the parent's heap holds the server alone.
const (
	envFootprintAddr = "C2S_FOOTPRINT_ADDR"
	envFootprintN    = "C2S_FOOTPRINT_SESSIONS"
	envFootprintCert = "C2S_FOOTPRINT_CERT" // base64 DER of the server's leaf
)

// Per idle bound session, at most: what xmppd costs is what a server
// holding tens of thousands of mobile clients pays for each. The bounds
// are generous (measured: 1 goroutine and about 14.6 KB of heap and
// stack, 18.7 KB under the race detector; 2 and 50 KB before);
// the test fails when a change brings back a second goroutine or a
// buffer held while idle.
const (
	maxGoroutinesPerIdleSession = 1
	maxBytesPerIdleSession      = 24 << 10
	// The reader's stack: 4 KiB when its deepest path fits the size it
	// starts with, 8 KiB (for good) when not; a little over 4 KiB allows
	// for the test's own goroutines.
	maxStackPerIdleSession = 5 << 10
)

// An idle authenticated TLS session holds one goroutine (its reader,
// parked in the network poller) and little memory: no writer goroutine,
// keepalive timer or output buffer while nothing is queued, and no read
// buffer beyond the TLS record layer's while no stanza is arriving.
func TestIdleSessionFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("opens hundreds of sessions")
	}
	n := 500
	if os.Getenv("C2S_FOOTPRINT_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	ts := startServer(t, nil)

	g0, mem0, stack0 := serverFootprint()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleFootprintClients$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envFootprintAddr+"="+ts.srv.DirectTLSAddr().String(),
		envFootprintN+"="+strconv.Itoa(n),
		envFootprintCert+"="+base64.StdEncoding.EncodeToString(ts.certDER))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child closes its sessions and exits
		cmd.Wait()
	}()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "READY" {
				ready <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- fmt.Errorf("client process ended before its sessions were bound: %v", sc.Err())
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("client process did not bind its sessions in time")
	}
	waitFor(t, "sessions bound", func() bool {
		ts.core.mu.Lock()
		defer ts.core.mu.Unlock()
		return len(ts.core.sessions) == n
	})

	g1, mem1, stack1 := serverFootprint()
	if p := os.Getenv("C2S_FOOTPRINT_PROFILE"); p != "" {
		// For a look at where the bytes are: go tool pprof -top p.
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	perB := float64(int64(mem1)-int64(mem0)) / float64(n)
	stackB := float64(int64(stack1)-int64(stack0)) / float64(n)
	t.Logf("%d idle sessions: %d goroutines more and %.0f bytes of heap and stack each, %.0f of them stack", n, g1-g0, perB, stackB)
	// The test's own goroutine reading the child's output is among them.
	if extra := g1 - g0 - n*maxGoroutinesPerIdleSession; extra > 2 {
		t.Errorf("%d goroutines for %d idle sessions, want at most %d each", g1-g0, n, maxGoroutinesPerIdleSession)
	}
	if perB > maxBytesPerIdleSession {
		t.Errorf("%.0f bytes per idle session, want at most %d", perB, maxBytesPerIdleSession)
	}
	if stackB > maxStackPerIdleSession {
		t.Errorf("%.0f bytes of goroutine stack per idle session, want at most %d: the reader's deepest path no longer fits the 4 KiB it starts with, and an 8 KiB stack parked in the TLS read is never shrunk (Session.run)", stackB, maxStackPerIdleSession)
	}
}

// serverFootprint is this process's goroutines, its live heap plus
// goroutine stacks, and the stacks alone, after a collection (which also
// shrinks stacks that use less than a quarter of their size, as a
// running server's would).
func serverFootprint() (goroutines int, bytes, stack uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc + m.StackInuse, m.StackInuse
}

// TestIdleFootprintClients is the client half of TestIdleSessionFootprint;
// run on its own it does nothing.
func TestIdleFootprintClients(t *testing.T) {
	addr := os.Getenv(envFootprintAddr)
	if addr == "" {
		t.Skip("the client process of TestIdleSessionFootprint")
	}
	n, _ := strconv.Atoi(os.Getenv(envFootprintN))
	der, err := base64.StdEncoding.DecodeString(os.Getenv(envFootprintCert))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	cfg := &tls.Config{RootCAs: roots, ServerName: testDomain}
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c := dialRaw(t, tcp)
		tc := tls.Client(c.conn, cfg)
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		c.conn = tc
		c.d = xml.NewDecoder(tc)
		c.open()
		if el := c.auth(sasl.ScramSha256, "alice", "secret"); el.Name.Local != "success" {
			t.Fatalf("auth: %s", el)
		}
		c.open()
		c.bind("idle-" + strconv.Itoa(i))
		c.conn.SetDeadline(time.Time{})
	}
	fmt.Println("READY")
	io.Copy(io.Discard, os.Stdin)
}

// A large stanza leaves little behind: the reader's buffer is fixed and
// small, and the XML decoder, which keeps a buffer as large as the
// largest token it read, is replaced after it (measured: about 48 KB per
// session after a 200 KB stanza, most of it the TLS record layer's input
// buffer; 305 KB before).
func TestLargeStanzaNotRetained(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const n, size = 20, 200000
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.MaxStanzaBytes = 2 * size })
	var clients []*rawClient
	for range n {
		c, _, _ := login(t, ts, "alice", "secret", "")
		clients = append(clients, c)
	}
	_, mem0, _ := serverFootprint()
	msg := `<message to='bob@localhost'><subject>` + strings.Repeat("x", size) + `</subject></message>`
	for _, c := range clients {
		c.send(msg)
		nextStanza(t, ts.core)
		c.send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
		c.next()
	}
	_, mem1, _ := serverFootprint()
	runtime.KeepAlive(clients)
	per := (int64(mem1) - int64(mem0)) / n
	t.Logf("%d bytes kept per session after a %d-byte stanza", per, size)
	if per > size/2 {
		t.Errorf("%d bytes kept per session after a %d-byte stanza, want at most %d", per, size, size/2)
	}
}

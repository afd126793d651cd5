package main_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serverProc is `xmppd serve` running as a separate process on 127.0.0.1,
// with the defaults of a fresh checkout (no configuration file) but for the
// ports, which the test picks so tests can run side by side.
type serverProc struct {
	cmd       *exec.Cmd
	dir       string
	starttls  string
	directTLS string
	metrics   string   // metrics.addr: /metrics, /healthz
	env       []string // extra XMPPD_* settings
	args      []string // extra arguments after serve

	mu     sync.Mutex
	stderr strings.Builder
	exited chan struct{}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe starts the server in dir and waits until it is ready; env
// adds XMPPD_* settings (metrics.addr is always a free port, p.metrics).
// The server is stopped with SIGTERM when the test ends, if still running.
func startServe(t *testing.T, dir string, env ...string) *serverProc {
	t.Helper()
	p := &serverProc{dir: dir, starttls: freePort(t), directTLS: freePort(t), metrics: freePort(t), env: env, exited: make(chan struct{})}
	p.start(t)
	t.Cleanup(func() { p.stop(t, syscall.SIGTERM) })
	return p
}

// start starts the server and waits until it is ready. A port picked by
// freePort can be taken by someone else before the server binds it (another
// test's listener or a client's ephemeral port); then the server is started
// again on fresh ports, a few times, before the test fails.
func (p *serverProc) start(t *testing.T) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		err := p.startOnce(t)
		if err == nil {
			return
		}
		if attempt < 5 && strings.Contains(p.log(), "address already in use") {
			t.Logf("port taken before the server bound it; again on fresh ports:\n%s", p.log())
			p.mu.Lock()
			p.stderr.Reset()
			p.mu.Unlock()
			p.starttls, p.directTLS, p.metrics = freePort(t), freePort(t), freePort(t)
			continue
		}
		t.Fatal(err)
	}
}

func (p *serverProc) startOnce(t *testing.T) error {
	t.Helper()
	p.exited = make(chan struct{})
	p.cmd = exec.Command(xmppdBin, append([]string{"serve"}, p.args...)...)
	p.cmd.Dir = p.dir
	p.cmd.Env = append(os.Environ(),
		"XMPPD_NODE=test-node",
		"XMPPD_C2S_STARTTLS_ADDR="+p.starttls,
		"XMPPD_C2S_TLS_ADDR="+p.directTLS,
		"XMPPD_METRICS_ADDR="+p.metrics,
	)
	p.cmd.Env = append(p.cmd.Env, p.env...)
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go p.collect(errPipe, ready)
	go func() { p.cmd.Wait(); close(p.exited) }()
	select {
	case <-ready:
		return nil
	case <-p.exited:
		return fmt.Errorf("xmppd serve exited before it was ready:\n%s", p.log())
	case <-time.After(20 * time.Second):
		return fmt.Errorf("xmppd serve not ready after 20s:\n%s", p.log())
	}
}

func (p *serverProc) collect(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	once := sync.Once{}
	for sc.Scan() {
		p.mu.Lock()
		p.stderr.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		if strings.Contains(sc.Text(), "xmppd ready") {
			once.Do(func() { close(ready) })
		}
	}
}

func (p *serverProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stop sends sig and waits for the process to end.
func (p *serverProc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Errorf("xmppd serve did not stop within 20s of %v:\n%s", sig, p.log())
	}
}

func (p *serverProc) String() string {
	return fmt.Sprintf("xmppd serve in %s on %s", p.dir, p.starttls)
}

package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"xmppd/events"
)

// TestRefusedLoginsCannotFloodTheLog: an address that the throttle
// refuses is answered at once, so it can fail as fast as it opens TLS
// connections. After refuse_after wrong passwords from 127.0.0.2, 500
// more attempts on 8 parallel connections are all refused with
// <temporary-auth-failure/> (RFC 6120 section 6.5.12); the metrics count
// every one of them, but the log holds only the first whole
// (session.auth_failed, throttle "refused") and, per interval (1 s
// here), one session.auth_refusals_summarised whose counts make up the
// rest exactly, written while the server runs once the interval has
// passed (and at shutdown). `xmppd audit --server` says so in words. The checked
// failures before the refusal are all recorded whole.
func TestRefusedLoginsCannotFloodTheLog(t *testing.T) {
	canDialFrom(t, attackerIP)
	const (
		refuseAfter = 6
		attempts    = 500
		workers     = 8
	)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	env := append(throttleEnv(10*time.Millisecond, 20*time.Millisecond, refuseAfter, workers), "XMPPD_AUTH_REFUSAL_LOG_INTERVAL=1s")
	srv := startServe(t, dir, env...)

	for i := range refuseAfter {
		if cond, _, err := loginOnce(attackerIP, srv.directTLS, "alice", fmt.Sprintf("guess-%d", i)); err != nil || cond != "not-authorized" {
			t.Fatalf("guess %d: %q %v", i, cond, err)
		}
	}
	start := time.Now()
	next := make(chan int, attempts)
	for i := range attempts {
		next <- i
	}
	close(next)
	var mu sync.Mutex
	conds := map[string]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cond, _, err := loginOnce(attackerIP, srv.directTLS, "alice", fmt.Sprintf("flood-%d", i))
				if err != nil {
					cond = "error: " + err.Error()
				}
				mu.Lock()
				conds[cond]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if conds["temporary-auth-failure"] != attempts {
		t.Fatalf("answers to the %d attempts after the refusal: %v", attempts, conds)
	}
	m := scrape(t, srv.metrics)
	if got := m[`xmppd_auth_throttled_total{decision="refused"}`]; got != attempts {
		t.Errorf(`xmppd_auth_throttled_total{decision="refused"} = %v, want %d: every refusal is counted`, got, attempts)
	}
	// The attacker stops: its last refusals are summarised once the
	// interval has passed, while the server runs, not only at shutdown.
	// A summary can be written during the flood and another after it: read
	// until they add up, or the deadline.
	var running int64
	for deadline := time.Now().Add(5 * time.Second); running != attempts-1 && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		running = 0
		for _, e := range readJSONL(t, mustRun(t, dir, "", "export", "--format", "jsonl").stdout) {
			if e.Type == events.TypeAuthRefusalsSummarised {
				p, err := events.Decode(&e)
				if err != nil {
					t.Fatal(err)
				}
				running += p.(events.AuthRefusalsSummarised).Count
			}
		}
	}
	if running != attempts-1 {
		t.Errorf("while the server runs, summaries count %d refusals, want %d", running, attempts-1)
	}
	srv.stop(t, syscall.SIGTERM)

	var whole, summaries, checked int
	var summarised int64
	stopped := false
	for _, e := range readJSONL(t, mustRun(t, dir, "", "export", "--format", "jsonl").stdout) {
		switch e.Type {
		case events.TypeServerStopped:
			stopped = true
		case events.TypeAuthFailed, events.TypeAuthRefusalsSummarised:
			if stopped {
				t.Errorf("%s recorded after server.stopped", e.Type)
			}
		}
		p, err := events.Decode(&e)
		if err != nil {
			t.Fatal(err)
		}
		switch p := p.(type) {
		case events.AuthFailed:
			if p.Throttle == events.ThrottleRefused {
				whole++
			} else {
				checked++
			}
		case events.AuthRefusalsSummarised:
			summaries++
			summarised += p.Count
			if p.ClientAddr != attackerIP || p.Count < 1 || p.Last.Before(p.First) {
				t.Errorf("summary %+v", p)
			}
		}
	}
	t.Logf("%d refused attempts in %s: %d recorded whole, %d summaries for %d more; %d checked failures recorded whole",
		attempts, took.Round(time.Millisecond), whole, summaries, summarised, checked)
	if checked != refuseAfter {
		t.Errorf("%d checked failures recorded, want %d", checked, refuseAfter)
	}
	if int64(whole)+summarised != attempts {
		t.Errorf("%d whole + %d summarised = %d refusals in the log, want %d", whole, summarised, int64(whole)+summarised, attempts)
	}
	// One event per 1 s interval, plus the first and the flush at
	// shutdown.
	if limit := int(took/time.Second) + 3; whole+summaries > limit {
		t.Errorf("%d events for %d refusals in %s, want at most %d", whole+summaries, attempts, took, limit)
	}
	if whole != 1 {
		t.Errorf("%d refusals recorded whole, want the first only", whole)
	}

	out := mustRun(t, dir, "", "audit", "--server", "--type", "session").stdout
	if !strings.Contains(out, "refused without checking the password") {
		t.Errorf("audit --server does not show the whole refusal:\n%s", out)
	}
	var told int64
	for _, line := range strings.Split(out, "\n") {
		var n int64
		if i := strings.Index(line, " further login"); i >= 0 {
			f := strings.Fields(line[:i])
			fmt.Sscan(f[len(f)-1], &n)
			if !strings.Contains(line, "from "+attackerIP+" refused by the throttle") {
				t.Errorf("summary line %q", line)
			}
		}
		told += n
	}
	if told != summarised {
		t.Errorf("audit --server tells of %d summarised refusals, the log holds %d:\n%s", told, summarised, out)
	}
}

// TestServeRefusesBadRefusalLogSettings: bad auth.refusal_log keys are
// named, both at once, and serve does not start.
func TestServeRefusesBadRefusalLogSettings(t *testing.T) {
	dir := t.TempDir()
	yaml := "auth:\n  refusal_log:\n    interval: 100ms\n    max_addresses: 0\n"
	if err := os.WriteFile(filepath.Join(dir, "xmppd.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := xmppd(t, dir, "", "serve")
	for _, w := range []string{"auth.refusal_log.interval 100ms must be at least 1s", "auth.refusal_log.max_addresses 0 must be at least 1"} {
		if r.code == 0 || !strings.Contains(r.stderr, w) {
			t.Errorf("exit %d, stderr %q, want it to say %q", r.code, r.stderr, w)
		}
	}
}

package main_test

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"xmppd/events"
)

// The attacker's source address: on Linux all of 127.0.0.0/8 is
// loopback, so the server sees a second address beside 127.0.0.1.
const attackerIP = "127.0.0.2"

// saslConn is a direct-TLS (XEP-0368) connection from a chosen source
// address, stopped at the SASL stage. Unlike rawXMPP it reports errors
// instead of failing the test, so many can run on their own goroutines.
type saslConn struct {
	conn *tls.Conn
	d    *xml.Decoder
}

// dialSASL connects from localIP and reads the server's stream header
// and features.
func dialSASL(localIP, addr string) (*saslConn, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}, Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	c := &saslConn{conn: conn, d: xml.NewDecoder(conn)}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, `<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`); err != nil {
		conn.Close()
		return nil, err
	}
	for {
		n, err := c.next()
		if err != nil {
			conn.Close()
			return nil, err
		}
		if n.XMLName.Local == "features" {
			return c, nil
		}
	}
}

func (c *saslConn) next() (xmlNode, error) {
	for {
		tok, err := c.d.Token()
		if err != nil {
			return xmlNode{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local == "stream" {
				return xmlNode{XMLName: se.Name}, nil
			}
			var n xmlNode
			err := c.d.DecodeElement(&n, &se)
			return n, err
		}
	}
}

// plain sends SASL PLAIN and returns "success" or the failure's
// condition, and how long the server took to answer.
func (c *saslConn) plain(user, password string) (string, time.Duration, error) {
	resp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	start := time.Now()
	if _, err := io.WriteString(c.conn, `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>`+resp+`</auth>`); err != nil {
		return "", 0, err
	}
	n, err := c.next()
	took := time.Since(start)
	if err != nil {
		return "", took, err
	}
	switch n.XMLName.Local {
	case "success":
		return "success", took, nil
	case "failure":
		if len(n.Nodes) == 1 {
			return n.Nodes[0].XMLName.Local, took, nil
		}
	}
	return "", took, fmt.Errorf("want success or failure, got %+v", n)
}

// loginOnce is one login attempt on a fresh connection from localIP.
func loginOnce(localIP, addr, user, password string) (string, time.Duration, error) {
	c, err := dialSASL(localIP, addr)
	if err != nil {
		return "", 0, err
	}
	defer c.conn.Close()
	return c.plain(user, password)
}

// canDialFrom skips the test where 127.0.0.2 is not a local address.
func canDialFrom(t *testing.T, ip string) {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("%s is not a local address here: %v", ip, err)
	}
	l.Close()
}

// throttleEnv is the brute-force tests' throttle: small delays, so the
// attack ends in seconds.
func throttleEnv(baseDelay, maxDelay time.Duration, refuseAfter, maxDelayed int) []string {
	return []string{
		"XMPPD_AUTH_THROTTLE_FREE_FAILURES=3",
		"XMPPD_AUTH_THROTTLE_ADDR_FREE_FAILURES=5",
		"XMPPD_AUTH_THROTTLE_BASE_DELAY=" + baseDelay.String(),
		"XMPPD_AUTH_THROTTLE_MAX_DELAY=" + maxDelay.String(),
		fmt.Sprintf("XMPPD_AUTH_THROTTLE_REFUSE_AFTER=%d", refuseAfter),
		"XMPPD_AUTH_THROTTLE_REFUSE_FOR=10m",
		"XMPPD_AUTH_THROTTLE_WINDOW=10m",
		fmt.Sprintf("XMPPD_AUTH_THROTTLE_MAX_DELAYED_PER_ADDR=%d", maxDelayed),
	}
}

// TestBruteForceDoesNotLockOutTheOwner: an attacker at 127.0.0.2 sends
// 200 wrong passwords for alice, on 8 parallel connections, while alice
// logs in again and again from 127.0.0.1. Alice is never refused and
// never delayed: each of her SASL exchanges is answered well below the
// smallest delay the throttle adds. The attacker's answers are delayed
// (at least base_delay) once past free_failures, and after refuse_after
// failures the address is refused with <temporary-auth-failure/> (RFC
// 6120 section 6.5.12), even with the right password. Every decision is
// on /metrics and in the session.auth_failed events.
func TestBruteForceDoesNotLockOutTheOwner(t *testing.T) {
	canDialFrom(t, attackerIP)
	const (
		baseDelay   = 250 * time.Millisecond
		maxDelay    = time.Second
		refuseAfter = 50
		workers     = 8 // = max_delayed_per_addr: no attempt is refused for the cap
		attempts    = 200
	)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	srv := startServe(t, dir, throttleEnv(baseDelay, maxDelay, refuseAfter, workers)...)

	type result struct {
		cond string
		took time.Duration
		err  error
	}
	results := make(chan result, attempts)
	next := make(chan int, attempts)
	for i := range attempts {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cond, took, err := loginOnce(attackerIP, srv.directTLS, "alice", fmt.Sprintf("guess-%d", i))
				results <- result{cond, took, err}
			}
		}()
	}
	attackDone := make(chan struct{})
	go func() { wg.Wait(); close(attackDone) }()

	// Alice logs in from 127.0.0.1 throughout the attack.
	var owner []time.Duration
	for running := true; running; {
		select {
		case <-attackDone:
			running = false
		case <-time.After(100 * time.Millisecond):
		}
		cond, took, err := loginOnce("127.0.0.1", srv.directTLS, "alice", "alice-pw")
		if err != nil || cond != "success" {
			t.Fatalf("owner login %d during the attack: %q %v", len(owner)+1, cond, err)
		}
		owner = append(owner, took)
	}
	close(results)

	var notAuthorized, refused, delayed int
	var slowestRefusal time.Duration
	for r := range results {
		switch {
		case r.err != nil:
			t.Fatalf("attacker attempt: %v", r.err)
		case r.cond == "not-authorized":
			notAuthorized++
			if r.took >= baseDelay {
				delayed++
			}
		case r.cond == "temporary-auth-failure":
			refused++
			slowestRefusal = max(slowestRefusal, r.took)
		default:
			t.Fatalf("attacker got %q", r.cond)
		}
	}
	var slowestOwner time.Duration
	for _, d := range owner {
		slowestOwner = max(slowestOwner, d)
	}
	t.Logf("attacker: %d not-authorized (%d of them delayed >= %s), %d refused (slowest refusal %s); owner: %d logins, slowest SASL answer %s",
		notAuthorized, delayed, baseDelay, refused, slowestRefusal, len(owner), slowestOwner)

	if len(owner) < 5 {
		t.Errorf("only %d owner logins during the attack", len(owner))
	}
	if slowestOwner >= baseDelay {
		t.Errorf("the owner was slowed: slowest SASL answer %s, the throttle's smallest delay is %s", slowestOwner, baseDelay)
	}
	// refuse_after failures, plus at most the attempts in flight when the
	// threshold was crossed, were checked; the rest were refused.
	if notAuthorized < refuseAfter || notAuthorized > refuseAfter+workers {
		t.Errorf("%d passwords checked, want %d to %d", notAuthorized, refuseAfter, refuseAfter+workers)
	}
	if refused != attempts-notAuthorized {
		t.Errorf("%d refused, want %d", refused, attempts-notAuthorized)
	}
	// All but the free failures (3, plus what the first parallel round
	// saw before any failure was counted) were delayed.
	if delayed < notAuthorized-3-workers {
		t.Errorf("only %d of %d checked guesses were delayed", delayed, notAuthorized)
	}
	if slowestRefusal >= baseDelay {
		t.Errorf("a refusal took %s: refused attempts are answered at once", slowestRefusal)
	}
	// Refused means refused: the right password from the attacker's
	// address is not even checked.
	if cond, _, err := loginOnce(attackerIP, srv.directTLS, "alice", "alice-pw"); err != nil || cond != "temporary-auth-failure" {
		t.Errorf("right password from the refused address: %q %v", cond, err)
	} else {
		refused++
	}

	m := scrape(t, srv.metrics)
	if got := m[`xmppd_auth_throttled_total{decision="refused"}`]; got != float64(refused) {
		t.Errorf(`xmppd_auth_throttled_total{decision="refused"} = %v, want %d`, got, refused)
	}
	if got := m[`xmppd_auth_throttled_total{decision="delayed"}`]; got < float64(delayed) || got > float64(notAuthorized) {
		t.Errorf(`xmppd_auth_throttled_total{decision="delayed"} = %v, want %d to %d`, got, delayed, notAuthorized)
	}

	// The log of failed logins holds every attempt with its decision,
	// refusals whole or counted in a summary.
	srv.stop(t, syscall.SIGTERM)
	decisions := map[events.ThrottleDecision]int{}
	for _, e := range readJSONL(t, mustRun(t, dir, "", "export", "--format", "jsonl").stdout) {
		if e.Type == events.TypeAuthRefusalsSummarised {
			// Refusals after an address's first are counted, not
			// recorded one by one (authflood_test.go).
			p, err := events.Decode(&e)
			if err != nil {
				t.Fatal(err)
			}
			decisions[events.ThrottleRefused] += int(p.(events.AuthRefusalsSummarised).Count)
			continue
		}
		if e.Type != events.TypeAuthFailed {
			continue
		}
		p, err := events.Decode(&e)
		if err != nil {
			t.Fatal(err)
		}
		f := p.(events.AuthFailed)
		if host, _, _ := net.SplitHostPort(f.ClientAddr); host != attackerIP {
			t.Errorf("a failed login from %s: the owner never failed", f.ClientAddr)
		}
		decisions[f.Throttle]++
		if f.Throttle == events.ThrottleDelayed && (f.DelayMillis < baseDelay.Milliseconds() || f.DelayMillis > maxDelay.Milliseconds()) {
			t.Errorf("delayed by %d ms, outside %s to %s", f.DelayMillis, baseDelay, maxDelay)
		}
	}
	t.Logf("session.auth_failed by decision: %v", decisions)
	if decisions[events.ThrottleRefused] != refused {
		t.Errorf("%d refusals recorded, want %d", decisions[events.ThrottleRefused], refused)
	}
	if decisions[events.ThrottleDelayed] != int(m[`xmppd_auth_throttled_total{decision="delayed"}`]) {
		t.Errorf("%d delays recorded, metrics counted %v", decisions[events.ThrottleDelayed], m[`xmppd_auth_throttled_total{decision="delayed"}`])
	}
	if decisions[events.ThrottleNone]+decisions[events.ThrottleDelayed] != notAuthorized {
		t.Errorf("%d checked guesses recorded, want %d", decisions[events.ThrottleNone]+decisions[events.ThrottleDelayed], notAuthorized)
	}
}

// TestBruteForceWaitingAttemptsCapped: an address may have only
// max_delayed_per_addr attempts waiting at once; the others are refused
// at once, so delayed attempts cannot pile up goroutines and sockets.
func TestBruteForceWaitingAttemptsCapped(t *testing.T) {
	canDialFrom(t, attackerIP)
	const (
		delay      = 500 * time.Millisecond
		maxWaiting = 3
		parallel   = 10
	)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	srv := startServe(t, dir, throttleEnv(delay, delay, 100, maxWaiting)...)
	for i := range 3 { // free_failures: answered at once
		if cond, took, err := loginOnce(attackerIP, srv.directTLS, "alice", "guess"); err != nil || cond != "not-authorized" || took >= delay {
			t.Fatalf("free failure %d: %q after %s, %v", i, cond, took, err)
		}
	}
	// Connect all first, then send every <auth/> at once.
	conns := make([]*saslConn, parallel)
	for i := range conns {
		c, err := dialSASL(attackerIP, srv.directTLS)
		if err != nil {
			t.Fatal(err)
		}
		defer c.conn.Close()
		conns[i] = c
	}
	type result struct {
		cond string
		took time.Duration
		err  error
	}
	results := make([]result, parallel)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cond, took, err := c.plain("alice", "guess")
			results[i] = result{cond, took, err}
		}()
	}
	wg.Wait()
	var waited, refused int
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Fatal(r.err)
		case r.cond == "not-authorized" && r.took >= delay:
			waited++
		case r.cond == "temporary-auth-failure" && r.took < delay:
			refused++
		default:
			t.Errorf("%q after %s", r.cond, r.took)
		}
	}
	if waited != maxWaiting || refused != parallel-maxWaiting {
		t.Errorf("%d waited and %d were refused, want %d and %d", waited, refused, maxWaiting, parallel-maxWaiting)
	}
	// The owner, elsewhere, is not affected.
	if cond, took, err := loginOnce("127.0.0.1", srv.directTLS, "alice", "alice-pw"); err != nil || cond != "success" || took >= delay {
		t.Errorf("owner: %q after %s, %v", cond, took, err)
	}
	m := scrape(t, srv.metrics)
	if m[`xmppd_auth_throttled_total{decision="delayed"}`] != maxWaiting || m[`xmppd_auth_throttled_total{decision="refused"}`] != parallel-maxWaiting {
		t.Errorf("metrics: delayed %v refused %v", m[`xmppd_auth_throttled_total{decision="delayed"}`], m[`xmppd_auth_throttled_total{decision="refused"}`])
	}
}

// TestServeRefusesBadThrottleSettings: bad auth.throttle keys are named,
// every one at once, and serve does not start.
func TestServeRefusesBadThrottleSettings(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		{"auth:\n  throttle:\n    window: 0s\n    max_delayed_per_addr: 0\n",
			[]string{"auth.throttle.window 0s must be positive", "auth.throttle.max_delayed_per_addr 0 must be at least 1"}},
		{"auth:\n  throttle:\n    max_delay: 2m\n    refuse_after: 2\n",
			[]string{"auth.throttle.max_delay 2m0s must be below the 1m0s negotiation timeout", "auth.throttle.refuse_after 2 must be above free_failures 3"}},
		{"auth:\n  throttle:\n    base_delay: 5s\n    max_delay: 1s\n",
			[]string{"auth.throttle.max_delay 1s is below auth.throttle.base_delay 5s"}},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "xmppd.yaml"), []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		r := xmppd(t, dir, "", "serve")
		for _, w := range tc.want {
			if r.code == 0 || !strings.Contains(r.stderr, w) {
				t.Errorf("%q: exit %d, stderr %q, want it to say %q", tc.yaml, r.code, r.stderr, w)
			}
		}
	}
}

package c2s_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"

	"xmppd/adapters/c2s"
)

// TestThrottleWaitEndsAtNegotiationDeadline: a delay never outlives the
// negotiation timeout; a wait the deadline cuts short ends the stream
// with <connection-timeout/> (RFC 6120 section 4.9.3.4), and the
// password is not checked.
func TestThrottleWaitEndsAtNegotiationDeadline(t *testing.T) {
	const delay = 400 * time.Millisecond
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) {
		cfg.NegotiationTimeout = 700 * time.Millisecond
		cfg.Throttle = c2s.ThrottleConfig{FreeFailures: 1, BaseDelay: delay, MaxDelay: delay}
	})
	c := dialDirectTLS(t, ts)
	c.open()
	if el := c.auth(sasl.Plain, "bob", "guess"); el.Child("not-authorized", "") == nil {
		t.Fatalf("free failure: %s", el)
	}
	c2 := dialDirectTLS(t, ts)
	c2.open()
	time.Sleep(400 * time.Millisecond) // 300 ms of the 700 left: less than the delay
	start := time.Now()
	c2.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>` + b64([]byte("\x00bob\x00hunter2")) + `</auth>`)
	c2.expectStreamError("connection-timeout")
	if took := time.Since(start); took >= delay {
		t.Errorf("the wait went on %s, past the negotiation deadline", took)
	}
}

// TestConfigChecksThrottle: an explicit MaxDelay must fit in the
// negotiation timeout; with the defaults, a short negotiation timeout
// shortens the default delays instead of failing.
func TestConfigChecksThrottle(t *testing.T) {
	base := c2s.Config{Domain: "localhost", StartTLSAddr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{{}}}}
	cfg := base
	cfg.Throttle.MaxDelay = 2 * time.Minute
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "throttle MaxDelay 2m0s is not below the negotiation timeout 1m0s") {
		t.Errorf("MaxDelay past the negotiation timeout: %v", err)
	}
	cfg = base
	cfg.Throttle.RefuseAfter = -1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "RefuseAfter -1 is negative") {
		t.Errorf("bad throttle: %v", err)
	}
	cfg = base
	cfg.NegotiationTimeout = 100 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Errorf("short negotiation timeout, default throttle: %v", err)
	}
}

// TestThrottleLongUsernames: names past 64 bytes are counted by their
// hash, still apart from each other and cleared by their own success.
func TestThrottleLongUsernames(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	th := c2s.NewMemoryThrottle(testThrottleConfig(&now))
	long := strings.Repeat("a", 1000)
	for range 3 {
		th.Record("192.0.2.1", long+"x", false)
	}
	if v := th.Check("192.0.2.1", long+"x"); v.Decision != "delayed" {
		t.Fatalf("long name: %s", v.Decision)
	} else {
		v.Release()
	}
	if v := th.Check("192.0.2.1", long+"y"); v.Decision != "none" {
		t.Fatalf("another long name with the same prefix: %s", v.Decision)
	}
	th.Record("192.0.2.1", long+"x", true)
	if v := th.Check("192.0.2.1", long+"x"); v.Decision != "none" {
		t.Fatalf("after success: %s", v.Decision)
	}
}

// TestThrottleCountsMalformedExchanges: malformed SASL (an unknown
// mechanism, bad base64) is a failure like a wrong password: each is an
// event in the log, so an address repeating it is refused in the end
// like a guesser (RFC 6120 6.5.12), rather than writing to the log
// unthrottled.
func TestThrottleCountsMalformedExchanges(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) {
		cfg.Throttle = c2s.ThrottleConfig{FreeFailures: 1, AddrFreeFailures: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, RefuseAfter: 4}
	})
	bad := []string{
		`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-NONE'>AA==</auth>`,
		`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!!not base64!!!</auth>`,
	}
	var conds []string
	for i := range 6 {
		c := dialDirectTLS(t, ts)
		c.open()
		c.send(bad[i%2])
		el := c.next()
		if el.Name.Local != "failure" || len(el.Elements()) == 0 {
			t.Fatalf("attempt %d: %s", i, el)
		}
		conds = append(conds, el.Elements()[0].Name.Local)
	}
	if last := conds[len(conds)-1]; last != "temporary-auth-failure" {
		t.Errorf("after %d malformed exchanges from one address the answers were %v; want temporary-auth-failure at the end", len(conds), conds)
	}
}

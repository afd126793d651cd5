package c2s_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"

	"xmppd/adapters/c2s"
	"xmppd/stanza"
)

func mechanismsOf(f *stanza.Element) []string {
	var out []string
	if m := f.Child("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl"); m != nil {
		for _, el := range m.Elements() {
			out = append(out, el.Text())
		}
	}
	return out
}

// RFC 6120 section 5.3.1 and 6.4.1: STARTTLS is required before anything
// else, so no SASL mechanism (PLAIN least of all) is offered in the clear;
// after TLS, the SCRAM mechanisms and PLAIN, but no -PLUS.
func TestFeaturesBeforeAndAfterTLS(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts.srv.StartTLSAddr())
	f := c.open()
	st := f.Child("starttls", "urn:ietf:params:xml:ns:xmpp-tls")
	if st == nil || st.Child("required", "") == nil {
		t.Fatalf("starttls not required: %s", f)
	}
	if m := mechanismsOf(f); len(m) != 0 {
		t.Fatalf("mechanisms offered before TLS: %v", m)
	}
	c.startTLS(ts.clientTLS())
	f = c.open()
	if f.Child("starttls", "") != nil {
		t.Error("starttls offered again after TLS")
	}
	want := []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}
	if got := mechanismsOf(f); !slices.Equal(got, want) {
		t.Fatalf("mechanisms = %v, want %v", got, want)
	}
}

// RFC 6120 section 6.5.4: authentication before TLS is refused with
// <encryption-required/>; a stanza before authentication ends the stream
// with <not-authorized/> (section 4.9.3.12).
func TestAuthBeforeStartTLSRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts.srv.StartTLSAddr())
	c.open()
	c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>` + b64([]byte("\x00alice\x00secret")) + `</auth>`)
	el := c.next()
	if el.Name.Local != "failure" || el.Child("encryption-required", "") == nil {
		t.Fatalf("want encryption-required failure, got %s", el)
	}
	c.send(`<message to='bob@localhost'><body>hi</body></message>`)
	c.expectStreamError("not-authorized")
	select {
	case st := <-ts.core.stanzas:
		t.Fatalf("core got a stanza from an unauthenticated stream: %s", st.El)
	default:
	}
}

// RFC 7590 section 3.1: plaintext pipelined after <starttls/> must not be
// taken as if it came under TLS.
func TestStartTLSInjectionRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts.srv.StartTLSAddr())
	c.open()
	c.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>`)
	c.expectStreamError("policy-violation")
}

// RFC 6120 section 6.4.5 and 6.5.10: a wrong password gets
// <not-authorized/> and the client may retry on the same stream; the right
// one then succeeds (RFC 5802 and RFC 7677 for SCRAM, RFC 4616 for PLAIN).
func TestSASLMechanisms(t *testing.T) {
	ts := startServer(t, nil)
	for _, mech := range []sasl.Mechanism{sasl.ScramSha256, sasl.ScramSha1, sasl.Plain} {
		t.Run(mech.Name, func(t *testing.T) {
			c := dialRaw(t, ts.srv.StartTLSAddr())
			c.open()
			c.startTLS(ts.clientTLS())
			c.open()
			el := c.auth(mech, "alice", "wrong")
			if el.Name.Local != "failure" || el.Child("not-authorized", "") == nil {
				t.Fatalf("wrong password: %s", el)
			}
			if el := c.auth(mech, "Alice", "secret"); el.Name.Local != "success" {
				t.Fatalf("retry with the right password (and a username PRECIS maps to alice): %s", el)
			}
			f := c.open()
			if f.Child("bind", "urn:ietf:params:xml:ns:xmpp-bind") == nil {
				t.Fatalf("no bind after auth: %s", f)
			}
			if got := c.bind("r1"); got != "alice@localhost/r1" {
				t.Fatalf("bound %q", got)
			}
			var sess *c2s.Session
			waitFor(t, "session", func() bool { sess = ts.core.session("alice@localhost/r1"); return sess != nil })
			if sess.Mechanism() != mech.Name {
				t.Errorf("mechanism = %q", sess.Mechanism())
			}
			if !strings.HasPrefix(sess.TLS(), "TLS 1.") {
				t.Errorf("TLS = %q", sess.TLS())
			}
			if !strings.HasPrefix(sess.Addr(), "127.0.0.1:") || sess.ID() == "" {
				t.Errorf("addr %q id %q", sess.Addr(), sess.ID())
			}
			c.send(`</stream:stream>`)
			waitFor(t, "end", func() bool { _, ok := ts.core.endedReason(sess.ID()); return ok })
		})
	}
	// Every failure was reported with the account and condition.
	want := []string{"alice SCRAM-SHA-256 not-authorized none", "alice SCRAM-SHA-1 not-authorized none", "alice PLAIN not-authorized none"}
	if got := ts.failures.all(); !slices.Equal(got, want) {
		t.Fatalf("observer saw %v, want %v", got, want)
	}
}

// An unknown account fails exactly as a wrong password does, without
// revealing that it does not exist.
func TestUnknownUserNotAuthorized(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts.srv.StartTLSAddr())
	c.open()
	c.startTLS(ts.clientTLS())
	c.open()
	for _, mech := range []sasl.Mechanism{sasl.ScramSha256, sasl.Plain} {
		if el := c.auth(mech, "mallory", "x"); el.Child("not-authorized", "") == nil {
			t.Fatalf("%s: %s", mech.Name, el)
		}
	}
}

// RFC 6120 section 6.4.4 (abort), 6.5.6 (invalid-mechanism), 6.5.2
// (incorrect-encoding), 6.5.8 (malformed-request), and 6.4.5: past the
// allowed retries the stream ends with <policy-violation/>.
func TestSASLFailureConditions(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.MaxAuthAttempts = 5 })
	c := dialRaw(t, ts.srv.StartTLSAddr())
	c.open()
	c.startTLS(ts.clientTLS())
	c.open()
	expect := func(cond string) {
		t.Helper()
		el := c.next()
		if el.Name.Local != "failure" || el.Child(cond, "urn:ietf:params:xml:ns:xmpp-sasl") == nil {
			t.Fatalf("want failure %s, got %s", cond, el)
		}
	}
	c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'/>`)
	if el := c.next(); el.Name.Local != "challenge" {
		t.Fatalf("no initial response should get an empty challenge, got %s", el)
	}
	c.send(`<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`)
	expect("aborted")
	c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='DIGEST-MD5'>=</auth>`)
	expect("invalid-mechanism")
	c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!!notbase64</auth>`)
	expect("incorrect-encoding")
	c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>` + b64([]byte("no separators")) + `</auth>`)
	expect("malformed-request")
	// A SCRAM client asking for channel binding we never offered.
	c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>` + b64([]byte("p=tls-exporter,,n=alice,r=abc")) + `</auth>`)
	expect("malformed-request")
	c.expectStreamError("policy-violation")
}

// Throttling (DESIGN: failed logins throttled per address and account):
// past FreeFailures, the answers to that address wait (the right password
// too, and it still succeeds); past RefuseAfter, the address is refused
// with <temporary-auth-failure/> (RFC 6120 section 6.5.12) without its
// password being checked. The observer hears each decision.
func TestThrottleDelaysThenRefuses(t *testing.T) {
	const delay = 150 * time.Millisecond
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) {
		cfg.Throttle = c2s.ThrottleConfig{FreeFailures: 1, AddrFreeFailures: 2, BaseDelay: delay, MaxDelay: delay,
			RefuseAfter: 3, RefuseFor: time.Minute, Window: time.Minute}
	})
	login := func(user, pass string) (*stanza.Element, time.Duration) {
		c := dialRaw(t, ts.srv.StartTLSAddr())
		c.open()
		c.startTLS(ts.clientTLS())
		c.open()
		start := time.Now()
		el := c.auth(sasl.Plain, user, pass)
		return el, time.Since(start)
	}
	// First failure: answered at once.
	if el, took := login("bob", "guess"); el.Child("not-authorized", "") == nil || took >= delay {
		t.Fatalf("first failure: %s after %s", el, took)
	}
	// Second: delayed, then not-authorized.
	if el, took := login("bob", "guess"); el.Child("not-authorized", "") == nil || took < delay {
		t.Fatalf("second failure: %s after %s, want a delay of %s", el, took, delay)
	}
	// The right password from this address now waits too, and succeeds.
	if el, took := login("bob", "hunter2"); el.Name.Local != "success" || took < delay {
		t.Fatalf("right password after failures: %s after %s", el, took)
	}
	// A third failure reaches RefuseAfter: refused, even the right
	// password, and at once.
	login("alice", "guess")
	if el, took := login("bob", "hunter2"); el.Child("temporary-auth-failure", "") == nil || took >= delay {
		t.Fatalf("refused address: %s after %s", el, took)
	}
	want := []string{"bob PLAIN not-authorized none", "bob PLAIN not-authorized delayed", "alice PLAIN not-authorized delayed", " PLAIN temporary-auth-failure refused"}
	if got := ts.failures.all(); !slices.Equal(got, want) {
		t.Fatalf("observer: %q, want %q", got, want)
	}
}

// XEP-0368: on the direct TLS port TLS comes first; the features offer
// SASL at once and no STARTTLS.
func TestDirectTLS(t *testing.T) {
	ts := startServer(t, nil)
	c := dialDirectTLS(t, ts)
	f := c.open()
	if f.Child("starttls", "") != nil || len(mechanismsOf(f)) != 3 {
		t.Fatalf("direct TLS features: %s", f)
	}
	if el := c.auth(sasl.ScramSha1, "bob", "hunter2"); el.Name.Local != "success" {
		t.Fatalf("auth: %s", el)
	}
	c.open()
	if got := c.bind("desk"); got != "bob@localhost/desk" {
		t.Fatalf("bound %q", got)
	}
}

// RFC 5802 section 5.1 and 9: the client-final message must repeat the
// gs2 header (c=) and the combined nonce (r=); a tampered one fails with
// <not-authorized/> even before the proof is looked at.
func TestScramTamperedFinalMessage(t *testing.T) {
	ts := startServer(t, nil)
	c := dialDirectTLS(t, ts)
	c.open()
	for name, final := range map[string]func(nonce string) string{
		"gs2 header changed": func(n string) string { return "c=" + b64([]byte("y,,")) + ",r=" + n + ",p=" + b64(make([]byte, 32)) },
		"nonce changed":      func(n string) string { return "c=biws,r=" + n + "x,p=" + b64(make([]byte, 32)) },
		"proof wrong":        func(n string) string { return "c=biws,r=" + n + ",p=" + b64(make([]byte, 32)) },
	} {
		c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>` + b64([]byte("n,,n=alice,r=clientnonce")) + `</auth>`)
		ch := c.next()
		raw, _ := base64.StdEncoding.DecodeString(ch.Text())
		nonce := strings.TrimPrefix(strings.Split(string(raw), ",")[0], "r=")
		if !strings.HasPrefix(nonce, "clientnonce") || len(nonce) <= len("clientnonce") {
			t.Fatalf("%s: server nonce %q does not extend the client's", name, nonce)
		}
		c.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>` + b64([]byte(final(nonce))) + `</response>`)
		if el := c.next(); el.Child("not-authorized", "") == nil {
			t.Fatalf("%s: %s", name, el)
		}
	}
}

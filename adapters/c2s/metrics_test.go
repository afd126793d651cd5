package c2s_test

import (
	"sync"
	"testing"

	"mellium.im/sasl"

	"xmppd/adapters/c2s"
)

// countingMetrics is a c2s.Metrics that counts by label.
type countingMetrics struct {
	mu   sync.Mutex
	in   map[string]int
	out  map[string]int
	auth map[string]int
}

func newCountingMetrics() *countingMetrics {
	return &countingMetrics{in: map[string]int{}, out: map[string]int{}, auth: map[string]int{}}
}

func (m *countingMetrics) StanzaIn(kind string)  { m.add(m.in, kind) }
func (m *countingMetrics) StanzaOut(kind string) { m.add(m.out, kind) }
func (m *countingMetrics) AuthFailed(mech string) {
	m.add(m.auth, mech)
}

func (m *countingMetrics) add(to map[string]int, k string) {
	m.mu.Lock()
	to[k]++
	m.mu.Unlock()
}

func (m *countingMetrics) get(from map[string]int, k string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return from[k]
}

var _ c2s.Metrics = (*countingMetrics)(nil)

// TestMetricsCountStanzasSessionsAndAuthFailures: each stanza a bound
// client sends is counted in by kind, what the server queues for it out,
// a failed login by mechanism (an unknown one as "other", so clients
// cannot mint label values), and Stats sees the bound session.
func TestMetricsCountStanzasSessionsAndAuthFailures(t *testing.T) {
	m := newCountingMetrics()
	ts := startServer(t, func(cfg *c2s.Config, deps *c2s.Deps) {
		cfg.MaxAuthAttempts = 5
		deps.Metrics = m
	})
	if st := ts.srv.Stats(); st.Sessions != 0 {
		t.Fatalf("Stats before any login: %+v", st)
	}

	bad := dialRaw(t, ts.srv.StartTLSAddr())
	bad.open()
	bad.startTLS(ts.clientTLS())
	bad.open()
	if el := bad.auth(sasl.Plain, "alice", "wrong"); el.Child("not-authorized", "") == nil {
		t.Fatalf("wrong password: %s", el)
	}
	bad.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-MADE-UP'>=</auth>`)
	if el := bad.next(); el.Name.Local != "failure" {
		t.Fatalf("made-up mechanism: %s", el)
	}
	if got := m.get(m.auth, "PLAIN"); got != 1 {
		t.Errorf("auth failures for PLAIN = %d, want 1", got)
	}
	if got := m.get(m.auth, "other"); got != 1 {
		t.Errorf("auth failures for other = %d, want 1", got)
	}
	if got := m.get(m.auth, "X-MADE-UP"); got != 0 {
		t.Errorf("a client-chosen mechanism name became a label value")
	}

	c, _, full := login(t, ts, "alice", "secret", "metrics")
	if st := ts.srv.Stats(); st.Sessions != 1 {
		t.Errorf("Stats with one bound session: %+v", st)
	}
	c.send(`<message to='bob@` + testDomain + `' type='chat'><body>hi</body></message>`)
	if el := c.next(); el.Name.Local != "message" {
		t.Fatalf("want the echo, got %s", el)
	}
	nextStanza(t, ts.core)
	c.send(`<presence/>`)
	nextStanza(t, ts.core)
	if got := m.get(m.in, "message"); got != 1 {
		t.Errorf("stanzas in (message) = %d, want 1", got)
	}
	if got := m.get(m.in, "presence"); got != 1 {
		t.Errorf("stanzas in (presence) = %d, want 1", got)
	}
	if got := m.get(m.out, "message"); got != 1 {
		t.Errorf("stanzas out (message) = %d, want 1 (the echo to %s)", got, full)
	}
	c.send(`</stream:stream>`)
	waitFor(t, "the session to go", func() bool { return ts.srv.Stats().Sessions == 0 })
}

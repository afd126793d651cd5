package c2s_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"xmppd/router"

	"mellium.im/sasl"
	"mellium.im/xmpp/stream"

	"xmppd/adapters/c2s"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

const testDomain = "localhost"

// mapCredentials is an in-memory credential store for tests, filled with
// keys from domain.NewCredentials (no password is kept).
type mapCredentials map[string]events.CredentialsSet

func (m mapCredentials) Credentials(_ context.Context, user string) (events.CredentialsSet, bool, error) {
	set, ok := m[user]
	return set, ok, nil
}

func newCredentials(t testing.TB, users map[string]string) mapCredentials {
	t.Helper()
	m := mapCredentials{}
	for u, p := range users {
		set, err := domain.NewCredentials(p, domain.MinScramIterations, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		m[u] = set
	}
	return m
}

// echoCore is a test double of the server core: it records what c2s
// hands it, replaces sessions with the same full JID (RFC 6120 section
// 7.7.2.2) and echoes message bodies back to the sender.
type echoCore struct {
	mu       sync.Mutex
	sessions map[string]*c2s.Session
	bound    []*c2s.Session
	ended    map[string]router.End // session id -> why
	twice    []string              // ids Ended was called for more than once
	stanzas  chan stanza.Stanza
	onEnded  func(*c2s.Session)
}

func newEchoCore() *echoCore {
	return &echoCore{sessions: map[string]*c2s.Session{}, ended: map[string]router.End{}, stanzas: make(chan stanza.Stanza, 100)}
}

func (e *echoCore) Bound(_ context.Context, rs router.Session) error {
	s := rs.(*c2s.Session)
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.sessions[s.JID().String()]; old != nil {
		old.CloseWithError(stream.Conflict)
	}
	e.sessions[s.JID().String()] = s
	e.bound = append(e.bound, s)
	return nil
}

func (e *echoCore) Stanza(_ context.Context, s router.Session, st stanza.Stanza) {
	if st.Kind == stanza.KindMessage {
		if body := st.El.Child("body", ""); body != nil {
			reply := stanza.New("jabber:client", "message", "to", s.JID().String(), "from", st.To.String(), "type", "chat")
			reply.AddChild(stanza.New("jabber:client", "body").AddText("echo: " + body.Text()))
			s.Send(reply)
		}
	}
	e.stanzas <- st
}

func (e *echoCore) Suspended(router.Session, router.End, int, time.Duration) {}
func (e *echoCore) Resumed(router.Session, int)                              {}

func (e *echoCore) Ended(rs router.Session, why router.End) {
	s := rs.(*c2s.Session)
	e.mu.Lock()
	if e.sessions[s.JID().String()] == s {
		delete(e.sessions, s.JID().String())
	}
	if _, dup := e.ended[s.ID()]; dup {
		e.twice = append(e.twice, s.ID())
	}
	e.ended[s.ID()] = why
	f := e.onEnded
	e.mu.Unlock()
	if f != nil {
		f(s)
	}
}

func (e *echoCore) endedReason(id string) (router.End, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.ended[id]
	return r, ok
}

func (e *echoCore) session(full string) *c2s.Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions[full]
}

// failureLog is an AuthObserver that remembers failures.
type failureLog struct {
	mu   sync.Mutex
	list []string // "user mech condition"
}

func (f *failureLog) AuthFailed(_ context.Context, af router.AuthFailure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, af.Username+" "+af.Mechanism+" "+af.Condition+" "+string(af.Throttle))
}

func (f *failureLog) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.list...)
}

type testServer struct {
	srv      *c2s.Server
	core     *echoCore
	failures *failureLog
	roots    *x509.CertPool
	certDER  []byte // the server's self-signed leaf, for clients in another process
}

// startServer runs a real server on 127.0.0.1 ports with a certificate
// made in a temporary directory; users alice/secret and bob/hunter2.
func startServer(t testing.TB, mod func(*c2s.Config, *c2s.Deps)) *testServer {
	t.Helper()
	cert, created, err := c2s.LoadOrCreateCert(t.TempDir(), testDomain)
	if err != nil || !created {
		t.Fatalf("certificate: %v %v", created, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	ts := &testServer{core: newEchoCore(), failures: &failureLog{}, roots: roots, certDER: cert.Certificate[0]}
	cfg := c2s.Config{
		Domain:         testDomain,
		StartTLSAddr:   "127.0.0.1:0",
		DirectTLSAddr:  "127.0.0.1:0",
		TLS:            &tls.Config{Certificates: []tls.Certificate{cert}},
		ServerFeatures: []string{"urn:xmpp:example:core-feature"},
	}
	deps := c2s.Deps{
		Core:        ts.core,
		Credentials: newCredentials(t, map[string]string{"alice": "secret", "bob": "hunter2"}),
		Observer:    ts.failures,
	}
	if mod != nil {
		mod(&cfg, &deps)
	}
	ts.srv, err = c2s.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.srv.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		ts.srv.Close()
		<-done
		// The Core contract: Ended exactly once for every bound session.
		ts.core.mu.Lock()
		defer ts.core.mu.Unlock()
		if len(ts.core.twice) > 0 {
			t.Errorf("Ended called twice for %v", ts.core.twice)
		}
		for _, s := range ts.core.bound {
			if _, ok := ts.core.ended[s.ID()]; !ok {
				t.Errorf("Ended never called for %s", s.JID())
			}
		}
	})
	return ts
}

func (ts *testServer) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: ts.roots, ServerName: testDomain}
}

// rawClient speaks XMPP as raw XML, so tests see exactly what the server
// sends.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	d    *xml.Decoder
}

func dialRaw(t *testing.T, addr net.Addr) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn}
	c.d = xml.NewDecoder(conn)
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

func dialDirectTLS(t *testing.T, ts *testServer) *rawClient {
	t.Helper()
	c := dialRaw(t, ts.srv.DirectTLSAddr())
	tc := tls.Client(c.conn, ts.clientTLS())
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn = tc
	c.d = xml.NewDecoder(tc)
	return c
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// open sends a stream header and returns the server's features.
func (c *rawClient) open() *stanza.Element {
	c.t.Helper()
	c.send(`<?xml version='1.0'?><stream:stream to='` + testDomain + `' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`)
	c.readHeader()
	f := c.next()
	if f.Name.Local != "features" || f.Name.Space != "http://etherx.jabber.org/streams" {
		c.t.Fatalf("expected features, got %s", f)
	}
	return f
}

func (c *rawClient) readHeader() xml.StartElement {
	c.t.Helper()
	for {
		tok, err := c.d.Token()
		if err != nil {
			c.t.Fatalf("reading stream header: %v", err)
		}
		if s, ok := tok.(xml.StartElement); ok {
			if s.Name.Local != "stream" {
				c.t.Fatalf("expected stream header, got %v", s.Name)
			}
			return s
		}
	}
}

// nextErr reads the next top-level element; io.EOF when the server
// closed its stream.
func (c *rawClient) nextErr() (*stanza.Element, error) {
	for {
		tok, err := c.d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return stanza.Parse(c.d, t, stanza.Limits{})
		case xml.EndElement:
			return nil, io.EOF
		}
	}
}

func (c *rawClient) next() *stanza.Element {
	c.t.Helper()
	el, err := c.nextErr()
	if err != nil {
		c.t.Fatalf("next element: %v", err)
	}
	return el
}

// expectStreamError reads until a stream error and checks its condition
// and that the stream then ends (RFC 6120 section 4.9.1.1).
func (c *rawClient) expectStreamError(cond string) {
	c.t.Helper()
	for {
		el, err := c.nextErr()
		if err != nil {
			c.t.Fatalf("want stream error %s, got %v", cond, err)
		}
		if el.Name.Local != "error" || el.Name.Space != "http://etherx.jabber.org/streams" {
			continue // stanzas queued before the error
		}
		if got := el.Elements()[0].Name.Local; got != cond {
			c.t.Fatalf("stream error = %s, want %s (%s)", got, cond, el)
		}
		if _, err := c.nextErr(); err != io.EOF {
			c.t.Fatalf("after stream error want </stream:stream>, got %v", err)
		}
		return
	}
}

func (c *rawClient) startTLS(cfg *tls.Config) {
	c.t.Helper()
	c.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
	if el := c.next(); el.Name.Local != "proceed" {
		c.t.Fatalf("want proceed, got %s", el)
	}
	tc := tls.Client(c.conn, cfg)
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.conn = tc
	c.d = xml.NewDecoder(tc)
}

// auth runs a SASL exchange with mellium's client mechanism and returns
// the server's last element (<success/> or <failure/>).
func (c *rawClient) auth(mech sasl.Mechanism, user, pass string) *stanza.Element {
	c.t.Helper()
	neg := sasl.NewClient(mech, sasl.Credentials(func() ([]byte, []byte, []byte) {
		return []byte(user), []byte(pass), nil
	}))
	_, resp, err := neg.Step(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(fmt.Sprintf(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>%s</auth>`, mech.Name, b64(resp)))
	for {
		el := c.next()
		switch el.Name.Local {
		case "challenge":
			ch, _ := base64.StdEncoding.DecodeString(el.Text())
			_, resp, err := neg.Step(ch)
			if err != nil {
				c.t.Fatalf("client step: %v", err)
			}
			c.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>` + b64(resp) + `</response>`)
		case "success":
			if strings.HasPrefix(mech.Name, "SCRAM") {
				// The client checks the server signature: proof the server
				// holds the right ServerKey (RFC 5802 section 3).
				data, _ := base64.StdEncoding.DecodeString(el.Text())
				if _, _, err := neg.Step(data); err != nil {
					c.t.Fatalf("server signature rejected: %v", err)
				}
			}
			return el
		default:
			return el
		}
	}
}

func b64(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

// bind binds resource (or lets the server choose with "") and returns the
// full JID.
func (c *rawClient) bind(resource string) string {
	c.t.Helper()
	res := ""
	if resource != "" {
		res = "<resource>" + resource + "</resource>"
	}
	c.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` + res + `</bind></iq>`)
	el := c.next()
	if el.Attr("type") != "result" || el.Attr("id") != "bind1" {
		c.t.Fatalf("bind failed: %s", el)
	}
	return el.Child("bind", "").Child("jid", "").Text()
}

// login runs STARTTLS, SCRAM-SHA-256 and bind; it returns the client, the
// features after authentication and the full JID.
func login(t *testing.T, ts *testServer, user, pass, resource string) (*rawClient, *stanza.Element, string) {
	t.Helper()
	c := dialRaw(t, ts.srv.StartTLSAddr())
	c.open()
	c.startTLS(ts.clientTLS())
	c.open()
	if el := c.auth(sasl.ScramSha256, user, pass); el.Name.Local != "success" {
		t.Fatalf("auth: %s", el)
	}
	f := c.open()
	return c, f, c.bind(resource)
}

// waitFor polls cond until it holds or a few seconds passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func nextStanza(t *testing.T, core *echoCore) stanza.Stanza {
	t.Helper()
	select {
	case st := <-core.stanzas:
		return st
	case <-time.After(5 * time.Second):
		t.Fatal("no stanza reached the core")
	}
	return stanza.Stanza{}
}

var _ = bytes.Equal
var _ = errors.Is

type dialerNoRetry struct{}

func (dialerNoRetry) dial(addr string) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, time.Second)
}

func mechPlain() sasl.Mechanism { return sasl.Plain }

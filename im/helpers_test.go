package im_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppd/adapters/c2s"
	"xmppd/adapters/keystore"
	"xmppd/adapters/store/sqlite"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/im"
	"xmppd/stanza"
)

const (
	testDomain = "localhost"
	testNode   = "node-test"
	// wait bounds how long a test waits for a stanza it expects. One that
	// must not come is not waited for: see never (barrier_test.go).
	wait = 5 * time.Second
)

// env is one test's world: a SQLite file, a certificate, and the server
// running on it (which a test may stop and start again).
type env struct {
	t     *testing.T
	dir   string
	store events.Store
	// keys is the key store every server of the env seals with, as
	// xmppd serve does (issue 13): the tests run with sealing on.
	keys  *keystore.Store
	cert  tls.Certificate
	roots *x509.CertPool
	srv   *server
	stop  func() error
	// tune and tuneIM, if set, adjust the c2s and core configuration
	// before start.
	tune   func(*c2s.Config)
	tuneIM func(*im.Config)
	// beforeAuth, if set, runs on each connection's TLS stream before
	// SASL.
	beforeAuth func(*client, *xml.Decoder)
}

// newEnv opens a store in a temporary directory and starts a server on it.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(e.dir, "xmppd.db")})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	t.Cleanup(func() { st.Close() })
	if e.keys, err = keystore.Open(filepath.Join(e.dir, "keys.db"), false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.keys.Close() })
	cert, _, err := c2s.LoadOrCreateCert(e.dir, testDomain)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	e.cert, e.roots = cert, x509.NewCertPool()
	e.roots.AddCert(leaf)
	return e
}

// start runs a new Server on the env's store and waits until it serves.
func (e *env) start() *server {
	e.t.Helper()
	var logger *slog.Logger
	if os.Getenv("XMPPD_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cc := c2s.Config{
		StartTLSAddr: "127.0.0.1:0",
		TLS:          &tls.Config{Certificates: []tls.Certificate{e.cert}},
	}
	if e.tune != nil {
		e.tune(&cc)
	}
	ic := im.Config{
		Domain: testDomain,
		Node:   testNode,
		Store:  e.store,
		Keys:   e.keys,
		Logger: logger,
	}
	if e.tuneIM != nil {
		e.tuneIM(&ic)
	}
	srv, err := newServer(ic, cc)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		cancel()
		e.t.Fatalf("server did not start: %v", err)
	case <-time.After(wait):
		cancel()
		e.t.Fatal("server did not start in time")
	}
	var once sync.Once
	var stopErr error
	e.srv = srv
	e.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(3 * wait):
				stopErr = errors.New("server did not stop")
			}
		})
		return stopErr
	}
	e.t.Cleanup(func() {
		if err := e.stop(); err != nil {
			e.t.Errorf("stop: %v", err)
		}
	})
	return srv
}

// addUser creates an account as `xmppd user add` does: appending to the
// account stream.
func (e *env) addUser(name string) {
	e.t.Helper()
	bare := name + "@" + testDomain
	creds, err := domain.NewCredentials("pw-"+name, domain.MinScramIterations, rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	e.appendEvents(events.AccountStream(bare), events.NoStream, events.Meta{Actor: "admin:test"}, events.AccountCreated{JID: bare}, creds)
}

func (e *env) appendEvents(stream string, expected events.ExpectedVersion, m events.Meta, ps ...events.Payload) {
	e.t.Helper()
	var envs []events.Envelope
	for _, p := range ps {
		env, err := events.New(p, m)
		if err != nil {
			e.t.Fatal(err)
		}
		env.Recorded = time.Now().UTC()
		envs = append(envs, env)
	}
	if _, err := e.store.Append(context.Background(), stream, expected, envs...); err != nil {
		e.t.Fatal(err)
	}
}

// readStream returns every event of stream, decoded.
func (e *env) readStream(stream string) ([]events.Envelope, []events.Payload) {
	e.t.Helper()
	var envs []events.Envelope
	var ps []events.Payload
	for env, err := range e.store.ReadStream(context.Background(), stream, 1) {
		if err != nil {
			e.t.Fatal(err)
		}
		p, err := events.Decode(&env)
		if err != nil {
			e.t.Fatal(err)
		}
		envs = append(envs, env)
		ps = append(ps, p)
	}
	return envs, ps
}

// eventually polls cond until it holds.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dump is the server's views as JSON without the log position.
func dump(t *testing.T, srv *server) string {
	t.Helper()
	var b bytes.Buffer
	if err := srv.Views().Dump(&b); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "position")
	out, _ := json.MarshalIndent(m, "", " ")
	return string(out)
}

// client is a raw XML client: it sees exactly what the server sends.
type client struct {
	t    *testing.T
	name string
	jid  string // full JID after binding
	conn net.Conn

	mu sync.Mutex
	// smAck: answer the server's XEP-0198 <r/> with <a h/> counting the
	// stanzas read (smIn), rather than keep the <r/> in the backlog.
	smAck    bool
	features *stanza.Element // the last <stream:features/> seen
	smIn     uint32
	backlog  []*stanza.Element // received, not yet matched
	arrived  []*stanza.Element // every element received, in order
	closed   error             // why reading stopped
	signal   chan struct{}
}

// login connects name over STARTTLS, authenticates with SASL PLAIN and
// binds resource.
func (e *env) login(name, resource string) *client {
	e.t.Helper()
	return e.connect(name, "pw-"+name, resource, nil)
}

// resume connects name and sends <resume/> (XEP-0198 section 5) instead
// of binding. It returns the client, reading from then on, and the
// server's answer (<resumed/> or <failed/>).
func (e *env) resume(name, previd string, h uint32) (*client, *stanza.Element) {
	e.t.Helper()
	var answer *stanza.Element
	c := e.open(name, "pw-"+name, "", nil, func(c *client, d *xml.Decoder) {
		c.send(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='%d'/>`, previd, h)
		answer = next(e.t, d)
		c.smIn = h
	})
	return c, answer
}

// dialAuth authenticates with a password and returns the server's SASL
// answer (<success/> or <failure/>).
func (e *env) dialAuth(name, password string) *stanza.Element {
	e.t.Helper()
	var answer *stanza.Element
	e.connect(name, password, "", &answer)
	return answer
}

// connect logs in; with authAnswer set it stops after SASL and stores
// the answer there.
func (e *env) connect(name, password, resource string, authAnswer **stanza.Element) *client {
	e.t.Helper()
	return e.open(name, password, resource, authAnswer, nil)
}

// open is connect, and with instead set, that runs in place of binding.
func (e *env) open(name, password, resource string, authAnswer **stanza.Element, instead func(*client, *xml.Decoder)) *client {
	e.t.Helper()
	conn, err := net.DialTimeout("tcp", e.srv.StartTLSAddr().String(), wait)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	c := &client{t: e.t, name: name, conn: conn, signal: make(chan struct{}, 1)}
	d := xml.NewDecoder(conn)
	conn.SetDeadline(time.Now().Add(wait))
	open := func() {
		c.write(`<?xml version='1.0'?><stream:stream to='` + testDomain + `' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`)
		for {
			tok, err := d.Token()
			if err != nil {
				e.t.Fatalf("%s: stream header: %v", name, err)
			}
			if s, ok := tok.(xml.StartElement); ok && s.Name.Local == "stream" {
				break
			}
		}
		f := next(e.t, d)
		if f.Name.Local != "features" {
			e.t.Fatalf("%s: want features, got %s", name, f)
		}
		c.features = f
	}
	open()
	c.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
	if el := next(e.t, d); el.Name.Local != "proceed" {
		e.t.Fatalf("%s: want proceed, got %s", name, el)
	}
	tc := tls.Client(conn, &tls.Config{RootCAs: e.roots, ServerName: testDomain})
	if err := tc.Handshake(); err != nil {
		e.t.Fatal(err)
	}
	c.conn, d = tc, xml.NewDecoder(tc)
	open()
	if e.beforeAuth != nil {
		e.beforeAuth(c, d)
	}
	cred := base64.StdEncoding.EncodeToString([]byte("\x00" + name + "\x00" + password))
	c.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>` + cred + `</auth>`)
	el := next(e.t, d)
	if authAnswer != nil {
		*authAnswer = el
		return c
	}
	if el.Name.Local != "success" {
		e.t.Fatalf("%s: auth: %s", name, el)
	}
	c.conn, d = tc, xml.NewDecoder(tc)
	open()
	if instead != nil {
		instead(c, d)
		c.jid = name + "@" + testDomain + "/" + resource
		tc.SetDeadline(time.Time{})
		go c.read(d)
		return c
	}
	c.write(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>` + resource + `</resource></bind></iq>`)
	el = next(e.t, d)
	if el.Attr("type") != "result" {
		e.t.Fatalf("%s: bind: %s", name, el)
	}
	c.jid = el.Child("bind", "").Child("jid", "").Text()
	tc.SetDeadline(time.Time{})
	go c.read(d)
	return c
}

func next(t *testing.T, d *xml.Decoder) *stanza.Element {
	t.Helper()
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if s, ok := tok.(xml.StartElement); ok {
			el, err := stanza.Parse(d, s, stanza.Limits{})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			return el
		}
	}
}

// read collects every top-level element until the stream ends.
func (c *client) read(d *xml.Decoder) {
	var err error
	for {
		var tok xml.Token
		tok, err = d.Token()
		if err != nil {
			break
		}
		if _, ok := tok.(xml.EndElement); ok {
			// </stream:stream>: close ours too (RFC 6120 4.4), so the
			// server need not wait for us.
			io.WriteString(c.conn, `</stream:stream>`)
			err = io.EOF
			break
		}
		s, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var el *stanza.Element
		if el, err = stanza.Parse(d, s, stanza.Limits{}); err != nil {
			break
		}
		c.mu.Lock()
		if el.Name.Space == "jabber:client" {
			c.smIn++
		}
		if el.Name.Space == "urn:xmpp:sm:3" && el.Name.Local == "enabled" {
			c.smIn = 0 // XEP-0198 counts from here
		}
		if c.smAck && el.Name.Space == "urn:xmpp:sm:3" && el.Name.Local == "r" {
			fmt.Fprintf(c.conn, `<a xmlns='urn:xmpp:sm:3' h='%d'/>`, c.smIn)
			c.mu.Unlock()
			continue
		}
		c.mu.Unlock()
		if el.Name.Local == "iq" && el.Attr("type") == "get" && el.Child("ping", "urn:xmpp:ping") != nil && !strings.Contains(el.Attr("from"), "@") {
			// A ping from the server (offline delivery asks the client to
			// answer for what it read): every client answers an IQ get
			// (RFC 6120 8.2.3).
			io.WriteString(c.conn, `<iq type='result' id='`+el.Attr("id")+`' to='`+el.Attr("from")+`'/>`)
			continue
		}
		c.mu.Lock()
		c.backlog = append(c.backlog, el)
		c.arrived = append(c.arrived, el)
		c.mu.Unlock()
		c.wake()
	}
	c.mu.Lock()
	c.closed = err
	c.mu.Unlock()
	c.wake()
}

func (c *client) wake() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

func (c *client) write(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

// send writes raw XML, formatted with args.
func (c *client) send(format string, args ...any) {
	c.t.Helper()
	c.write(fmt.Sprintf(format, args...))
}

// take removes and returns the first received element matching m.
func (c *client) take(m match) (*stanza.Element, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, el := range c.backlog {
		if m.fn(el) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return el, true, nil
		}
	}
	return nil, false, c.closed
}

// expect waits for an element matching m; others stay for later expects.
func (c *client) expect(m match) *stanza.Element {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		el, ok, closed := c.take(m)
		if ok {
			return el
		}
		if closed != nil {
			c.t.Fatalf("%s: stream ended (%v) before %s; got %s", c.name, closed, m.desc, c.pending())
		}
		select {
		case <-c.signal:
		case <-deadline:
			c.t.Fatalf("%s: no %s within %v; got %s", c.name, m.desc, wait, c.pending())
		}
	}
}

// arrivalOrder names every element received so far, in order, as
// "kind type" (with " id" for IQ results and errors).
func (c *client) arrivalOrder() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, el := range c.arrived {
		s := el.Name.Local + " " + el.Attr("type")
		if t := el.Attr("type"); el.Name.Local == "iq" && (t == "result" || t == "error") {
			s += " " + el.Attr("id")
		}
		out = append(out, s)
	}
	return out
}

func (c *client) pending() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, el := range c.backlog {
		b.WriteString("\n  " + el.String())
	}
	return b.String()
}

// iq sends an IQ with id and returns the answer (result or error).
func (c *client) iq(id, format string, args ...any) *stanza.Element {
	c.t.Helper()
	c.send(format, args...)
	return c.expect(match{"answer to iq " + id, func(el *stanza.Element) bool {
		return el.Name.Local == "iq" && el.Attr("id") == id && (el.Attr("type") == "result" || el.Attr("type") == "error")
	}})
}

// online requests the roster and sends initial presence with priority,
// consuming the server's reflection of that presence (RFC 6121 4.2.2).
func (c *client) online(priority int) {
	c.t.Helper()
	if res := c.iq("r0", `<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`); res.Attr("type") != "result" {
		c.t.Fatalf("%s: roster get: %s", c.name, res)
	}
	c.send(`<presence><priority>%d</priority></presence>`, priority)
	c.expect(presence(c.jid, ""))
}

// quit closes the stream and waits for the server's close.
func (c *client) quit() {
	c.t.Helper()
	c.write(`</stream:stream>`)
	c.waitClosed()
}

// waitClosed waits until the server has closed the stream.
func (c *client) waitClosed() {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed != nil {
			return
		}
		select {
		case <-c.signal:
		case <-deadline:
			c.t.Fatalf("%s: stream not closed", c.name)
		}
	}
}

// match is a described predicate on received elements.
type match struct {
	desc string
	fn   func(*stanza.Element) bool
}

func presence(from, typ string) match {
	return match{fmt.Sprintf("presence type=%q from %s", typ, from), func(el *stanza.Element) bool {
		return el.Name.Local == "presence" && el.Attr("from") == from && el.Attr("type") == typ
	}}
}

func anyPresenceFrom(fromPrefix string) match {
	return match{"any presence from " + fromPrefix, func(el *stanza.Element) bool {
		return el.Name.Local == "presence" && strings.HasPrefix(el.Attr("from"), fromPrefix)
	}}
}

func message(from, body string) match {
	return match{fmt.Sprintf("message %q from %s", body, from), func(el *stanza.Element) bool {
		b := el.Child("body", "")
		return el.Name.Local == "message" && el.Attr("from") == from && b != nil && b.Text() == body
	}}
}

func anyMessage() match {
	return match{"any message", func(el *stanza.Element) bool { return el.Name.Local == "message" }}
}

// push matches a roster push of the item jid with the given subscription.
func push(item, subscription string) match {
	return match{fmt.Sprintf("roster push of %s subscription=%s", item, subscription), func(el *stanza.Element) bool {
		if el.Name.Local != "iq" || el.Attr("type") != "set" {
			return false
		}
		q := el.Child("query", "jabber:iq:roster")
		if q == nil {
			return false
		}
		it := q.Child("item", "")
		return it != nil && it.Attr("jid") == item && it.Attr("subscription") == subscription
	}}
}

func anyPush() match {
	return match{"any roster push", func(el *stanza.Element) bool {
		return el.Name.Local == "iq" && el.Attr("type") == "set" && el.Child("query", "jabber:iq:roster") != nil
	}}
}

func streamError(cond string) match {
	return match{"stream error " + cond, func(el *stanza.Element) bool {
		return el.Name.Local == "error" && el.Name.Space == "http://etherx.jabber.org/streams" &&
			el.Child(cond, "urn:ietf:params:xml:ns:xmpp-streams") != nil
	}}
}

// stanzaErr returns the condition of an error stanza, or "".
func stanzaErr(el *stanza.Element) string {
	if el.Attr("type") != "error" {
		return ""
	}
	e := el.Child("error", "")
	if e == nil || len(e.Elements()) == 0 {
		return "?"
	}
	return e.Elements()[0].Name.Local
}

// rosterItems returns the items of a roster result by JID.
func rosterItems(t *testing.T, res *stanza.Element) map[string]*stanza.Element {
	t.Helper()
	q := res.Child("query", "jabber:iq:roster")
	if q == nil {
		t.Fatalf("roster result without query: %s", res)
	}
	out := map[string]*stanza.Element{}
	for _, it := range q.Elements() {
		out[it.Attr("jid")] = it
	}
	return out
}

// subscribe makes a and b subscribed to each other ("both"), both online.
func subscribeBoth(a, b *client) {
	a.t.Helper()
	ab, bb := bare(a.jid), bare(b.jid)
	a.send(`<presence to='%s' type='subscribe'/>`, bb)
	b.expect(presence(ab, "subscribe"))
	b.send(`<presence to='%s' type='subscribed'/>`, ab)
	a.expect(push(bb, "to"))
	a.expect(presence(bb, "subscribed"))
	b.send(`<presence to='%s' type='subscribe'/>`, ab)
	a.expect(presence(bb, "subscribe"))
	a.send(`<presence to='%s' type='subscribed'/>`, bb)
	b.expect(push(ab, "both"))
	b.expect(presence(ab, "subscribed"))
	a.expect(push(bb, "both"))
	a.expect(presence(b.jid, ""))
	b.expect(presence(a.jid, ""))
}

func bare(full string) string {
	if i := strings.IndexByte(full, '/'); i >= 0 {
		return full[:i]
	}
	return full
}

// ofType returns the payloads of type T.
func ofType[T events.Payload](ps []events.Payload) []T {
	var out []T
	for _, p := range ps {
		if x, ok := p.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

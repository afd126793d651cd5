package c2s_test

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"xmppd/router"

	"mellium.im/sasl"
	"mellium.im/xmpp/jid"

	"xmppd/adapters/c2s"
	"xmppd/events"
	"xmppd/stanza"
)

// RFC 6120 section 7: a requested resource is bound as given; with none,
// the server makes one up (7.6). The post-authentication features carry
// RFC 6121 roster versioning (2.6.1) and pre-approval (3.4), and the
// legacy session feature marked optional.
func TestBindAndFeatures(t *testing.T) {
	ts := startServer(t, nil)
	_, f, full := login(t, ts, "alice", "secret", "phone")
	if full != "alice@localhost/phone" {
		t.Fatalf("bound %q", full)
	}
	for _, ns := range []string{"urn:ietf:params:xml:ns:xmpp-bind", "urn:xmpp:features:rosterver", "urn:xmpp:features:pre-approval"} {
		if len(slices.DeleteFunc(f.Elements(), func(e *stanza.Element) bool { return e.Name.Space != ns })) != 1 {
			t.Errorf("feature %s missing: %s", ns, f)
		}
	}
	if s := f.Child("session", "urn:ietf:params:xml:ns:xmpp-session"); s == nil || s.Child("optional", "") == nil {
		t.Errorf("legacy session feature not optional: %s", f)
	}

	_, _, generated := login(t, ts, "alice", "secret", "")
	j, err := jid.Parse(generated)
	if err != nil || j.Bare().String() != "alice@localhost" || len(j.Resourcepart()) < 16 {
		t.Fatalf("generated resource: %q %v", generated, err)
	}
}

// RFC 6120 section 7.7.2.2 and 4.9.3.3: a core that replaces the older
// session with the same full JID ends it with a <conflict/> stream error;
// the new session works.
func TestSecondBindReplacesFirst(t *testing.T) {
	ts := startServer(t, nil)
	first, _, _ := login(t, ts, "alice", "secret", "r")
	old := ts.core.session("alice@localhost/r")
	second, _, full := login(t, ts, "alice", "secret", "r")
	if full != "alice@localhost/r" {
		t.Fatalf("second bound %q", full)
	}
	first.expectStreamError("conflict")
	waitFor(t, "first session ended", func() bool {
		r, ok := ts.core.endedReason(old.ID())
		return ok && r == router.End{Cause: events.EndConflict, Condition: "conflict"}
	})
	second.send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := second.next(); el.Attr("type") != "result" || el.Attr("id") != "p1" {
		t.Fatalf("second session ping: %s", el)
	}
	if !errors.Is(old.Send(stanza.New("jabber:client", "message")), c2s.ErrClosed) {
		t.Error("Send to a replaced session did not fail with ErrClosed")
	}
}

// RFC 6120 section 8.1.2.1: the server stamps 'from' with the session's
// full JID, whatever the client wrote; a malformed 'to' gets a
// jid-malformed stanza error (section 8.3.3.8) and goes no further.
func TestStanzasStampedAndAddressesChecked(t *testing.T) {
	ts := startServer(t, nil)
	c, _, full := login(t, ts, "alice", "secret", "home")
	c.send(`<message from='bob@localhost/evil' to='Bob@LOCALHOST' id='m1' type='chat'><body>hi</body></message>`)
	st := nextStanza(t, ts.core)
	if st.El.Attr("from") != full || st.From.String() != full {
		t.Fatalf("from not stamped: %s", st.El)
	}
	if st.To.String() != "bob@localhost" || st.El.Attr("to") != "bob@localhost" {
		t.Fatalf("to not canonical: %v %s", st.To, st.El)
	}
	if st.Kind != stanza.KindMessage || st.Type != "chat" || st.ID != "m1" {
		t.Fatalf("stanza fields: %+v", st)
	}
	if echo := c.next(); echo.Child("body", "").Text() != "echo: hi" {
		t.Fatalf("echo: %s", echo)
	}

	c.send(`<message to='a@b@c' id='bad'><body>x</body></message>`)
	el := c.next()
	if el.Attr("type") != "error" || el.Attr("id") != "bad" || el.Child("error", "").Child("jid-malformed", "urn:ietf:params:xml:ns:xmpp-stanzas") == nil {
		t.Fatalf("want jid-malformed, got %s", el)
	}
	if el.Attr("to") != full {
		t.Errorf("error not addressed to the sender: %s", el)
	}
	// RFC 6120 section 8.2.3: an IQ without an id is a bad request.
	c.send(`<iq type='get'><query xmlns='jabber:iq:roster'/></iq>`)
	if el := c.next(); el.Child("error", "").Child("bad-request", "") == nil {
		t.Fatalf("want bad-request, got %s", el)
	}
	// Barrier: the core gets a session's stanzas in the order they were
	// read (RFC 6120 10.1), so a refused one handed on would come before
	// this one.
	c.send(`<message to='bob@localhost' id='after'><body>after</body></message>`)
	if st := nextStanza(t, ts.core); st.ID != "after" {
		t.Fatalf("core got a refused stanza: %s", st.El)
	}
	c.next() // the echo
}

// Stream errors for bad input after binding (RFC 6120 section 4.9.3).
func TestStreamErrors(t *testing.T) {
	cases := []struct {
		name, send, cond string
	}{
		// 4.9.3.14 and 13.12 item 4: a stanza over the size limit.
		{"too big", `<message to='bob@localhost'><body>` + strings.Repeat("x", 20000) + `</body></message>`, "policy-violation"},
		// 4.9.3.13.
		{"not well-formed", `<message><body></message>`, "not-well-formed"},
		// 4.9.3.24.
		{"unknown top-level element", `<foo/>`, "unsupported-stanza-type"},
		// 4.9.3.10.
		{"wrong namespace", `<message xmlns='urn:example:other'/>`, "invalid-namespace"},
		// A stream restart where a stanza belongs.
		{"nested stream", `<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, "unsupported-stanza-type"},
		// 4.9.3.18 and 11.1.
		{"comment", `<!-- hello -->`, "restricted-xml"},
		// Text where only whitespace keepalives may be (4.9.3.1).
		{"text between stanzas", " \n hello <message/>", "bad-format"},
		// Whitespace counts against the limit like anything else.
		{"endless whitespace", strings.Repeat(" \n", 6000), "policy-violation"},
		// Depth limit, a local policy (4.9.3.14).
		{"too deep", `<message>` + strings.Repeat("<x>", 40) + strings.Repeat("</x>", 40) + `</message>`, "policy-violation"},
	}
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.MaxStanzaBytes = 10000 })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, full := login(t, ts, "alice", "secret", "")
			sess := ts.core.session(full)
			c.send(tc.send)
			c.expectStreamError(tc.cond)
			waitFor(t, "session ended", func() bool {
				r, ok := ts.core.endedReason(sess.ID())
				return ok && r.Cause == events.EndStreamError && r.Condition == tc.cond
			})
		})
	}
	// A stanza just under the limit passes.
	c, _, _ := login(t, ts, "alice", "secret", "")
	c.send(`<message to='bob@localhost'><body>` + strings.Repeat("x", 9000) + `</body></message>`)
	if st := nextStanza(t, ts.core); len(st.El.Child("body", "").Text()) != 9000 {
		t.Fatal("body lost")
	}
}

// XEP-0199 section 4.2 (ping to the server, with 'to' or without), XEP-0030
// disco#info to the domain with the core's features, and the legacy RFC
// 3921 session IQ, all answered by c2s; disco#info to an account goes to
// the core.
func TestServerIQs(t *testing.T) {
	ts := startServer(t, nil)
	c, _, full := login(t, ts, "alice", "secret", "x")
	c.send(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	el := c.next()
	if el.Attr("type") != "result" || el.Attr("id") != "p1" || el.Attr("from") != "localhost" || el.Attr("to") != full || len(el.Elements()) != 0 {
		t.Fatalf("ping result: %s", el)
	}
	c.send(`<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := c.next(); el.Attr("type") != "result" || el.Attr("id") != "p2" {
		t.Fatalf("ping without to: %s", el)
	}
	c.send(`<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`)
	if el := c.next(); el.Attr("type") != "result" || el.Attr("id") != "s1" {
		t.Fatalf("legacy session: %s", el)
	}
	c.send(`<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	el = c.next()
	q := el.Child("query", "http://jabber.org/protocol/disco#info")
	if el.Attr("type") != "result" || q == nil {
		t.Fatalf("disco: %s", el)
	}
	var features []string
	for _, f := range q.Elements() {
		if f.Name.Local == "feature" {
			features = append(features, f.Attr("var"))
		}
	}
	for _, want := range []string{"urn:xmpp:ping", "http://jabber.org/protocol/disco#info", "urn:xmpp:example:core-feature"} {
		if !slices.Contains(features, want) {
			t.Errorf("disco lacks %s: %v", want, features)
		}
	}
	if id := q.Child("identity", ""); id == nil || id.Attr("category") != "server" || id.Attr("type") != "im" {
		t.Errorf("identity: %s", q)
	}
	c.send(`<iq type='get' id='d2' to='bob@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if st := nextStanza(t, ts.core); st.ID != "d2" || st.Kind != stanza.KindIQ {
		t.Fatalf("account disco not passed on: %+v", st)
	}
}

// RFC 6120 section 4.6.1: whitespace keepalive on an idle stream.
func TestKeepalive(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.Keepalive = 50 * time.Millisecond })
	c, _, _ := login(t, ts, "alice", "secret", "")
	c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1)
	// The decoder has read up to the end of the bind result; the next
	// byte on the wire must be the keepalive.
	if _, err := io.ReadFull(c.conn, buf); err != nil || buf[0] != ' ' {
		t.Fatalf("keepalive: %q %v", buf, err)
	}
}

// The keepalive timer is re-armed after every write: an idle stream gets
// a space each Keepalive, and output in between postpones it.
func TestKeepaliveRepeats(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.Keepalive = 30 * time.Millisecond })
	c, _, full := login(t, ts, "alice", "secret", "")
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 3)
	if _, err := io.ReadFull(c.conn, buf); err != nil || string(buf) != "   " {
		t.Fatalf("keepalives: %q %v", buf, err)
	}
	ts.core.session(full).Send(stanza.New("jabber:client", "message", "id", "m1"))
	for {
		el, err := c.nextErr()
		if err != nil {
			t.Fatal(err)
		}
		if el.Attr("id") == "m1" {
			break
		}
	}
	if _, err := io.ReadFull(c.conn, buf[:1]); err != nil || buf[0] != ' ' {
		t.Fatalf("keepalive after output: %q %v", buf[:1], err)
	}
}

// Client whitespace keepalives between stanzas are skipped (RFC 6120
// section 4.6.1), and a stanza that arrives a byte per TLS record is
// read as well as one that arrives whole.
func TestClientWhitespaceAndFragmentedStanzas(t *testing.T) {
	ts := startServer(t, nil)
	c, _, _ := login(t, ts, "alice", "secret", "")
	c.send(" \n\t ")
	c.send(" ")
	for _, b := range []byte(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`) {
		c.send(string(b))
	}
	c.send("\n  <iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>   ")
	for _, id := range []string{"p1", "p2"} {
		if el := c.next(); el.Attr("type") != "result" || el.Attr("id") != id {
			t.Fatalf("want ping result %s, got %s", id, el)
		}
	}
}

// What the core sends from Bound reaches the client after the bind result,
// never before it.
func TestSendFromBoundFollowsBindResult(t *testing.T) {
	ts := startServer(t, func(_ *c2s.Config, deps *c2s.Deps) {
		deps.Core = sendingBoundCore{deps.Core.(*echoCore)}
	})
	c := dialRaw(t, ts.srv.DirectTLSAddr())
	tc := tls.Client(c.conn, ts.clientTLS())
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
	c.bind("r") // fails unless the bind result comes first
	if el := c.next(); el.Attr("id") != "welcome" {
		t.Fatalf("want the message sent from Bound, got %s", el)
	}
}

type sendingBoundCore struct{ *echoCore }

func (c sendingBoundCore) Bound(ctx context.Context, s router.Session) error {
	if err := c.echoCore.Bound(ctx, s); err != nil {
		return err
	}
	return s.Send(stanza.New("jabber:client", "message", "id", "welcome"))
}

// ReadTimeout closes a silent session with <connection-timeout/> (RFC 6120
// section 4.9.3.4).
func TestReadTimeout(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.ReadTimeout = 100 * time.Millisecond })
	c, _, _ := login(t, ts, "alice", "secret", "")
	c.expectStreamError("connection-timeout")
}

// A client that does not read fills its queue: Send never blocks, fails
// with ErrQueueFull, and the session ends with <resource-constraint/>.
func TestSlowClientQueueFull(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.QueueLen = 4 })
	c, _, full := login(t, ts, "alice", "secret", "")
	sess := ts.core.session(full)
	msg := stanza.New("jabber:client", "message").AddChild(stanza.New("jabber:client", "body").AddText(strings.Repeat("y", 8192)))
	var err error
	start := time.Now()
	for i := 0; i < 50000 && err == nil; i++ {
		err = sess.Send(msg)
	}
	if !errors.Is(err, c2s.ErrQueueFull) {
		t.Fatalf("Send never reported a full queue: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send blocked: %v", d)
	}
	c.conn.SetDeadline(time.Now().Add(20 * time.Second))
	c.expectStreamError("resource-constraint")
}

// A burst is not a slow reader: a user with 3,000 contacts online gets
// 3,000 presence stanzas at once when logging in (RFC 6121 4.2.2, each
// contact's server answers the probe). With the default limits the whole
// burst is queued and delivered, and the session stays up.
func TestPresenceBurstIsDelivered(t *testing.T) {
	ts := startServer(t, nil)
	c, _, full := login(t, ts, "alice", "secret", "")
	sess := ts.core.session(full)
	const n = 3000
	for i := 0; i < n; i++ {
		p := stanza.New("jabber:client", "presence", "from", fmt.Sprintf("contact%d@localhost/phone", i), "id", fmt.Sprint(i))
		p.AddChild(stanza.New("jabber:client", "status").AddText(strings.Repeat("available for a chat about the weather. ", 38)))
		if err := sess.Send(p); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	c.conn.SetDeadline(time.Now().Add(20 * time.Second))
	for i := 0; i < n; i++ {
		if el := c.next(); el.Name.Local != "presence" || el.Attr("id") != fmt.Sprint(i) {
			t.Fatalf("stanza %d: got %s", i, el)
		}
	}
}

// RFC 6120 section 4.4: Close sends </stream:stream> after what is queued
// and returns once the client closed its side.
func TestGracefulClose(t *testing.T) {
	ts := startServer(t, nil)
	c, _, full := login(t, ts, "alice", "secret", "")
	sess := ts.core.session(full)
	sess.Send(stanza.New("jabber:client", "message", "id", "last"))
	done := make(chan error, 1)
	go func() { done <- sess.Close(context.Background()) }()
	if el := c.next(); el.Attr("id") != "last" {
		t.Fatalf("queued stanza not sent before close: %s", el)
	}
	if _, err := c.nextErr(); err != io.EOF {
		t.Fatalf("want </stream:stream>, got %v", err)
	}
	c.send(`</stream:stream>`)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("Close did not return after the client closed")
	}
	if r, _ := ts.core.endedReason(sess.ID()); r != (router.End{Cause: events.EndServerClosed}) {
		t.Errorf("ended %+v", r)
	}
}

// Shutdown lets the core hear every session end while all are still
// open (so it can broadcast unavailable presence), then ends each with
// <system-shutdown/> (RFC 6120 section 4.9.3.19).
func TestShutdown(t *testing.T) {
	ts := startServer(t, nil)
	a, _, aJID := login(t, ts, "alice", "secret", "a")
	b, _, bJID := login(t, ts, "bob", "hunter2", "b")
	ts.core.mu.Lock()
	ts.core.onEnded = func(s *c2s.Session) {
		for _, other := range []string{aJID, bJID} {
			if o := ts.core.session(other); o != nil && o != s {
				o.Send(stanza.New("jabber:client", "presence", "type", "unavailable", "from", s.JID().String()))
			}
		}
	}
	ts.core.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(ctx) }()
	// The core's broadcast from the first Ended reaches the session that
	// is still open, before its <system-shutdown/>.
	presences := 0
	for _, c := range []*rawClient{a, b} {
		for {
			el := c.next()
			if el.Name.Local == "presence" && el.Attr("type") == "unavailable" {
				presences++
				continue
			}
			if el.Name.Local != "error" || el.Elements()[0].Name.Local != "system-shutdown" {
				t.Fatalf("want system-shutdown, got %s", el)
			}
			if _, err := c.nextErr(); err != io.EOF {
				t.Fatalf("want </stream:stream>, got %v", err)
			}
			break
		}
		c.send(`</stream:stream>`)
	}
	if presences != 1 {
		t.Fatalf("%d unavailable presences delivered before shutdown, want 1", presences)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Nothing listens any more.
	if conn, err := (&dialerNoRetry{}).dial(ts.srv.StartTLSAddr().String()); err == nil {
		conn.Close()
		t.Fatal("listener still open after shutdown")
	}
}

// After a large stanza the reader replaces its XML decoder (which would
// keep a buffer that large for the session's life) with one fed the
// client's own stream header again: the stream goes on, with the
// client's prefixes, up to its closing tag.
func TestStreamContinuesAfterLargeStanza(t *testing.T) {
	ts := startServer(t, nil)
	c := dialDirectTLS(t, ts)
	header := `<?xml version='1.0'?><s:stream to='` + testDomain + `' version='1.0' xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'>`
	open := func() {
		c.send(header)
		c.readHeader()
		if f := c.next(); f.Name.Local != "features" {
			t.Fatalf("want features, got %s", f)
		}
	}
	open()
	if el := c.auth(sasl.ScramSha256, "alice", "secret"); el.Name.Local != "success" {
		t.Fatalf("auth: %s", el)
	}
	open()
	full := c.bind("big")
	sess := ts.core.session(full)
	for _, size := range []int{100000, 10, 20000} {
		// A subject, not a body: the test core echoes bodies.
		c.send(`<message to='bob@localhost'><subject>` + strings.Repeat("x", size) + `</subject></message> `)
		if st := nextStanza(t, ts.core); len(st.El.Child("subject", "").Text()) != size {
			t.Fatalf("subject of %d bytes lost", size)
		}
	}
	c.send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := c.next(); el.Attr("id") != "p1" || el.Attr("type") != "result" {
		t.Fatalf("want ping result, got %s", el.Name.Local)
	}
	c.send(`</s:stream>`)
	if _, err := c.nextErr(); err != io.EOF {
		t.Fatalf("want </stream:stream>, got %v", err)
	}
	waitFor(t, "session ended", func() bool {
		r, ok := ts.core.endedReason(sess.ID())
		return ok && r == router.End{Cause: events.EndClientClosed}
	})
}

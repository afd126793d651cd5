package c2s_test

import (
	"testing"
	"time"

	"xmppd/adapters/c2s"
)

// RFC 6120 section 4.9.3.6: a stream to a domain not served; section
// 4.9.3.25: no version (0.9); section 4.8.1: a wrong stream namespace. The
// server opens its own stream first, then sends the error (4.9.1.1).
func TestStreamHeaderErrors(t *testing.T) {
	ts := startServer(t, nil)
	cases := map[string]string{
		"host-unknown":        `<stream:stream to='other.example' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
		"unsupported-version": `<stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
		"invalid-namespace":   `<stream:stream to='localhost' version='1.0' xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>`,
	}
	for cond, header := range cases {
		t.Run(cond, func(t *testing.T) {
			c := dialRaw(t, ts.srv.StartTLSAddr())
			c.send(header)
			c.readHeader()
			c.expectStreamError(cond)
		})
	}
}

// RFC 6120 section 7.7.2.1: a resource PRECIS OpaqueString refuses gets
// <bad-request/>, and the client may try again.
func TestBindBadResource(t *testing.T) {
	ts := startServer(t, nil)
	c := dialDirectTLS(t, ts)
	c.open()
	c.auth(mechPlain(), "alice", "secret")
	c.open()
	c.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>tab&#9;here</resource></bind></iq>")
	el := c.next()
	if el.Attr("type") != "error" || el.Child("error", "").Child("bad-request", "") == nil {
		t.Fatalf("want bad-request, got %s", el)
	}
	if got := c.bind("fine"); got != "alice@localhost/fine" {
		t.Fatalf("retry bound %q", got)
	}
}

// RFC 6120 section 4.9.3.12: a stanza after authentication but before a
// resource is bound is refused; nothing reaches the core.
func TestStanzaBeforeBindRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := dialDirectTLS(t, ts)
	c.open()
	c.auth(mechPlain(), "alice", "secret")
	c.open()
	c.send(`<message to='bob@localhost'><body>early</body></message>`)
	c.expectStreamError("not-authorized")
	if len(ts.core.stanzas) != 0 {
		t.Fatal("core got a stanza from an unbound stream")
	}
}

// A client that never finishes negotiating is cut off with
// <connection-timeout/> (RFC 6120 section 4.9.3.4), header first.
func TestNegotiationTimeout(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.NegotiationTimeout = 100 * time.Millisecond })
	c := dialRaw(t, ts.srv.StartTLSAddr())
	c.open()
	c.expectStreamError("connection-timeout")
}

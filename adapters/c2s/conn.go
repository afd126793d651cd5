package c2s

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"net"
	"time"

	"mellium.im/xmpp/stream"

	"xmppd/stanza"
)

// conn is one client connection while it negotiates, and afterwards the
// state of its reader. Only the connection's own goroutine touches it.
type conn struct {
	srv *Server
	ctx context.Context

	raw    net.Conn      // the TCP connection
	nc     net.Conn      // raw, or the *tls.Conn over it
	cc     *countingConn // what the decoder reads
	d      *xml.Decoder
	header []byte // the client's stream header as sent, for freshDecoder
	// declared: colon-free namespace names the stream header declares,
	// for the undeclared-prefix check (stanza.Limits.Declared).
	declared []string

	addr string // remote ip:port
	ip   string // remote ip, the throttle's key

	direct     bool // XEP-0368: TLS from the first byte
	secure     bool
	tlsInfo    string
	headerSent bool
	streamID   string

	user         string // PRECIS-normalised localpart, once authenticated
	mech         string
	authFailures int

	deadline  time.Time       // of the negotiation
	throttled ThrottleVerdict // the throttle's decision on the current SASL attempt
}

func newConn(srv *Server, ctx context.Context, raw net.Conn, direct bool) *conn {
	c := &conn{srv: srv, ctx: ctx, raw: raw, nc: raw, direct: direct}
	c.addr = raw.RemoteAddr().String()
	c.ip = c.addr
	if host, _, err := net.SplitHostPort(c.addr); err == nil {
		c.ip = host
	}
	c.restartDecoder(true)
	return c
}

// restartDecoder begins a new stream (RFC 6120 section 4.3.3): a fresh
// decoder, and, after TLS, a fresh byte counter over the TLS connection.
func (c *conn) restartDecoder(newTransport bool) {
	if newTransport {
		c.cc = newCountingConn(c.nc, c.srv.cfg.MaxStanzaBytes)
	}
	c.cc.reset()
	c.d = newDecoder(c.cc)
	c.headerSent = false
	// readHeader stops the recording once the header is read.
	c.cc.recorded = nil
	c.cc.recording = true
}

// freshDecoderAfter is the stanza size after which the decoder is
// replaced: encoding/xml keeps a buffer as large as the largest token it
// ever read, which a session would otherwise hold for its lifetime.
const freshDecoderAfter = 4096

// freshDecoder replaces the decoder, between stanzas, with one in the same
// state: it is fed the client's stream header again (so it knows the
// stream's namespaces and expects its end tag) and then reads on. With no
// header kept (an odd, long one), the decoder stays.
func (c *conn) freshDecoder() {
	if c.header == nil {
		return
	}
	c.cc.replay = c.header
	d := newDecoder(c.cc)
	for {
		tok, err := d.Token()
		if err != nil {
			// Cannot happen: these bytes were parsed before. Keep the old.
			c.cc.replay = nil
			return
		}
		if _, ok := tok.(xml.StartElement); ok {
			break
		}
	}
	c.d = d
}

// serve runs the connection's negotiation under one deadline, then starts
// the bound session's reader on a fresh goroutine: the TLS handshake and
// SASL grow this one's stack to tens of kilobytes, which an idle session
// would otherwise keep until enough collections shrank it. The caller
// holds a count in srv.wg for the duration of serve.
func (c *conn) serve() {
	c.deadline = c.srv.now().Add(c.srv.cfg.NegotiationTimeout)
	c.raw.SetDeadline(c.deadline)
	sess, err := c.negotiate()
	if err != nil {
		defer c.srv.forget(c)
		if c.srv.isShuttingDown() && !errors.As(err, new(quietError)) {
			err = stream.SystemShutdown
		}
		if se, ok := streamErrorFor(err); ok {
			c.sendStreamError(se)
		}
		c.srv.log.Debug("c2s: negotiation ended", "addr", c.addr, "err", err)
		c.nc.Close()
		return
	}
	c.nc.SetDeadline(time.Time{})
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		defer c.srv.forget(c)
		sess.run(c)
	}()
}

// negotiate runs streams until a resource is bound (RFC 6120 sections 5
// to 7): TLS, then SASL, then bind, each stage on a restarted stream.
func (c *conn) negotiate() (*Session, error) {
	if c.direct {
		if err := c.handshake(c.raw); err != nil {
			return nil, err
		}
	}
	for {
		from, err := c.readHeader()
		if err != nil {
			return nil, err
		}
		// Header and features in one write: one TLS record, one system
		// call, and the client reads both at once.
		if err := c.write(c.appendFeatures(c.appendHeader(nil, from))); err != nil {
			return nil, quietError{err}
		}
		sess, err := c.negotiateStage()
		if err != nil || sess != nil {
			return sess, err
		}
	}
}

// negotiateStage reads elements until the stage's feature completes: it
// returns (nil, nil) when the stream must restart, or the bound session.
func (c *conn) negotiateStage() (*Session, error) {
	for {
		el, err := c.next()
		if err != nil {
			return nil, err
		}
		switch {
		case !c.secure && el.Name == xml.Name{Space: stanza.NSTLS, Local: "starttls"}:
			return nil, c.startTLS()
		case !c.secure && el.Name.Space == stanza.NSSASL:
			// RFC 6120 section 6.5.4: no SASL before TLS on this server.
			if err := c.saslFailure("encryption-required"); err != nil {
				return nil, err
			}
		case c.secure && c.user == "" && el.Name == xml.Name{Space: stanza.NSSASL, Local: "auth"}:
			ok, err := c.authenticate(el)
			if err != nil || ok {
				return nil, err
			}
		case c.secure && c.user == "" && el.Name == xml.Name{Space: stanza.NSSASL, Local: "abort"}:
			// An abort with no exchange under way: RFC 6120 section 6.4.4.
			if err := c.saslFailure("aborted"); err != nil {
				return nil, err
			}
		case c.secure && c.user == "" && isRegisterIQ(el):
			// XEP-0077 section 3.1.
			if err := c.register(el); err != nil {
				return nil, err
			}
		case c.user != "" && el.Name == xml.Name{Space: stanza.NSSM, Local: "resume"}:
			// XEP-0198 section 5: resumption instead of binding.
			sess, err := c.resume(el)
			if err != nil || sess != nil {
				return sess, err
			}
		case c.user != "" && el.Name.Space == stanza.NSSM:
			// XEP-0198 section 4: <enable/> only after binding.
			if err := c.write(smFailed("unexpected-request", nil)); err != nil {
				return nil, err
			}
		case c.user != "" && isBindIQ(el):
			sess, err := c.bind(el)
			if err != nil || sess != nil {
				return sess, err
			}
		default:
			// RFC 6120 section 4.9.3.12: stanzas (or anything else) before
			// the stream is authenticated and bound.
			return nil, stream.NotAuthorized
		}
	}
}

// next reads the next top-level element of the stream, under the size and
// depth limits. Whitespace between elements is a keepalive (RFC 6120
// section 4.6.1) and restarts the byte count.
func (c *conn) next() (*stanza.Element, error) {
	for {
		tok, err := c.d.Token()
		if err != nil {
			return nil, c.decodeErr(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, withText(stream.BadFormat, "text between stanzas")
			}
			c.cc.reset()
		case xml.StartElement:
			if t.Name == (xml.Name{Space: stanza.NSStreams, Local: "error"}) {
				el, err := stanza.Parse(c.d, t, c.limits())
				if err != nil {
					return nil, err
				}
				cond := "undefined-condition"
				if ch := el.Elements(); len(ch) > 0 {
					cond = ch[0].Name.Local
				}
				return nil, peerStreamError{cond: cond}
			}
			if t.Name.Space == stanza.NSStreams {
				// A stream restart or other stream-level element where a
				// stanza belongs (RFC 6120 section 4.9.3.24); refused before
				// parsing, as a nested <stream:stream> never ends.
				return nil, withText(stream.UnsupportedStanzaType, "unexpected stream-level element")
			}
			el, err := stanza.Parse(c.d, t, c.limits())
			if err != nil {
				return nil, c.decodeErr(err)
			}
			if c.cc.n > freshDecoderAfter {
				c.freshDecoder()
			}
			c.cc.reset()
			return el, nil
		case xml.EndElement:
			// Only </stream:stream> can close at the top level; the
			// decoder rejects any other mismatch itself.
			return nil, errClientClosed
		case xml.Comment, xml.ProcInst, xml.Directive:
			return nil, stream.RestrictedXML
		}
	}
}

func (c *conn) limits() stanza.Limits {
	return stanza.Limits{MaxDepth: c.srv.cfg.MaxDepth, Declared: c.declared}
}

// tlsDescription names the protocol version and cipher suite for the
// session record, e.g. "TLS 1.3 TLS_AES_128_GCM_SHA256".
func tlsDescription(st tls.ConnectionState) string {
	return tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite)
}

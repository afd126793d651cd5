package c2s

import (
	"crypto/tls"
	"fmt"
	"net"

	"mellium.im/xmpp/stream"
)

// startTLS answers <starttls/> (RFC 6120 section 5.4.2.3) and secures the
// connection; the stream then restarts.
//
// Bytes that arrived after <starttls/> came in the clear: taking them as
// if sent under TLS is the STARTTLS injection attack (RFC 7590 section
// 3.1, the class of bug in CVE-2011-0411), so anything but whitespace
// ends the stream with <policy-violation/>. Whitespace is discarded
// instead: RFC 6120 section 5.3.3 asks the client not to send any there,
// but clients do (go-xmpp writes "<starttls/>\n"), and whitespace carries
// nothing to inject: it is dropped unread, never handed to the stream
// that runs under TLS (section 5.4.3.3 item 2), so refusing it would
// protect nothing and only lock those clients out.
func (c *conn) startTLS() error {
	c.cc.reset()
	if c.cc.skipSpace() {
		return withText(stream.PolicyViolation, "data pipelined after <starttls/>")
	}
	if err := c.write([]byte(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)); err != nil {
		return quietError{err}
	}
	return c.handshake(&spaceBeforeHandshake{Conn: c.raw})
}

// handshake runs the TLS server handshake on under (the raw connection,
// or a view of it) and restarts the stream over it.
func (c *conn) handshake(under net.Conn) error {
	tc := tls.Server(under, c.srv.tls)
	if err := tc.HandshakeContext(c.ctx); err != nil {
		// Nothing can be said to a peer whose TLS failed.
		return quietError{fmt.Errorf("c2s: TLS handshake: %w", err)}
	}
	ackNow(c.raw) // the client may be waiting for it to send its stream header
	c.nc = tc
	c.secure = true
	c.tlsInfo = tlsDescription(tc.ConnectionState())
	c.restartDecoder(true)
	return nil
}

// spaceBeforeHandshake drops XML whitespace that reaches the raw
// connection after <starttls/> was answered and before the client's first
// TLS record: the same whitespace startTLS discards when it is already
// buffered, sent in a later TCP segment. No TLS record begins with a
// whitespace byte (its first byte is a content type, 20 to 24), so
// nothing a TLS client sends is lost; any other plaintext reaches the TLS
// layer, which fails the handshake. From the first other byte on, reads
// pass straight through.
type spaceBeforeHandshake struct {
	net.Conn
	started bool
}

func (s *spaceBeforeHandshake) Read(p []byte) (int, error) {
	if s.started || len(p) == 0 {
		return s.Conn.Read(p)
	}
	for {
		n, err := s.Conn.Read(p)
		i := 0
		for i < n && isXMLSpace(p[i]) {
			i++
		}
		if i < n {
			s.started = true
			return copy(p, p[i:n]), err
		}
		if err != nil {
			return 0, err
		}
	}
}

// isXMLSpace reports the XML whitespace bytes (XML 1.0 production S,
// RFC 6120 section 11.7).
func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

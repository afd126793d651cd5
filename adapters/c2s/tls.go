package c2s

import (
	"crypto/tls"
	"fmt"

	"mellium.im/xmpp/stream"
)

// startTLS answers <starttls/> (RFC 6120 section 5.4.2.3) and secures the
// connection; the stream then restarts.
func (c *conn) startTLS() error {
	if c.cc.buffered() > 0 {
		// Bytes after <starttls/> arrived in the clear; taking them as if
		// sent under TLS is the STARTTLS injection attack (RFC 7590).
		return withText(stream.PolicyViolation, "data pipelined after <starttls/>")
	}
	if err := c.write([]byte(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)); err != nil {
		return quietError{err}
	}
	return c.handshake()
}

// handshake runs the TLS server handshake on the raw connection and
// restarts the stream over it.
func (c *conn) handshake() error {
	tc := tls.Server(c.raw, c.srv.tls)
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

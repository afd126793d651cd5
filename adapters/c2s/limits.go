package c2s

import (
	"bufio"
	"errors"
	"net"
)

// errTooBig: more bytes arrived than one stanza (or the negotiation) may
// use; the stream ends with <policy-violation/> (RFC 6120 section 4.9.3.14
// and 13.12 item 4).
var errTooBig = errors.New("c2s: stanza exceeds the size limit")

// countingConn is the connection as the XML decoder sees it. It is an
// io.ByteReader so encoding/xml reads it byte by byte without a buffer of
// its own: every byte the decoder consumes is counted here, and no byte is
// lost when the decoder is replaced at a stream restart.
//
// Only the reader goroutine calls ReadByte and reset.
type countingConn struct {
	net.Conn
	r   *bufio.Reader
	n   int // bytes consumed since the last reset
	max int // 0: no limit
}

func newCountingConn(c net.Conn, max int) *countingConn {
	return &countingConn{Conn: c, r: bufio.NewReaderSize(c, 4096), max: max}
}

func (c *countingConn) ReadByte() (byte, error) {
	if c.max > 0 && c.n >= c.max {
		return 0, errTooBig
	}
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

func (c *countingConn) Read(p []byte) (int, error) {
	if c.max > 0 {
		if c.n >= c.max {
			return 0, errTooBig
		}
		if rest := c.max - c.n; len(p) > rest {
			p = p[:rest]
		}
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// reset starts counting the next stanza.
func (c *countingConn) reset() { c.n = 0 }

// buffered reports bytes read from the network but not yet consumed: at
// STARTTLS there must be none, or a man in the middle could have injected
// plaintext that would be taken as sent under TLS (RFC 7590 section 3.1,
// the class of bug in CVE-2011-0411).
func (c *countingConn) buffered() int { return c.r.Buffered() }

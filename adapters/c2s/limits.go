package c2s

import (
	"errors"
	"net"
)

// errTooBig: more bytes arrived than one stanza (or the negotiation) may
// use; the stream ends with <policy-violation/> (RFC 6120 section 4.9.3.14
// and 13.12 item 4).
var errTooBig = errors.New("c2s: stanza exceeds the size limit")

// readChunk is how much countingConn reads at once. It is small because
// every idle session holds it: over TLS the record layer already buffers
// a whole decrypted record, so a small chunk costs a cheap copy, not a
// system call; before TLS only the short negotiation reads through it.
const readChunk = 512

// countingConn is the connection as the XML decoder sees it. It is an
// io.ByteReader so encoding/xml reads it byte by byte without a buffer of
// its own: every byte the decoder consumes is counted here, and no byte is
// lost when the decoder is replaced at a stream restart.
//
// Only the reader goroutine calls ReadByte, Read and reset.
type countingConn struct {
	net.Conn
	n    int // bytes consumed since the last reset
	max  int // 0: no limit
	r, w int // buf[r:w] is read from the network, not yet consumed
	buf  [readChunk]byte

	replay    []byte // served before buf, uncounted (see conn.freshDecoder)
	recording bool   // append what is consumed to recorded
	recorded  []byte

	// inStanza is set once the first byte of a stanza was found (by
	// conn.awaitStanza) and cleared when the reader is between stanzas;
	// midStanza, if set, is called before the first network read the
	// stanza in progress needs (Session.armStanzaDeadline), and armed
	// records that it was. A stanza read whole from the buffer costs
	// nothing.
	inStanza  bool
	armed     bool
	midStanza func()

	// readErr is the error that ended reading from the network (EOF, a
	// reset, a deadline), which the decoder may have turned into something
	// else: EOF inside <stream:stream> is its "unexpected EOF" syntax error.
	readErr error
}

func newCountingConn(c net.Conn, max int) *countingConn {
	return &countingConn{Conn: c, max: max}
}

// fill reads more from the network when everything buffered was consumed.
func (c *countingConn) fill() error {
	if c.inStanza && !c.armed && c.midStanza != nil {
		c.armed = true
		c.midStanza()
	}
	c.r, c.w = 0, 0
	for c.w == 0 {
		n, err := c.Conn.Read(c.buf[:])
		c.w = n
		if err != nil && n == 0 {
			c.readErr = err
			return err
		}
	}
	return nil
}

func (c *countingConn) ReadByte() (byte, error) {
	if len(c.replay) > 0 {
		b := c.replay[0]
		c.replay = c.replay[1:]
		return b, nil
	}
	if c.max > 0 && c.n >= c.max {
		return 0, errTooBig
	}
	if c.r == c.w {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	b := c.buf[c.r]
	c.r++
	c.n++
	if c.recording {
		c.record(c.buf[c.r-1 : c.r])
	}
	return b, nil
}

func (c *countingConn) Read(p []byte) (int, error) {
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		return n, nil
	}
	if c.max > 0 {
		if c.n >= c.max {
			return 0, errTooBig
		}
		if rest := c.max - c.n; len(p) > rest {
			p = p[:rest]
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.r == c.w {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.buf[c.r:c.w])
	if c.recording {
		c.record(c.buf[c.r : c.r+n])
	}
	c.r += n
	c.n += n
	return n, nil
}

// skipSpace consumes buffered XML whitespace, counted as the decoder
// would count it, and reports whether a byte of something else is
// waiting. It stops at the size limit, where the decoder reports it.
func (c *countingConn) skipSpace() bool {
	for c.r < c.w {
		if c.max > 0 && c.n >= c.max {
			return true
		}
		switch c.buf[c.r] {
		case ' ', '\t', '\r', '\n':
			c.r++
			c.n++
		default:
			return true
		}
	}
	return false
}

// maxRecorded bounds a recording: a stream header (with the XML
// declaration before it) longer than this is not kept.
const maxRecorded = 1024

// record keeps consumed bytes while recording, giving up (recorded nil)
// past maxRecorded.
func (c *countingConn) record(b []byte) {
	if len(c.recorded)+len(b) > maxRecorded {
		c.recording, c.recorded = false, nil
		return
	}
	c.recorded = append(c.recorded, b...)
}

// reset starts counting the next stanza.
func (c *countingConn) reset() { c.n = 0 }

// buffered reports bytes read from the network but not yet consumed: at
// STARTTLS there must be none, or a man in the middle could have injected
// plaintext that would be taken as sent under TLS (RFC 7590 section 3.1,
// the class of bug in CVE-2011-0411).
func (c *countingConn) buffered() int { return c.w - c.r }

// more reads from the network, keeping what is buffered and not yet
// consumed, for a look ahead (conn.readXMLDecl) of fewer than readChunk
// bytes.
func (c *countingConn) more() error {
	if c.r > 0 {
		c.w = copy(c.buf[:], c.buf[c.r:c.w])
		c.r = 0
	}
	for {
		m, err := c.Conn.Read(c.buf[c.w:])
		c.w += m
		if m > 0 {
			return nil
		}
		if err != nil {
			c.readErr = err
			return err
		}
	}
}

// ahead is what is buffered and not yet consumed.
func (c *countingConn) ahead() []byte { return c.buf[c.r:c.w] }

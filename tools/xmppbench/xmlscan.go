package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// errStreamClosed means the server closed the XML stream
// (</stream:stream>) cleanly.
var errStreamClosed = errors.New("xmppbench: stream closed by server")

// elemReader splits an XMPP stream into its stream header and top-level
// elements (stanzas, features, SASL and TLS negotiation elements) without
// building a DOM or token objects: it only finds where each top-level
// element starts and ends, tracking depth across start, end and
// self-closing tags, comments, processing instructions and CDATA. Text
// between top-level elements, such as whitespace keepalives, is skipped.
//
// It is not a validating parser: the server is trusted to send
// well-formed XML, and the benchmark only needs a few attributes and
// child texts, which elem extracts on demand. That keeps the client's CPU
// per stanza small, so on a shared machine the server gets the cores.
//
// One goroutine owns an elemReader.
type elemReader struct {
	r         io.Reader
	buf       []byte
	pos, end  int // next byte to scan; bytes held
	depth     int // 0 before the stream header, 1 between stanzas
	elemStart int // start of the open top-level element while depth > 1
	maxElem   int
}

func newElemReader(r io.Reader) *elemReader {
	return &elemReader{r: r, buf: make([]byte, 4096), maxElem: 16 << 20}
}

// restart expects a new stream header on src, as after STARTTLS or SASL
// success (RFC 6120 §5.4.3.3, §6.4.6). Nothing the server sent before the
// restart may be left over: servers wait for the client's new header.
func (r *elemReader) restart(src io.Reader) {
	r.r = src
	r.pos, r.end, r.depth, r.elemStart = 0, 0, 0, 0
}

// elem is one top-level element, or the stream header when open is true.
// raw aliases the reader's buffer: it is valid only until the next call
// to next.
type elem struct {
	raw  []byte
	open bool
}

// next returns the next stream header or top-level element.
func (r *elemReader) next() (elem, error) {
	for {
		for r.pos < r.end {
			b := r.buf[r.pos:r.end]
			if b[0] != '<' {
				i := bytes.IndexByte(b, '<')
				if i < 0 {
					r.pos = r.end
					break
				}
				r.pos += i
				continue
			}
			n, kind := scanTag(b)
			if n == 0 {
				break // incomplete: read more
			}
			start := r.pos
			r.pos += n
			switch kind {
			case tagStart:
				switch r.depth {
				case 0:
					r.depth = 1
					return elem{raw: r.buf[start:r.pos], open: true}, nil
				case 1:
					r.elemStart = start
				}
				r.depth++
			case tagEmpty:
				if r.depth == 0 {
					return elem{}, fmt.Errorf("xmppbench: element before stream header: %.40q", r.buf[start:r.pos])
				}
				if r.depth == 1 {
					return elem{raw: r.buf[start:r.pos]}, nil
				}
			case tagEnd:
				r.depth--
				switch r.depth {
				case 0:
					return elem{}, errStreamClosed
				case 1:
					return elem{raw: r.buf[r.elemStart:r.pos]}, nil
				case -1:
					return elem{}, fmt.Errorf("xmppbench: end tag before stream header")
				}
			}
		}
		if err := r.fill(); err != nil {
			return elem{}, err
		}
	}
}

// fill drops what is consumed and reads more.
func (r *elemReader) fill() error {
	keep := r.pos
	if r.depth > 1 {
		keep = r.elemStart
	}
	if keep > 0 {
		r.end = copy(r.buf, r.buf[keep:r.end])
		r.pos -= keep
		r.elemStart -= min(keep, r.elemStart)
	}
	if r.end == len(r.buf) {
		if len(r.buf) >= r.maxElem {
			return fmt.Errorf("xmppbench: element larger than %d bytes", r.maxElem)
		}
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	n, err := r.r.Read(r.buf[r.end:])
	r.end += n
	if n > 0 {
		return nil
	}
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

type tagKind int

const (
	tagStart tagKind = iota
	tagEmpty
	tagEnd
	tagOther // comment, processing instruction, CDATA, declaration
)

// scanTag measures the markup at b[0] == '<'. It returns 0 when b does
// not hold the whole of it yet.
func scanTag(b []byte) (int, tagKind) {
	if len(b) < 2 {
		return 0, 0
	}
	switch b[1] {
	case '/':
		return through(b, ">", tagEnd)
	case '?':
		return through(b, "?>", tagOther)
	case '!':
		switch {
		case len(b) < 4:
			return 0, 0
		case b[2] == '-':
			return through(b, "-->", tagOther)
		case b[2] == '[':
			if len(b) < 9 {
				return 0, 0
			}
			return through(b, "]]>", tagOther)
		}
		return through(b, ">", tagOther)
	}
	// A start tag: '>' may appear inside quoted attribute values.
	var quote byte
	for i := 1; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			if b[i-1] == '/' {
				return i + 1, tagEmpty
			}
			return i + 1, tagStart
		}
	}
	return 0, 0
}

func through(b []byte, end string, k tagKind) (int, tagKind) {
	i := bytes.Index(b[2:], []byte(end))
	if i < 0 {
		return 0, 0
	}
	return 2 + i + len(end), k
}

package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// benchStream is a stream header and 1,000 chat messages as a server
// delivers them, with whitespace keepalives among them.
func benchStream() []byte {
	var b bytes.Buffer
	b.WriteString(testHeader)
	for i := range 1000 {
		b.WriteString("<message from='user2@localhost/chat' to='user1@localhost/chat' type='chat' id='m")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("'><body>1234567890123</body></message>")
		if i%100 == 0 {
			b.WriteString(" \n")
		}
	}
	b.WriteString("</stream:stream>")
	return b.Bytes()
}

// BenchmarkElemReader measures the client's own splitter plus the
// attribute and body look-ups a chat receiver does; compare with
// BenchmarkEncodingXMLDecoder, the standard library doing the same work,
// to see what the lean client saves per stanza.
func BenchmarkElemReader(b *testing.B) {
	in := benchStream()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r := newElemReader(bytes.NewReader(in))
		n := 0
		for {
			e, err := r.next()
			if err != nil {
				break
			}
			if e.is("message") && e.attr("type") == "chat" {
				if body, ok := e.childText("body"); ok && len(body) > 0 {
					n++
				}
			}
		}
		if n != 1000 {
			b.Fatalf("read %d messages, want 1000", n)
		}
	}
}

func BenchmarkEncodingXMLDecoder(b *testing.B) {
	in := benchStream()
	b.SetBytes(int64(len(in)))
	type message struct {
		Type string `xml:"type,attr"`
		Body string `xml:"body"`
	}
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(in))
		n := 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "message" {
				var m message
				if err := d.DecodeElement(&m, &se); err != nil {
					b.Fatal(err)
				}
				if m.Type == "chat" && m.Body != "" {
					n++
				}
			}
		}
		if n != 1000 {
			b.Fatalf("read %d messages, want 1000", n)
		}
	}
}

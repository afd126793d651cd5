package c2s_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// BenchmarkBoundStanzaRead times the reader of a bound session: pipelined
// XEP-0199 pings over direct TLS, each answered by c2s itself, so what is
// measured is reading, decoding and answering, not the core. "small" is a
// ping that fits in one read chunk; "2KiB" pads its id so every stanza
// spans several reads (the case where Config.StanzaTimeout arms a read
// deadline).
func BenchmarkBoundStanzaRead(b *testing.B) {
	ts := startServer(b, nil)
	for _, size := range []struct {
		name string
		pad  int
	}{{"small", 0}, {"2KiB", 2048}} {
		b.Run(size.name, func(b *testing.B) {
			conn, r := benchLogin(b, ts)
			defer conn.Close()
			pad := strings.Repeat("x", size.pad)
			const batch = 64
			var buf strings.Builder
			n := 0
			for b.Loop() {
				fmt.Fprintf(&buf, "<iq type='get' id='%s%d'><ping xmlns='urn:xmpp:ping'/></iq>", pad, n)
				n++
				if n%batch == 0 {
					io.WriteString(conn, buf.String())
					buf.Reset()
					readIQs(b, r, batch)
				}
			}
			if buf.Len() > 0 {
				io.WriteString(conn, buf.String())
				readIQs(b, r, n%batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/stanza")
		})
	}
}

// benchLogin logs alice in over direct TLS with PLAIN and binds, reading
// the server's answers as raw bytes.
func benchLogin(b *testing.B, ts *testServer) (*tls.Conn, *bufio.Reader) {
	b.Helper()
	conn, err := tls.Dial("tcp", ts.srv.DirectTLSAddr().String(), ts.clientTLS())
	if err != nil {
		b.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(conn)
	header := `<stream:stream to='` + testDomain + `' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
	io.WriteString(conn, header)
	readPast(b, r, "</stream:features>")
	io.WriteString(conn, `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>`+base64.StdEncoding.EncodeToString([]byte("\x00alice\x00secret"))+`</auth>`)
	readPast(b, r, "success")
	io.WriteString(conn, header)
	readPast(b, r, "</stream:features>")
	io.WriteString(conn, `<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`)
	readPast(b, r, "</iq>")
	return conn, r
}

// readIQs reads from r until n more IQs have begun and ended, counting
// "<iq " and the ends of the replies in chunks, cheaply enough that the
// client does not hide the server's cost.
func readIQs(b *testing.B, r *bufio.Reader, n int) {
	b.Helper()
	var tail []byte
	seen := 0
	for seen < n || !bytes.HasSuffix(tail, []byte("/>")) && !bytes.HasSuffix(tail, []byte("</iq>")) {
		chunk := make([]byte, 0, 4096+len(tail))
		chunk = append(chunk, tail...)
		m, err := r.Read(chunk[len(tail):cap(chunk)])
		if err != nil {
			b.Fatalf("reading replies: %v", err)
		}
		chunk = chunk[:len(tail)+m]
		seen += bytes.Count(chunk, []byte("<iq ")) - bytes.Count(tail, []byte("<iq "))
		tail = chunk[max(0, len(chunk)-8):]
	}
}

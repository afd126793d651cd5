package c2s_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// BenchmarkSTARTTLSRestart times one client's way from connecting to the
// features of the stream restarted over TLS (RFC 6120 5.4.3.3), with
// Nagle's algorithm on in the client, as Erlang's and Java's sockets have
// it, and off. A client with Nagle on sends its stream header only once
// its TLS Finished is acknowledged; before the server acknowledged at once
// (quickack_linux.go) every such login waited for the 40 ms delayed ACK:
// 43.5 ms against 1.3 ms an op here.
func BenchmarkSTARTTLSRestart(b *testing.B) {
	ts := startServer(b, nil)
	header := `<?xml version='1.0'?><stream:stream to='` + testDomain + `' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
	for _, nagle := range []bool{true, false} {
		name := map[bool]string{true: "nagle", false: "nodelay"}[nagle]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				conn, err := net.Dial("tcp", ts.srv.StartTLSAddr().String())
				if err != nil {
					b.Fatal(err)
				}
				conn.(*net.TCPConn).SetNoDelay(!nagle)
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(conn)
				io.WriteString(conn, header)
				readPast(b, r, "</stream:features>")
				io.WriteString(conn, `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
				readPast(b, r, "/>") // <proceed .../>
				tc := tls.Client(conn, ts.clientTLS())
				if err := tc.Handshake(); err != nil {
					b.Fatal(err)
				}
				io.WriteString(tc, header)
				readPast(b, bufio.NewReader(tc), "</stream:features>")
				conn.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/restart")
		})
	}
}

// readPast reads r up to and including the first occurrence of s.
func readPast(b *testing.B, r *bufio.Reader, s string) {
	b.Helper()
	var seen strings.Builder
	for !strings.HasSuffix(seen.String(), s) {
		c, err := r.ReadByte()
		if err != nil {
			b.Fatalf("reading up to %q: %v (read %q)", s, err, seen.String())
		}
		seen.WriteByte(c)
	}
}

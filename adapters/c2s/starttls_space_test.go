package c2s_test

import (
	"crypto/tls"
	"encoding/xml"
	"testing"
	"time"

	"mellium.im/sasl"
)

const starttlsEl = `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`

// finishLogin runs the TLS handshake on a client that has read <proceed/>,
// then SCRAM-SHA-256, bind, and one message the echo core answers: the
// whole session works over the secured stream.
func finishLogin(t *testing.T, ts *testServer, c *rawClient) {
	t.Helper()
	tc := tls.Client(c.conn, ts.clientTLS())
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake after <proceed/>: %v", err)
	}
	c.conn = tc
	c.d = xml.NewDecoder(tc)
	c.open()
	if el := c.auth(sasl.ScramSha256, "alice", "secret"); el.Name.Local != "success" {
		t.Fatalf("auth: %s", el)
	}
	c.open()
	if got := c.bind("ws"); got != "alice@localhost/ws" {
		t.Fatalf("bound %q", got)
	}
	c.send(`<message to='bob@localhost' type='chat'><body>after whitespace</body></message>`)
	if el := c.next(); el.Child("body", "").Text() != "echo: after whitespace" {
		t.Fatalf("want the echo, got %s", el)
	}
}

// RFC 6120 section 5.3.3 asks the client not to send whitespace between
// <starttls/> and <proceed/>, but go-xmpp (go-sendxmpp) writes
// "<starttls/>\n". Whitespace carries nothing an attacker could inject
// (RFC 7590 section 3.1), so the server discards it, whether it arrives
// with <starttls/> or after <proceed/> just before the ClientHello, and
// the client logs in.
func TestStartTLSWhitespaceAfterIsDiscarded(t *testing.T) {
	ts := startServer(t, nil)
	cases := []struct {
		name         string
		with         string // sent in the same write as <starttls/>
		afterProceed string // sent after <proceed/> was read, before the handshake
	}{
		{"newline (go-xmpp)", "\n", ""},
		{"CR LF tab space", "\r\n\t ", ""},
		{"long run", "\n" + spaces(600), ""}, // more than one read chunk
		{"newline after proceed", "", "\n"},
		{"both", " ", "\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.srv.StartTLSAddr())
			c.open()
			c.send(starttlsEl + tc.with)
			if el := c.next(); el.Name.Local != "proceed" {
				t.Fatalf("want <proceed/>, got %s", el)
			}
			if tc.afterProceed != "" {
				c.send(tc.afterProceed)
				time.Sleep(20 * time.Millisecond) // its own TCP segment, read before the ClientHello
			}
			finishLogin(t, ts, c)
		})
	}
}

func spaces(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = " \t\r\n"[i%4]
	}
	return string(b)
}

// Anything but whitespace after <starttls/> is plaintext that must never
// be taken as sent under TLS (RFC 7590 section 3.1; RFC 6120 section
// 5.4.3.3 item 2): the stream ends with <policy-violation/> before any
// <proceed/>.
func TestStartTLSDataAfterIsRefused(t *testing.T) {
	ts := startServer(t, nil)
	for _, after := range []string{
		`<iq type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq>`,
		"\n<iq/>",
		"\r\n\t <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>",
		" x",
	} {
		t.Run(after, func(t *testing.T) {
			c := dialRaw(t, ts.srv.StartTLSAddr())
			c.open()
			c.send(starttlsEl + after)
			el, err := c.nextErr()
			if err != nil {
				t.Fatalf("want a stream error, got %v", err)
			}
			if el.Name.Local != "error" || el.Child("policy-violation", "") == nil {
				t.Fatalf("want <policy-violation/> and no <proceed/>, got %s", el)
			}
			if el, err := c.nextErr(); err == nil {
				t.Fatalf("after the stream error want </stream:stream>, got %s", el)
			}
		})
	}
}

// Plaintext that is not whitespace, sent after <proceed/> and before the
// ClientHello, is never read as XML: it reaches the TLS layer, which
// fails the handshake.
func TestStartTLSDataAfterProceedFailsHandshake(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts.srv.StartTLSAddr())
	c.open()
	c.send(starttlsEl)
	if el := c.next(); el.Name.Local != "proceed" {
		t.Fatalf("want <proceed/>, got %s", el)
	}
	c.send("\n<iq type='get' id='x'/>")
	time.Sleep(20 * time.Millisecond)
	tc := tls.Client(c.conn, ts.clientTLS())
	if err := tc.Handshake(); err == nil {
		t.Fatal("TLS handshake succeeded after plaintext was injected before it")
	}
}

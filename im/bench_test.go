package im_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"xmppd/adapters/c2s"
	"xmppd/adapters/keystore"
	"xmppd/adapters/store/sqlite"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/im"
	"xmppd/stanza"
)

// BenchmarkChatMessage is one chat message from one session to another
// account's bare JID, end to end through both sessions' TLS, c2s and the
// core's routing (RFC 6121 8.5.2.1.1), with up to 16 in flight: the hot
// path of `xmppbench chat`. The raw clients are part of what it times.
func BenchmarkChatMessage(b *testing.B) {
	srv := benchServer(b, "alice", "bob")
	alice := benchLogin(b, srv, "alice")
	bob := benchLogin(b, srv, "bob")
	for _, c := range []*benchClient{alice, bob} {
		// Available once its own presence comes back (RFC 6121 4.2.2).
		c.write(b, "<presence/>")
		c.until(b, func(el *stanza.Element) bool { return el.Name.Local == "presence" })
	}
	const window = 16
	tokens := make(chan struct{}, window)
	done := make(chan error, 1)
	go func() {
		var err error
		for range b.N {
			var el *stanza.Element
			if el, err = bob.next(); err != nil {
				break
			}
			if el.Name.Local != "message" || el.Attr("type") == "error" {
				err = fmt.Errorf("bob got %s", el)
				break
			}
			<-tokens
		}
		done <- err
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		tokens <- struct{}{}
		if _, err := io.WriteString(alice.conn, "<message type='chat' to='bob@localhost'><body>"+strconv.Itoa(i)+"</body></message>"); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLogin is one complete login: TCP, STARTTLS, SASL PLAIN (so
// that the client's PBKDF2 is not timed), bind, which records
// session.started, and the end of the session, which records its end.
func BenchmarkLogin(b *testing.B) {
	srv := benchServer(b, "alice")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := benchLogin(b, srv, "alice")
		c.write(b, "</stream:stream>")
		for {
			if _, err := c.next(); err != nil {
				break
			}
		}
		c.conn.Close()
	}
}

// benchServer runs a server with accounts users on a store in a
// temporary directory until the benchmark ends.
func benchServer(b *testing.B, users ...string) *server {
	b.Helper()
	dir := b.TempDir()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "xmppd.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	for _, u := range users {
		bare := u + "@" + testDomain
		creds, err := domain.NewCredentials("pw-"+u, domain.MinScramIterations, rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		var envs []events.Envelope
		for _, p := range []events.Payload{events.AccountCreated{JID: bare}, creds} {
			e, err := events.New(p, events.Meta{Actor: "admin:bench"})
			if err != nil {
				b.Fatal(err)
			}
			e.Recorded = time.Now().UTC()
			envs = append(envs, e)
		}
		if _, err := st.Append(context.Background(), events.AccountStream(bare), events.NoStream, envs...); err != nil {
			b.Fatal(err)
		}
	}
	cert, _, err := c2s.LoadOrCreateCert(dir, testDomain)
	if err != nil {
		b.Fatal(err)
	}
	// A real key store, as xmppd serve has: what the benchmarks archive
	// and the presence they send are sealed as in production (issue 13).
	keys, err := keystore.Open(filepath.Join(dir, "keys.db"), false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { keys.Close() })
	srv, err := newServer(im.Config{Domain: testDomain, Node: testNode, Store: st, Keys: keys},
		// The stanza rate is on but never met: a benchmark floods one
		// session on purpose, and times the rate check, not the wait.
		c2s.Config{StartTLSAddr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, StanzaRate: 1e9})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-ran:
		b.Fatalf("server did not start: %v", err)
	}
	b.Cleanup(func() { cancel(); <-ran })
	return srv
}

// benchClient is a minimal raw client for the benchmarks.
type benchClient struct {
	conn net.Conn
	d    *xml.Decoder
}

func (c *benchClient) write(b *testing.B, s string) {
	b.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		b.Fatal(err)
	}
}

// next returns the next top-level element; a stream error is an error.
func (c *benchClient) next() (*stanza.Element, error) {
	for {
		tok, err := c.d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "stream" {
				continue
			}
			el, err := stanza.Parse(c.d, t, stanza.Limits{})
			if err == nil && t.Name.Local == "error" {
				err = fmt.Errorf("stream error %s", el)
			}
			return el, err
		case xml.EndElement:
			return nil, io.EOF
		}
	}
}

func (c *benchClient) until(b *testing.B, ok func(*stanza.Element) bool) *stanza.Element {
	b.Helper()
	for {
		el, err := c.next()
		if err != nil {
			b.Fatal(err)
		}
		if ok(el) {
			return el
		}
	}
}

// benchLogin logs user in over STARTTLS with SASL PLAIN and binds a
// resource of the server's choice.
func benchLogin(b *testing.B, srv *server, user string) *benchClient {
	b.Helper()
	raw, err := net.Dial("tcp", srv.StartTLSAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	c := &benchClient{conn: raw, d: xml.NewDecoder(raw)}
	header := `<?xml version='1.0'?><stream:stream to='` + testDomain + `' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
	features := func(el *stanza.Element) bool { return el.Name.Local == "features" }
	c.write(b, header)
	c.until(b, features)
	c.write(b, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	c.until(b, func(el *stanza.Element) bool { return el.Name.Local == "proceed" })
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	c.conn, c.d = tc, xml.NewDecoder(tc)
	c.write(b, header)
	c.until(b, features)
	c.write(b, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"+
		base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00pw-"+user))+"</auth>")
	if el := c.until(b, func(*stanza.Element) bool { return true }); el.Name.Local != "success" {
		b.Fatalf("auth: %s", el)
	}
	c.d = xml.NewDecoder(tc)
	c.write(b, header)
	c.until(b, features)
	c.write(b, "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
	if el := c.until(b, func(el *stanza.Element) bool { return el.Attr("id") == "bind" }); !bytes.Contains([]byte(el.String()), []byte(user+"@")) {
		b.Fatalf("bind: %s", el)
	}
	return c
}

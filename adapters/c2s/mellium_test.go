package c2s_test

import (
	"context"
	"encoding/xml"
	"net"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"
)

// mellium's own client (a second, independent implementation) negotiates
// STARTTLS, SCRAM-SHA-256 (verifying our server signature) and bind, pings
// the server (XEP-0199) and exchanges a message through the echo core.
// NewClientSession over our own dial stands in for DialClientSession,
// which would look up SRV records for the domain.
func TestMelliumClient(t *testing.T) {
	ts := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := net.Dial("tcp", ts.srv.StartTLSAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	origin := jid.MustParse("alice@localhost/mellium")
	session, err := xmpp.NewClientSession(ctx, origin, conn,
		xmpp.StartTLS(ts.clientTLS()),
		xmpp.SASL("", "secret", sasl.ScramSha256),
		xmpp.BindResource(),
	)
	if err != nil {
		t.Fatalf("mellium client login: %v", err)
	}
	defer session.Close()
	if got := session.LocalAddr().Bare().String(); got != "alice@localhost" {
		t.Fatalf("bound %q", got)
	}

	bodies := make(chan string, 1)
	serveErr := make(chan error, 1)
	go func() {
		serveErr <- session.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			if start.Name.Local != "message" {
				return nil
			}
			var msg struct {
				stanza.Message
				Body string `xml:"body"`
			}
			// The handler's reader holds the rest of the element after start.
			d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), r))
			if err := d.Decode(&msg); err != nil {
				return err
			}
			bodies <- msg.Body
			return nil
		}))
	}()

	if err := ping.Send(ctx, session, jid.MustParse("localhost")); err != nil {
		t.Fatalf("ping: %v", err)
	}

	msg := struct {
		stanza.Message
		Body string `xml:"body"`
	}{
		Message: stanza.Message{To: jid.MustParse("bob@localhost"), Type: stanza.ChatMessage},
		Body:    "hello from mellium",
	}
	if err := session.Encode(ctx, msg); err != nil {
		t.Fatal(err)
	}
	st := nextStanza(t, ts.core)
	if st.From.Bare().String() != "alice@localhost" || st.To.String() != "bob@localhost" {
		t.Fatalf("core saw from %v to %v", st.From, st.To)
	}
	select {
	case body := <-bodies:
		if body != "echo: hello from mellium" {
			t.Fatalf("echo body %q", body)
		}
	case <-ctx.Done():
		t.Fatal("no echo reached the mellium client")
	case err := <-serveErr:
		t.Fatalf("mellium Serve ended: %v", err)
	}
}

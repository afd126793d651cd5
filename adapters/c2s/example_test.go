package c2s_test

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"
	"xmppd/router"
	"xmppd/stanza"

	"xmppd/adapters/c2s"
	"xmppd/events"
)

// noCore and noAccounts stand in for the server (im) and
// the account projection: this example shows the adapter alone, and no
// client gets as far as authenticating.
type noCore struct{}

func (noCore) Bound(context.Context, router.Session) error              { return nil }
func (noCore) Stanza(context.Context, router.Session, stanza.Stanza)    {}
func (noCore) Suspended(router.Session, router.End, int, time.Duration) {}
func (noCore) Resumed(router.Session, int)                              {}
func (noCore) Ended(router.Session, router.End)                         {}

type noAccounts struct{}

func (noAccounts) Credentials(context.Context, string) (events.CredentialsSet, bool, error) {
	return events.CredentialsSet{}, false, nil
}

// How cmd/xmppd wires the adapter: a certificate from the data directory
// (made on first start: cmd/xmppd warns that clients will not trust it),
// the core, the credential store. A client that opens a stream on the
// STARTTLS port is then offered only <starttls/>, and must use it
// (RFC 6120 section 5.3.1).
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "c2s-example") // xmppd serve: data_dir
	defer os.RemoveAll(dir)
	cert, _, err := c2s.LoadOrCreateCert(dir, "example.org")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := c2s.New(c2s.Config{
		Domain:         "example.org",
		StartTLSAddr:   "127.0.0.1:0", // xmppd serve: ":5222"
		DirectTLSAddr:  "127.0.0.1:0", // ":5223"
		TLS:            &tls.Config{Certificates: []tls.Certificate{cert}},
		ServerFeatures: []string{"urn:xmpp:features:rosterver"},
	}, c2s.Deps{Core: noCore{}, Credentials: noAccounts{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err) // every configuration problem at once
		return
	}
	if err := srv.Listen(); err != nil { // binds now, so the port is known
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background()) // xmppd: cancelled on SIGTERM
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	defer func() { stop(); <-served }() // a graceful shutdown

	conn, err := net.Dial("tcp", srv.StartTLSAddr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, "<?xml version='1.0'?><stream:stream to='example.org' version='1.0'"+
		" xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
	dec := xml.NewDecoder(conn)
	var path []string
	for {
		tok, err := dec.Token()
		if err != nil {
			fmt.Println(err)
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			if len(path) == 1 {
				fmt.Println("stream from", attr(t, "from"))
			} else {
				fmt.Println(strings.Join(path[1:], " > "))
			}
		case xml.EndElement:
			path = path[:len(path)-1]
			if t.Name.Local == "features" {
				return
			}
		}
	}
	// Output:
	// stream from example.org
	// features
	// features > starttls
	// features > starttls > required
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

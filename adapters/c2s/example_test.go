package c2s_test

import (
	"context"
	"crypto/tls"
	"log/slog"

	"xmppd/adapters/c2s"
)

// How cmd/xmppd wires the adapter: a certificate from the data directory
// (made on first start, with a warning), the core, the credential store
// and the event-log observer.
func ExampleNew() {
	var (
		core  c2s.Core        // the IM logic
		creds c2s.Credentials // the account projection
		log   = slog.Default()
	)
	cert, created, err := c2s.LoadOrCreateCert("./data", "example.org")
	if err != nil {
		log.Error("certificate", "err", err)
		return
	}
	if created {
		log.Warn("c2s: made a self-signed certificate; clients will not trust it", "dir", "./data")
	}
	srv, err := c2s.New(c2s.Config{
		Domain:         "example.org",
		StartTLSAddr:   ":5222",
		DirectTLSAddr:  ":5223",
		TLS:            &tls.Config{Certificates: []tls.Certificate{cert}},
		ServerFeatures: []string{"urn:xmpp:features:rosterver"},
	}, c2s.Deps{Core: core, Credentials: creds, Logger: log})
	if err != nil {
		log.Error("c2s", "err", err) // every configuration problem at once
		return
	}
	ctx := context.Background() // cancelled on SIGTERM: shuts down gracefully
	_ = srv.Serve(ctx)
}

package server_test

import (
	"context"
	"crypto/tls"
	"log"
	"os/signal"
	"syscall"

	"xmppd/adapters/c2s"
	"xmppd/adapters/server"
	"xmppd/adapters/store/sqlite"
)

// Example shows how `xmppd serve` wires the server: a store, the client
// listeners, and Run until a signal.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	store, err := sqlite.Open(ctx, sqlite.Config{Path: "data/xmppd.db"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	cert, _, err := c2s.LoadOrCreateCert("data", "localhost")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Domain: "localhost",
		Node:   "node1",
		Store:  store,
		C2S: c2s.Config{
			StartTLSAddr:  ":5222",
			DirectTLSAddr: ":5223",
			TLS:           &tls.Config{Certificates: []tls.Certificate{cert}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

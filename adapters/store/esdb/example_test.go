package esdb_test

import (
	"context"
	"log"
	"log/slog"

	"xmppd/adapters/store/esdb"
	"xmppd/events"
)

// Open a store on a single insecure node and append the first event of an
// account's stream. (Not run: it needs a server.)
func ExampleOpen() {
	ctx := context.Background()
	s, err := esdb.Open(ctx, esdb.Config{
		URL:    "esdb://localhost:2113?tls=false",
		Logger: slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	e, err := events.New(events.AccountCreated{JID: "alice@localhost"}, events.Meta{Actor: "admin:root", Node: "node-a"})
	if err != nil {
		log.Fatal(err)
	}
	out, err := s.Append(ctx, events.AccountStream("alice@localhost"), events.NoStream, e)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%s version %d at position %d, hash %s", out[0].Stream, out[0].Version, out[0].Position, out[0].Hash)
}

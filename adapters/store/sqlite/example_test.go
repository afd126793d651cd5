package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
)

func Example() {
	dir, _ := os.MkdirTemp("", "xmppd-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "xmppd.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	e, _ := events.New(events.AccountCreated{JID: "juliet@example.com"}, events.Meta{Actor: "admin:root"})
	e.Recorded = time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
	stream := events.AccountStream("juliet@example.com")
	if _, err := s.Append(ctx, stream, events.NoStream, e); err != nil {
		fmt.Println(err)
		return
	}
	// A second creation expects a new stream too, and loses.
	_, err = s.Append(ctx, stream, events.NoStream, e)
	fmt.Println(err)

	for e, err := range s.ReadStream(ctx, stream, 1) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(e.Position, e.Stream, e.Version, e.Type, e.Prev == events.GenesisHash)
	}
	// Output:
	// events: append account-juliet@example.com at version 0: events: wrong expected version: stream is at version 1
	// 1 account-juliet@example.com 1 account.created true
}

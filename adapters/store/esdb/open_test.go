package esdb

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"xmppd/events"
)

// TestOpenAppendFirstEvent is what ExampleOpen used to show without
// running it (it needs a server): open a store on a single insecure node
// and append the first event of an account's stream. It runs on the fake
// node (fakeESDBServer: EventStoreDB cannot run here) and, when
// XMPPD_TEST_ESDB_URL names one, on a real node as well.
func TestOpenAppendFirstEvent(t *testing.T) {
	urls := map[string]string{"fake node": startFakeESDB(t, "24.10.0").url()}
	if u := os.Getenv("XMPPD_TEST_ESDB_URL"); u != "" {
		urls["XMPPD_TEST_ESDB_URL"] = u
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := Open(ctx, Config{URL: url, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()

			// A stream of its own, so a reused real node does not refuse it.
			jid := "alice-" + time.Now().Format("150405.000000000") + "@localhost"
			e, err := events.New(events.AccountCreated{JID: jid}, events.Meta{Actor: "admin:root", Node: "node-a"})
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Append(ctx, events.AccountStream(jid), events.NoStream, e)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if len(out) != 1 || out[0].Stream != events.AccountStream(jid) || out[0].Version != 1 ||
				out[0].Position == 0 || out[0].Hash == "" || out[0].Prev != events.GenesisHash {
				t.Fatalf("appended %+v, want the stream's version 1 at a position, hashed after the genesis hash", out)
			}
			// Read back, it is the same event.
			var got []events.Envelope
			for r, err := range s.ReadStream(ctx, events.AccountStream(jid), 1) {
				if err != nil {
					t.Fatalf("ReadStream: %v", err)
				}
				got = append(got, r)
			}
			if len(got) != 1 || got[0].ID != out[0].ID || got[0].Hash != out[0].Hash || got[0].Position != out[0].Position {
				t.Fatalf("read back %+v, want %+v", got, out[0])
			}
			// A second creation of the stream loses (expected NoStream).
			if _, err := s.Append(ctx, events.AccountStream(jid), events.NoStream, e); err == nil {
				t.Fatal("a second Append expecting no stream succeeded")
			}
		})
	}
}

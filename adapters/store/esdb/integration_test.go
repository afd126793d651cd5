package esdb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"xmppd/adapters/store/esdb"
	"xmppd/events"
	"xmppd/events/storetest"
)

// TestConformance runs the shared store suite against a real EventStoreDB
// (22.6 or newer), named by XMPPD_TEST_ESDB_URL. See doc.go, "Running
// against EventStoreDB".
func TestConformance(t *testing.T) {
	url := os.Getenv("XMPPD_TEST_ESDB_URL")
	if url == "" {
		t.Skip("XMPPD_TEST_ESDB_URL is not set; to run the conformance suite against EventStoreDB: " +
			"docker run --rm -p 2113:2113 eventstore/eventstore:24.10 --insecure --max-append-size=16777216, then " +
			"XMPPD_TEST_ESDB_URL='esdb://localhost:2113?tls=false' go test ./adapters/store/esdb/")
	}
	storetest.Run(t, func(t *testing.T) events.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := esdb.Open(ctx, esdb.Config{URL: url})
		if err != nil {
			t.Fatalf("Open(%s): %v", url, err)
		}
		return s
	})
}

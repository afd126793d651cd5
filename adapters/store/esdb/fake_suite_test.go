package esdb

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"xmppd/events"
	"xmppd/events/storetest"
)

// openFake opens a Store on f.
func openFake(t *testing.T, f *fakeESDBServer) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, Config{URL: f.url()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// The conformance suite against the fake node: it exercises every path of
// the adapter through the real client and real gRPC. It says nothing about
// EventStoreDB itself; TestConformance does, given a server.
func TestConformanceOnFakeESDB(t *testing.T) {
	f := startFakeESDB(t, "24.10.0")
	storetest.Run(t, func(t *testing.T) events.Store { return openFake(t, f) })
}

// appendRaw writes events as another program would, with the plain client.
func appendRaw(t *testing.T, f *fakeESDBServer, stream, typ string, meta []byte) {
	t.Helper()
	conf, err := esdb.ParseConnectionString(f.url())
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{},
		esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: []byte(`{}`), Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesOldServer(t *testing.T) {
	f := startFakeESDB(t, "22.4.1")
	_, err := Open(context.Background(), Config{URL: f.url()})
	if err == nil || !strings.Contains(err.Error(), "22.4.1 is too old") {
		t.Fatalf("Open = %v, want a refusal of 22.4.1", err)
	}
}

// A subscription that the server drops continues after the last event it
// delivered: nothing is lost or repeated.
func TestSubscribeResumesAfterDrop(t *testing.T) {
	f := startFakeESDB(t, "24.10.0")
	s := openFake(t, f)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const stream = "presence-alice@localhost"
	appendN := func(from, n int) {
		evs := make([]events.Envelope, n)
		for i := range evs {
			evs[i] = sampleEvent(t, from+i)
		}
		if _, err := s.Append(ctx, stream, events.Any, evs...); err != nil {
			t.Fatal(err)
		}
	}
	appendN(0, 3)
	next, stop := iter.Pull2(s.Subscribe(ctx, 0))
	defer stop()
	var got []events.Envelope
	receive := func(n int) {
		for range n {
			e, err, ok := next()
			if !ok || err != nil {
				t.Fatalf("subscription ended: %v", err)
			}
			got = append(got, e)
		}
	}
	receive(3)
	if n := f.dropSubscriptions(); n != 1 {
		t.Fatalf("dropped %d subscriptions, want 1", n)
	}
	appendN(3, 2)
	// A foreign system event between the two batches is filtered out.
	appendRaw(t, f, "$stats-127.0.0.1:2113", "$statsCollected", nil)
	appendN(5, 2)
	receive(4)
	for i, e := range got {
		if e.Version != uint64(i+1) {
			t.Errorf("delivery %d is version %d, want %d", i, e.Version, i+1)
		}
	}
	if err := events.NewChainChecker().Check(&got[0]); err != nil {
		t.Error(err)
	}
	if f.subscriptions() != 1 {
		t.Errorf("%d subscriptions served after the drop, want 1", f.subscriptions())
	}
}

// Reading $all from a position inside a record (the position after an
// event) starts at the next event; from an event's own position, at it.
func TestReadAllFromAnyPosition(t *testing.T) {
	f := startFakeESDB(t, "24.10.0")
	s := openFake(t, f)
	defer s.Close()
	ctx := context.Background()
	out, err := s.Append(ctx, "account-bob@localhost", events.NoStream, sampleEvent(t, 1), sampleEvent(t, 2), sampleEvent(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		from uint64
		want []events.Envelope
	}{
		{"from the start", 0, out},
		{"at the second event", out[1].Position, out[1:]},
		{"just after the first event", out[0].Position + 1, out[1:]},
		{"just after the last event", out[2].Position + 1, nil},
		{"far beyond the end", 1 << 50, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []events.Envelope
			for e, err := range s.ReadAll(ctx, tc.from) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, e)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReadAll(%d) = %d events, want %d", tc.from, len(got), len(tc.want))
			}
		})
	}
	h, err := s.Head(ctx)
	if err != nil || h != out[2].Position {
		t.Errorf("Head = %d, %v; want %d", h, err, out[2].Position)
	}
	appendRaw(t, f, "$stats-127.0.0.1:2113", "$statsCollected", nil)
	if h, err := s.Head(ctx); err != nil || h != out[2].Position {
		t.Errorf("Head after a system event = %d, %v; want %d", h, err, out[2].Position)
	}
}

// Events some other program wrote are reported, not skipped or misread;
// nothing is appended on top of them.
func TestForeignEvents(t *testing.T) {
	f := startFakeESDB(t, "24.10.0")
	s := openFake(t, f)
	defer s.Close()
	ctx := context.Background()
	appendRaw(t, f, "account-eve@localhost", "OrderPlaced", []byte(`{"$correlationId":"x"}`))
	_, err := s.Append(ctx, "account-eve@localhost", events.Any, sampleEvent(t, 1))
	var me *MetadataError
	var se *events.StoreError
	if !errors.As(err, &me) || !errors.As(err, &se) || se.Op != "append" {
		t.Errorf("Append on a foreign head: %v", err)
	}
	for _, err := range s.ReadAll(ctx, 0) {
		if !errors.As(err, &me) || !errors.As(err, &se) || se.Op != "read all" {
			t.Errorf("ReadAll over a foreign event: %v", err)
		}
		break
	}
	n := 0
	for e, err := range s.ReadStream(ctx, "account-eve@localhost", 1) {
		n++
		if err == nil || e.Stream != "" {
			t.Errorf("ReadStream of a foreign event yielded %+v, %v", e, err)
		}
	}
	if n != 1 {
		t.Errorf("ReadStream yielded %d items, want the error alone", n)
	}
}

// An EventStoreDB outage long enough for the client to give up discovery
// does not kill the store: calls fail meanwhile (never with ErrClosed)
// and work again once the node is back.
func TestStoreOutlivesOutage(t *testing.T) {
	f := startFakeESDB(t, "24.10.0")
	ctx := context.Background()
	s, err := Open(ctx, Config{URL: "esdb://" + f.addr + "?tls=false&maxDiscoverAttempts=1&discoveryInterval=10"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f.srv.Stop()
	for i := range 3 {
		_, err := s.Head(ctx)
		if err == nil {
			t.Fatalf("call %d succeeded with the node down", i)
		}
		if errors.Is(err, events.ErrClosed) {
			t.Fatalf("call %d during the outage: %v, want a connection error, not ErrClosed", i, err)
		}
	}
	startFakeESDBAt(t, "24.10.0", f.addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.Append(ctx, "account-back@localhost", events.NoStream, sampleEvent(t, 1))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after the node came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package esdb

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"xmppd/events"
)

// sampleEvent returns an envelope as a command would hand it to Append,
// with every provenance field set so a lost field shows in comparisons.
func sampleEvent(t *testing.T, i int) events.Envelope {
	t.Helper()
	e, err := events.New(events.RosterItemSet{}, events.Meta{
		Actor: "alice@localhost/phone", SessionID: fmt.Sprintf("s%d", i), ClientAddr: "192.0.2.7:50000",
		StanzaID: fmt.Sprintf("push%d", i), CausationID: "0d9c2c4e-8d0c-4bd4-9d0b-8f2f7ad2b5a1",
		CorrelationID: "corr-1", Node: "node-a",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Data = json.RawMessage(fmt.Sprintf(`{"jid":"contact%d@example.org","name":"Zoë %d"}`, i, i))
	e.Recorded = time.Date(2026, 11, 23, 22, 0, i, 123456789, time.FixedZone("CET", 3600))
	return e
}

// recordedFrom builds what the server returns for an appended event at
// revision rev and log position pos: EventStoreDB echoes the id, type,
// data and user metadata it was given.
func recordedFrom(stream string, rev, pos uint64, d esdb.EventData) *esdb.RecordedEvent {
	return &esdb.RecordedEvent{
		EventID: d.EventID, EventType: d.EventType, ContentType: "application/json",
		StreamID: stream, EventNumber: rev, Position: esdb.Position{Commit: pos, Prepare: pos},
		CreatedDate: time.Now(), Data: d.Data, UserMetadata: d.Metadata,
		SystemMetadata: map[string]string{"type": d.EventType, "content-type": "application/json"},
	}
}

// sequentialIDs returns a newID that yields predictable UUIDs.
func sequentialIDs() func() uuid.UUID {
	n := 0
	return func() uuid.UUID {
		n++
		return uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
	}
}

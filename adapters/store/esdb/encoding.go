package esdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"xmppd/events"
)

// metadata is the user metadata stored with every event: each Envelope
// field that EventStoreDB has no place of its own for. Type and Data go
// into the event's own type and data, the ID into its id when it is a UUID
// (see eventID); Stream and Position are the server's. Version is kept
// although the revision says the same, so that a stream rewritten or moved
// by other means is caught on read.
type metadata struct {
	ID            string `json:"id,omitempty"` // only when not a canonical UUID
	Schema        int    `json:"schema"`
	Recorded      int64  `json:"recorded"` // Unix nanoseconds, as hashed
	Actor         string `json:"actor,omitempty"`
	SessionID     string `json:"session,omitempty"`
	ClientAddr    string `json:"addr,omitempty"`
	StanzaID      string `json:"stanza_id,omitempty"`
	CausationID   string `json:"causation,omitempty"`
	CorrelationID string `json:"correlation,omitempty"`
	Node          string `json:"node,omitempty"`
	Version       uint64 `json:"version"`
	Prev          string `json:"prev"`
	Hash          string `json:"hash"`
}

// idNamespace is the UUID namespace (RFC 9562, version 5) of the event ids
// derived from xmppd ids that are not UUIDs. Never change it: it is part
// of the stored form.
const idNamespace = "3f0a4bb4-6d0e-4b8e-9a55-2f6f2c1d7e90"

// eventID returns the EventStoreDB event id for an Envelope ID, and
// whether the ID must also be kept in the metadata. EventStoreDB ids are
// UUIDs stored as 16 bytes: a canonical (lower-case, hyphenated) UUID
// round-trips as itself; any other ID ("msg-1", an upper-case UUID) is
// kept verbatim in the metadata and mapped to a name-based UUID, so equal
// IDs still give equal event ids for EventStoreDB's idempotence check.
func eventID(id string) (uuid.UUID, bool) {
	if u, err := uuid.Parse(id); err == nil && u.String() == id {
		return u, false
	}
	return uuid.NewSHA1(uuid.MustParse(idNamespace), []byte(id)), true
}

// normalize puts e in the form that reading it back returns, before it is
// hashed, so the hash of what was appended is the hash of what is read:
// an empty ID gets a new UUID, Recorded becomes UTC nanoseconds and empty
// Data nil.
func normalize(e *events.Envelope, newID func() uuid.UUID) error {
	if e.ID == "" {
		e.ID = newID().String()
	}
	if e.Type == "" {
		return errors.New("esdb: event has no type")
	}
	e.Recorded = time.Unix(0, e.Recorded.UnixNano()).UTC()
	if len(e.Data) == 0 {
		e.Data = nil
	}
	return nil
}

// toEventData encodes a sealed, normalized envelope for AppendToStream.
// Data goes unchanged, so projections inside EventStoreDB and tools like
// its web UI see the payload as JSON.
func toEventData(e *events.Envelope) (esdb.EventData, error) {
	id, keep := eventID(e.ID)
	m := metadata{
		Schema: e.SchemaVersion, Recorded: e.Recorded.UnixNano(),
		Actor: e.Actor, SessionID: e.SessionID, ClientAddr: e.ClientAddr, StanzaID: e.StanzaID,
		CausationID: e.CausationID, CorrelationID: e.CorrelationID, Node: e.Node,
		Version: e.Version, Prev: e.Prev, Hash: e.Hash,
	}
	if keep {
		m.ID = e.ID
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return esdb.EventData{}, fmt.Errorf("esdb: encode metadata of %s: %w", e.ID, err)
	}
	return esdb.EventData{
		EventID:     id,
		EventType:   e.Type,
		ContentType: esdb.ContentTypeJson,
		Data:        e.Data,
		Metadata:    meta,
	}, nil
}

// MetadataError reports a recorded event whose metadata xmppd cannot read:
// an event some other program wrote, or one altered in place.
type MetadataError struct {
	Stream   string
	Revision uint64
	EventID  string
	Problem  string
}

func (e *MetadataError) Error() string {
	return fmt.Sprintf("esdb: event %s at revision %d of %s: %s", e.EventID, e.Revision, e.Stream, e.Problem)
}

// fromRecorded decodes an event read from EventStoreDB into the Envelope
// that was appended, exactly, so events.ChainChecker verifies it.
func fromRecorded(rec *esdb.RecordedEvent) (events.Envelope, error) {
	bad := func(format string, args ...any) error {
		return &MetadataError{Stream: rec.StreamID, Revision: rec.EventNumber, EventID: rec.EventID.String(),
			Problem: fmt.Sprintf(format, args...)}
	}
	if len(rec.UserMetadata) == 0 {
		return events.Envelope{}, bad("no metadata: not written by xmppd")
	}
	var m metadata
	dec := json.NewDecoder(bytes.NewReader(rec.UserMetadata))
	// Unknown fields are refused: a field this version does not know would
	// be dropped on decode and the hash would no longer verify, which is
	// a worse error to debug than this one.
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return events.Envelope{}, bad("metadata is not xmppd's: %v", err)
	}
	switch {
	case m.Hash == "" || m.Prev == "":
		return events.Envelope{}, bad("metadata has no hash chain (prev and hash)")
	case m.ID != "" && mustEventID(m.ID) != rec.EventID:
		return events.Envelope{}, bad("metadata id %q does not map to the event id", m.ID)
	case m.Version != versionOf(rec.EventNumber):
		return events.Envelope{}, bad("metadata says version %d, revision %d means version %d",
			m.Version, rec.EventNumber, versionOf(rec.EventNumber))
	}
	id := m.ID
	if id == "" {
		id = rec.EventID.String()
	}
	e := events.Envelope{
		ID:            id,
		Stream:        rec.StreamID,
		Version:       m.Version,
		Position:      positionOf(rec.Position),
		Type:          rec.EventType,
		SchemaVersion: m.Schema,
		Recorded:      time.Unix(0, m.Recorded).UTC(),
		Actor:         m.Actor,
		SessionID:     m.SessionID,
		ClientAddr:    m.ClientAddr,
		StanzaID:      m.StanzaID,
		CausationID:   m.CausationID,
		CorrelationID: m.CorrelationID,
		Node:          m.Node,
		Prev:          m.Prev,
		Hash:          m.Hash,
	}
	if len(rec.Data) > 0 {
		e.Data = json.RawMessage(rec.Data)
	}
	return e, nil
}

// mustEventID is eventID's UUID alone.
func mustEventID(id string) uuid.UUID {
	u, _ := eventID(id)
	return u
}

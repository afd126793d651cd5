package events

import (
	"encoding/json"
	"time"
)

// Envelope is one recorded event with everything an auditor needs to know
// about where it came from. The caller of Store.Append fills the identity
// and provenance fields (ID, Type, SchemaVersion, Recorded, Actor, ...) and
// Data; the store fills Stream, Version, Position, Prev and Hash when the
// event is committed.
type Envelope struct {
	// ID is unique per event (a UUID); consumers deduplicate by it.
	ID string `json:"id"`
	// Stream is the name of the stream the event belongs to, for example
	// "account-alice@localhost" (see StreamName).
	Stream string `json:"stream"`
	// Version is the event's number within its stream, starting at 1 and
	// increasing by exactly one per event.
	Version uint64 `json:"version"`
	// Position is the event's place in the whole log. Positions increase in
	// commit order; they are unique but need not be contiguous (an
	// EventStoreDB log position counts bytes).
	Position uint64 `json:"position"`
	// Type is the event's catalogue name, such as "roster.item_set".
	Type string `json:"type"`
	// SchemaVersion is the version of Data's shape for Type.
	SchemaVersion int `json:"schema"`
	// Recorded is when the event was decided, from the injected clock.
	Recorded time.Time `json:"recorded"`
	// Actor is who caused the event: a full JID, or "admin:<name>" for the
	// command line, or "server:<node>" for the server itself.
	Actor string `json:"actor,omitempty"`
	// SessionID names the c2s session that carried the cause, if any.
	SessionID string `json:"session,omitempty"`
	// ClientAddr is the remote network address of that session.
	ClientAddr string `json:"addr,omitempty"`
	// StanzaID is the id attribute of the stanza that caused the event.
	StanzaID string `json:"stanza_id,omitempty"`
	// CausationID is the ID of the event that caused this one, if any.
	CausationID string `json:"causation,omitempty"`
	// CorrelationID ties together every event of one user action.
	CorrelationID string `json:"correlation,omitempty"`
	// Node names the xmppd process that wrote the event.
	Node string `json:"node,omitempty"`
	// Prev is the Hash of the previous event in the same stream, or
	// GenesisHash for the first event.
	Prev string `json:"prev"`
	// Hash is the SHA-256 of this event's canonical encoding (see
	// CanonicalHash), in lower-case hex.
	Hash string `json:"hash"`
	// Data is the encoded payload, exactly as stored.
	Data json.RawMessage `json:"data"`
}

// Meta is the provenance shared by every event of one command: who acted,
// through which session, from where, in answer to which stanza.
type Meta struct {
	Actor         string
	SessionID     string
	ClientAddr    string
	StanzaID      string
	CausationID   string
	CorrelationID string
	Node          string
}

// Apply copies m into e's provenance fields.
func (m Meta) Apply(e *Envelope) {
	e.Actor, e.SessionID, e.ClientAddr, e.StanzaID = m.Actor, m.SessionID, m.ClientAddr, m.StanzaID
	e.CausationID, e.CorrelationID, e.Node = m.CausationID, m.CorrelationID, m.Node
}

package events

import (
	"fmt"

	gojson "github.com/goccy/go-json"
)

// The message archive (XEP-0313): one stream per account, archive-<bare>,
// holding that account's copy of every one-to-one message it sent or
// received that XEP-0313 section 6.1.1 says to keep. Each party's copy is
// in its own archive stream, as each party's side of a subscription is in
// its own account stream (DESIGN.md, Streams): an erasure or a retention
// rule for one account then concerns that account's streams only, and
// the archive's traffic does not lengthen the account stream that every
// roster command reads the version of.
const (
	// ArchivePrefix names an account's message archive stream.
	ArchivePrefix = "archive-"

	// TypeArchiveMessageStored records one message in one party's
	// archive.
	TypeArchiveMessageStored = "archive.message_stored"
)

// ArchiveStream names the message archive stream of the account bare.
func ArchiveStream(bare string) string { return ArchivePrefix + bare }

// Archive directions: whether the archive's owner received or sent the
// message.
const (
	ArchiveIn  = "in"
	ArchiveOut = "out"
)

// ArchiveMessageStored is TypeArchiveMessageStored's payload. The time it
// was archived is the envelope's Recorded time (XEP-0313 4.2: "the time
// the message was originally received").
type ArchiveMessageStored struct {
	// ID is the message's archive id (XEP-0313 section 6.2): unique in
	// this archive and never reused; for a received message it is the
	// XEP-0359 <stanza-id by='owner'/> the recipient was sent.
	ID string `json:"id"`
	// With is the other party's address as the stanza names it: the
	// sender's full JID for a received message, the 'to' for a sent one.
	With string `json:"with"`
	// Direction is ArchiveIn or ArchiveOut.
	Direction string `json:"direction"`
	// Content is the message stanza as archived, serialised. Schema 1
	// kept it in clear; from schema 2 it is empty in the log and travels
	// in Sealed, under the key of the archive's owner for the month it
	// was archived (seal.go): each party's copy under its own account's
	// key, so erasing one party leaves the other's copy readable.
	Content string `json:"content"`
	// Sealed is Content encrypted (schema 2; nil in schema 1 events,
	// which stay in clear: their hashes forbid rewriting them).
	Sealed *Sealed `json:"sealed,omitempty"`
}

func (ArchiveMessageStored) EventType() string  { return TypeArchiveMessageStored }
func (ArchiveMessageStored) SchemaVersion() int { return 2 }

func (p ArchiveMessageStored) secrets() ([]string, *Sealed) { return []string{p.Content}, p.Sealed }
func (p ArchiveMessageStored) with(v []string, s *Sealed) Payload {
	p.Content, p.Sealed = v[0], s
	return p
}

// archiveEntry is what the archive index reads of an
// archive.message_stored: everything but the content.
type archiveEntry struct {
	ID        string `json:"id"`
	With      string `json:"with"`
	Direction string `json:"direction"`
}

// DecodeArchiveEntry decodes an archive.message_stored without its
// Content, which the archive index never holds (a query reads it back
// from the log): the index of a large archive is rebuilt without
// unescaping every stanza, or opening it: the index needs no key.
// Schema 2 only adds the sealed content, which is skipped as schema 1's
// clear content is. Other schema versions go through Decode.
func DecodeArchiveEntry(e *Envelope) (ArchiveMessageStored, error) {
	if e.Type == TypeArchiveMessageStored && (e.SchemaVersion == 1 || e.SchemaVersion == 2) {
		var a archiveEntry
		if err := gojson.Unmarshal(e.Data, &a); err != nil {
			return ArchiveMessageStored{}, fmt.Errorf("events: decode %s version %d: %s: %w", e.Stream, e.Version, e.Type, err)
		}
		return ArchiveMessageStored{ID: a.ID, With: a.With, Direction: a.Direction}, nil
	}
	p, err := Decode(e)
	if err != nil {
		return ArchiveMessageStored{}, err
	}
	m, ok := p.(ArchiveMessageStored)
	if !ok {
		return ArchiveMessageStored{}, fmt.Errorf("events: %s version %d is a %s, not an archived message", e.Stream, e.Version, e.Type)
	}
	return m, nil
}

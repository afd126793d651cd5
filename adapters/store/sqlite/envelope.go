package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	gojson "github.com/goccy/go-json"

	"xmppd/events"
)

// The envelope column (schema 2) holds, as one JSON object, every field of
// an event that is not a column of its own, always in this order and
// always present (empty strings included):
//
//	{"prev":…,"id":…,"schema":…,"actor":…,"session":…,"addr":…,
//	 "stanza_id":…,"causation":…,"correlation":…,"node":…,"data":…}
//
// data is the payload exactly as appended. The fixed order lets the reader
// take the object apart with a few IndexByte calls instead of a general
// JSON decoder; anything else (an object rewritten by an auditor's
// json_set, say) goes through the general decoder instead, so a changed
// object is still read, and then fails `xmppd verify` on its hash.

// appendBody appends the part of e's envelope object that the caller knows
// before the writer seals it: everything after "prev". Append runs it on
// the caller's goroutine, so the writer only glues on the hash chain.
func appendBody(b []byte, e *events.Envelope) []byte {
	b = append(b, `"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"schema":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	for _, f := range [...]struct{ key, val string }{
		{`,"actor":`, e.Actor}, {`,"session":`, e.SessionID}, {`,"addr":`, e.ClientAddr},
		{`,"stanza_id":`, e.StanzaID}, {`,"causation":`, e.CausationID},
		{`,"correlation":`, e.CorrelationID}, {`,"node":`, e.Node},
	} {
		b = append(b, f.key...)
		b = appendString(b, f.val)
	}
	b = append(b, `,"data":`...)
	b = append(b, e.Data...)
	return append(b, '}')
}

// composeEnvelope appends the whole envelope object: prev, then body.
func composeEnvelope(b []byte, prev string, body []byte) []byte {
	b = append(b, `{"prev":`...)
	b = appendString(b, prev)
	b = append(b, ',')
	return append(b, body...)
}

// appendString appends s as a JSON string. s is valid UTF-8 (checkAppend
// refuses anything else), so only quotes, backslashes and control
// characters need escaping.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// envelopeFields is the envelope object for the general decoder.
type envelopeFields struct {
	Prev          *string           `json:"prev"`
	ID            *string           `json:"id"`
	Schema        *int              `json:"schema"`
	Actor         string            `json:"actor"`
	SessionID     string            `json:"session"`
	ClientAddr    string            `json:"addr"`
	StanzaID      string            `json:"stanza_id"`
	CausationID   string            `json:"causation"`
	CorrelationID string            `json:"correlation"`
	Node          string            `json:"node"`
	Data          gojson.RawMessage `json:"data"`
}

var errEnvelope = errors.New("envelope column is not an xmppd envelope object")

// parseEnvelope fills e's fields from the envelope object obj and e.Hash
// from the hash column's bytes. Nothing of e aliases obj or hash, which
// the caller may reuse: e.Data is copied into the scanner's slab, the
// strings are copied or interned (the provenance repeats from event to
// event).
func (sc *scanner) parseEnvelope(obj, hash []byte, e *events.Envelope) error {
	if sc.parseFast(obj, hash, e) {
		return nil
	}
	e.Hash = string(hash)
	var f envelopeFields
	if err := gojson.Unmarshal(obj, &f); err != nil {
		return fmt.Errorf("%w: %v", errEnvelope, err)
	}
	if f.Prev == nil || f.ID == nil || f.Schema == nil || f.Data == nil {
		return fmt.Errorf("%w: prev, id, schema or data missing", errEnvelope)
	}
	e.Prev, e.ID, e.SchemaVersion = *f.Prev, *f.ID, *f.Schema
	e.Actor, e.SessionID, e.ClientAddr = f.Actor, f.SessionID, f.ClientAddr
	e.StanzaID, e.CausationID, e.CorrelationID, e.Node = f.StanzaID, f.CausationID, f.CorrelationID, f.Node
	e.Data = sc.slabCopy(f.Data)
	return nil
}

// fastKeys are the keys of the envelope object in the order appendBody
// and composeEnvelope write them, each with the separator before it.
var fastKeys = [...]string{`{"prev":`, `,"id":`, `,"schema":`, `,"actor":`, `,"session":`, `,"addr":`,
	`,"stanza_id":`, `,"causation":`, `,"correlation":`, `,"node":`, `,"data":`}

// parseFast reads an object exactly as this package writes it, whose
// strings hold no escapes. It reports false, having changed nothing that
// matters, for anything else. hash is the hash column's bytes: it and the
// strings unique to the event (prev, id, stanza id, causation,
// correlation) end up in one allocation; the rest are interned. A scanner
// reading for folding (events.ReadOptions) keeps only the schema version,
// the session ID and the data.
func (sc *scanner) parseFast(obj, hash []byte, e *events.Envelope) bool {
	if len(obj) < 2 || obj[len(obj)-1] != '}' {
		return false
	}
	var spans [10][]byte // prev, id, (schema), actor ... node
	var schema int
	var data []byte
	rest := obj
	for k, key := range fastKeys {
		if len(rest) < len(key) || string(rest[:len(key)]) != key {
			return false
		}
		rest = rest[len(key):]
		switch k {
		case 2: // schema: an integer
			n := 0
			for n < len(rest) && (rest[n] == '-' || rest[n] >= '0' && rest[n] <= '9') {
				n++
			}
			v, err := strconv.Atoi(string(rest[:n]))
			if err != nil {
				return false
			}
			schema, rest = v, rest[n:]
		case len(fastKeys) - 1: // data: the rest but the closing brace
			data = rest[:len(rest)-1]
		default:
			if len(rest) == 0 || rest[0] != '"' {
				return false
			}
			end := bytes.IndexByte(rest[1:], '"')
			if end < 0 {
				return false
			}
			spans[k] = rest[1 : 1+end]
			rest = rest[2+end:]
		}
	}
	// The quotes found above end the strings only if none is escaped: one
	// look for a backslash anywhere before the data (where an escape that
	// misled the search must be) sends any escape to the general decoder.
	if bytes.IndexByte(obj[:len(obj)-len(data)-1], '\\') >= 0 {
		return false
	}
	e.Data = sc.slabCopy(data)
	e.SchemaVersion = schema
	if sc.forFolding {
		e.SessionID = sc.internBytes(spans[4])
		return true
	}
	var b strings.Builder
	b.Grow(len(hash) + len(spans[0]) + len(spans[1]) + len(spans[6]) + len(spans[7]) + len(spans[8]))
	for _, p := range [...][]byte{hash, spans[0], spans[1], spans[6], spans[7], spans[8]} {
		b.Write(p)
	}
	u := b.String()
	cut := func(n int) string { v := u[:n]; u = u[n:]; return v }
	e.Hash, e.Prev, e.ID = cut(len(hash)), cut(len(spans[0])), cut(len(spans[1]))
	e.StanzaID, e.CausationID, e.CorrelationID = cut(len(spans[6])), cut(len(spans[7])), cut(len(spans[8]))
	e.Actor, e.SessionID = sc.internBytes(spans[3]), sc.internBytes(spans[4])
	e.ClientAddr, e.Node = sc.internBytes(spans[5]), sc.internBytes(spans[9])
	return true
}

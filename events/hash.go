package events

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
)

// GenesisHash is the Prev of the first event of every stream: 64 zeros, the
// hex form of 32 zero bytes.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// hashDomain separates xmppd's canonical encoding from any other use of
// SHA-256 over similar bytes, and names the encoding's version.
const hashDomain = "xmppd.event.v1\n"

// CanonicalHash returns the hash of e as the stores record it.
//
// The canonical encoding is the byte string hashDomain followed by these
// fields in this order: ID, Stream, Version, Type, SchemaVersion, Recorded
// (Unix nanoseconds), Actor, SessionID, ClientAddr, StanzaID, CausationID,
// CorrelationID, Node, Prev, Data. A string or byte field is written as its
// length (unsigned LEB128 varint) and then its bytes; a number is written as
// 8 bytes, big-endian (SchemaVersion and Recorded as two's complement).
// Position is not covered: it is assigned by the store on commit and differs
// between stores, while the chain must survive a copy between them.
// The result is the lower-case hex form of the SHA-256 digest.
func CanonicalHash(e *Envelope) string {
	hs := hashers.Get().(*hashState)
	defer hashers.Put(hs)
	buf := append(hs.buf[:0], hashDomain...)
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	num := func(n uint64) { buf = binary.BigEndian.AppendUint64(buf, n) }
	str(e.ID)
	str(e.Stream)
	num(e.Version)
	str(e.Type)
	num(uint64(int64(e.SchemaVersion)))
	num(uint64(e.Recorded.UnixNano()))
	str(e.Actor)
	str(e.SessionID)
	str(e.ClientAddr)
	str(e.StanzaID)
	str(e.CausationID)
	str(e.CorrelationID)
	str(e.Node)
	str(e.Prev)
	buf = binary.AppendUvarint(buf, uint64(len(e.Data)))
	hs.buf = buf
	hs.h.Reset()
	hs.h.Write(buf)
	hs.h.Write(e.Data) // not copied into buf: payloads can be large
	var sum [sha256.Size]byte
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], hs.h.Sum(sum[:0]))
	return string(hexSum[:])
}

// hashState is a reusable hasher and field buffer for CanonicalHash,
// which the stores call for every event they commit or verify.
type hashState struct {
	h   hash.Hash
	buf []byte
}

var hashers = sync.Pool{New: func() any { return &hashState{h: sha256.New(), buf: make([]byte, 0, 512)} }}

// Seal assigns stream, consecutive versions starting after lastVersion, and
// the hash chain starting from prev to the events, in place. Stores call it
// inside their append, once they know the stream's head.
func Seal(stream string, lastVersion uint64, prev string, evs []Envelope) {
	for i := range evs {
		e := &evs[i]
		e.Stream = stream
		e.Version = lastVersion + uint64(i) + 1
		e.Prev = prev
		e.Hash = CanonicalHash(e)
		prev = e.Hash
	}
}

// ChainError describes one break in a stream's hash chain or version
// sequence, as found by a ChainChecker.
type ChainError struct {
	Stream  string
	Version uint64
	Problem string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("stream %s version %d: %s", e.Stream, e.Version, e.Problem)
}

// ChainChecker verifies streams event by event, in stream order, holding
// only the head of each stream it has seen. Feed it the whole log in log
// order (or any order that keeps each stream's events in version order).
type ChainChecker struct {
	heads map[string]chainHead
	// Events counts the events checked.
	Events uint64
}

type chainHead struct {
	version uint64
	hash    string
}

// NewChainChecker returns an empty checker.
func NewChainChecker() *ChainChecker { return &ChainChecker{heads: make(map[string]chainHead)} }

// Check verifies e against the head of its stream and records it as the
// new head. A non-nil error names the stream and version at fault; the
// checker continues from e so later breaks are reported too.
func (c *ChainChecker) Check(e *Envelope) error {
	c.Events++
	head, ok := c.heads[e.Stream]
	if !ok {
		head = chainHead{0, GenesisHash}
	}
	c.heads[e.Stream] = chainHead{e.Version, e.Hash}
	switch {
	case e.Version != head.version+1:
		if e.Version <= head.version {
			return &ChainError{e.Stream, e.Version, fmt.Sprintf("out of order: follows version %d", head.version)}
		}
		return &ChainError{e.Stream, e.Version, fmt.Sprintf("missing version(s) %d to %d", head.version+1, e.Version-1)}
	case e.Prev != head.hash:
		return &ChainError{e.Stream, e.Version, "prev does not match the hash of the previous event (an event before it was altered, removed or reordered)"}
	case CanonicalHash(e) != e.Hash:
		return &ChainError{e.Stream, e.Version, "content does not match its hash (the event was altered)"}
	}
	return nil
}

// Streams returns how many streams the checker has seen.
func (c *ChainChecker) Streams() int { return len(c.heads) }

// Heads calls fn for each stream seen with its last version and hash.
func (c *ChainChecker) Heads(fn func(stream string, version uint64, hash string)) {
	for s, h := range c.heads {
		fn(s, h.version, h.hash)
	}
}

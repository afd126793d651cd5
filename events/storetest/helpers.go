package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"xmppd/events"
)

// FullMeta is provenance with every field set, as a c2s session fills it.
func FullMeta() events.Meta {
	return events.Meta{
		Actor:         "juliet@example.com/balcony",
		SessionID:     "sess-4f1c",
		ClientAddr:    "198.51.100.7:52144",
		StanzaID:      "pres-1",
		CausationID:   "cause-1",
		CorrelationID: "corr-1",
		Node:          "node-a",
	}
}

// Envelopes builds n presence.available envelopes with events.New and the
// provenance of m. Recorded times carry nanoseconds (to catch stores that
// round them); IDs are left empty for the store to fill.
func Envelopes(tb testing.TB, n int, m events.Meta) []events.Envelope {
	tb.Helper()
	base := time.Date(2026, 11, 23, 22, 0, 0, 123456789, time.UTC)
	out := make([]events.Envelope, n)
	for i := range out {
		e, err := events.New(events.PresenceAvailable{
			Resource: "balcony",
			Show:     "chat",
			Status:   fmt.Sprintf("status %d", i),
			Priority: i % 128,
			Stanza:   fmt.Sprintf(`<presence from="juliet@example.com/balcony" id="p%d"><show>chat</show></presence>`, i),
		}, m)
		if err != nil {
			tb.Fatalf("storetest: build envelope %d: %v", i, err)
		}
		e.Recorded = base.Add(time.Duration(i)*time.Millisecond + time.Duration(i%1000))
		out[i] = e
	}
	return out
}

// Tag returns a random string unique to one subtest, for stream names.
func Tag(tb testing.TB) string {
	tb.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("storetest: random tag: %v", err)
	}
	return "st" + hex.EncodeToString(b[:])
}

// run is one subtest's view of the store: its tag and the log head at its
// start.
type run struct {
	t     *testing.T
	s     events.Store
	tag   string
	start uint64 // first position that can hold this subtest's events
}

func newRun(t *testing.T, s events.Store) *run {
	t.Helper()
	return &run{t: t, s: s, tag: Tag(t), start: startPosition(t, s)}
}

// stream names one of this subtest's streams.
func (r *run) stream(name string) string { return "account-" + r.tag + "-" + name + "@example.com" }

// mine reports whether e belongs to this subtest.
func (r *run) mine(e events.Envelope) bool { return strings.Contains(e.Stream, r.tag) }

// startPosition is the first position after the current head of the log.
func startPosition(t *testing.T, s events.Store) uint64 {
	t.Helper()
	ctx := context.Background()
	if h, ok := s.(events.HeadReader); ok {
		pos, err := h.Head(ctx)
		if err != nil {
			t.Fatalf("Head: %v", err)
		}
		return pos + 1
	}
	var last uint64
	for e, err := range s.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatalf("ReadAll to find the head: %v", err)
		}
		last = e.Position
	}
	return last + 1
}

// readMine reads the whole log from the subtest's start and keeps its events.
func (r *run) readMine(ctx context.Context) []events.Envelope {
	r.t.Helper()
	var out []events.Envelope
	for e, err := range r.s.ReadAll(ctx, r.start) {
		if err != nil {
			r.t.Fatalf("ReadAll(%d): %v", r.start, err)
		}
		if r.mine(e) {
			out = append(out, e)
		}
	}
	return out
}

// readStream reads a whole stream from version from.
func readStream(t *testing.T, s events.Store, stream string, from uint64) []events.Envelope {
	t.Helper()
	var out []events.Envelope
	for e, err := range s.ReadStream(context.Background(), stream, from) {
		if err != nil {
			t.Fatalf("ReadStream(%s, %d): %v", stream, from, err)
		}
		out = append(out, e)
	}
	return out
}

// checkChains feeds evs (in log order) to a ChainChecker and fails on any
// break.
func checkChains(t *testing.T, evs []events.Envelope) *events.ChainChecker {
	t.Helper()
	c := events.NewChainChecker()
	for i := range evs {
		if err := c.Check(&evs[i]); err != nil {
			t.Errorf("chain: %v", err)
		}
	}
	return c
}

// diffEnvelope describes how got differs from want, or returns "".
func diffEnvelope(got, want events.Envelope) string {
	var d []string
	cmp := func(name string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %v, want %v", name, g, w))
		}
	}
	cmp("ID", got.ID, want.ID)
	cmp("Stream", got.Stream, want.Stream)
	cmp("Version", got.Version, want.Version)
	cmp("Position", got.Position, want.Position)
	cmp("Type", got.Type, want.Type)
	cmp("SchemaVersion", got.SchemaVersion, want.SchemaVersion)
	if !got.Recorded.Equal(want.Recorded) {
		d = append(d, fmt.Sprintf("Recorded = %v, want %v", got.Recorded.Format(time.RFC3339Nano), want.Recorded.Format(time.RFC3339Nano)))
	}
	cmp("Actor", got.Actor, want.Actor)
	cmp("SessionID", got.SessionID, want.SessionID)
	cmp("ClientAddr", got.ClientAddr, want.ClientAddr)
	cmp("StanzaID", got.StanzaID, want.StanzaID)
	cmp("CausationID", got.CausationID, want.CausationID)
	cmp("CorrelationID", got.CorrelationID, want.CorrelationID)
	cmp("Node", got.Node, want.Node)
	cmp("Prev", got.Prev, want.Prev)
	cmp("Hash", got.Hash, want.Hash)
	if !bytes.Equal(got.Data, want.Data) {
		d = append(d, fmt.Sprintf("Data = %q, want %q", got.Data, want.Data))
	}
	return strings.Join(d, "; ")
}

// wantStoreError checks that err is a *events.StoreError for op on stream
// at version that wraps target.
func wantStoreError(t *testing.T, err error, target error, op, stream string, version int64) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want errors.Is %v", err, target)
	}
	var se *events.StoreError
	if !errors.As(err, &se) {
		t.Fatalf("err = %T %v, want a *events.StoreError", err, err)
	}
	if se.Op != op || se.Stream != stream || se.Version != version {
		t.Fatalf("StoreError{Op: %q, Stream: %q, Version: %d}, want {%q, %q, %d}", se.Op, se.Stream, se.Version, op, stream, version)
	}
}

// firstError drains seq and returns its first error (iterators stop there),
// or nil, with how many events came before it.
func firstError(seq func(func(events.Envelope, error) bool)) (n int, err error) {
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// NewID returns a random (version 4) UUID string, as event IDs must be for
// stores such as EventStoreDB. It is here, not from a UUID module, because
// the events tree imports no third-party code.
func NewID(tb testing.TB) string {
	tb.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("storetest: random id: %v", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

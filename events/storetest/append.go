package storetest

import (
	"context"
	"testing"

	"xmppd/events"
)

// testAppendReadBack proves Append fills Stream, Version, Position, Prev,
// Hash and a missing ID, keeps everything the caller set (Recorded to the
// nanosecond, every metadata field, Data byte for byte), and that what
// ReadStream and ReadAll return is exactly what Append returned.
func testAppendReadBack(t *testing.T, s events.Store, _ func() error) {
	ctx := context.Background()
	r := newRun(t, s)
	stream := r.stream("juliet")
	in := Envelopes(t, 5, FullMeta())
	in[1].ID = NewID(t)
	// Data exactly as given, including spacing a re-encoder would drop.
	in[2].Data = []byte(`{"resource":"balcony",  "priority":1,"stanza":"<presence/>"}`)

	first, err := s.Append(ctx, stream, events.NoStream, in[:2]...)
	if err != nil {
		t.Fatalf("Append first 2: %v", err)
	}
	second, err := s.Append(ctx, stream, events.Exactly(2), in[2:]...)
	if err != nil {
		t.Fatalf("Append last 3: %v", err)
	}
	got := append(first, second...)
	if len(got) != len(in) {
		t.Fatalf("Append returned %d envelopes, want %d", len(got), len(in))
	}

	ids := map[string]bool{}
	var lastPos uint64
	for i, e := range got {
		want := in[i]
		want.Stream, want.Version, want.Position, want.Prev, want.Hash = stream, uint64(i+1), e.Position, e.Prev, e.Hash
		if want.ID == "" {
			if e.ID == "" {
				t.Errorf("event %d: ID not generated", i)
			}
			want.ID = e.ID
		}
		if d := diffEnvelope(e, want); d != "" {
			t.Errorf("event %d as appended: %s", i, d)
		}
		if ids[e.ID] {
			t.Errorf("event %d: ID %q repeated", i, e.ID)
		}
		ids[e.ID] = true
		if e.Position <= lastPos {
			t.Errorf("event %d: position %d not after %d", i, e.Position, lastPos)
		}
		lastPos = e.Position
		if e.Hash != events.CanonicalHash(&e) {
			t.Errorf("event %d: Hash is not the canonical hash", i)
		}
	}
	if got[1].ID != in[1].ID {
		t.Errorf("caller's ID replaced: got %q, want %q", got[1].ID, in[1].ID)
	}
	checkChains(t, got)

	for i, e := range readStream(t, s, stream, 1) {
		if d := diffEnvelope(e, got[i]); d != "" {
			t.Errorf("ReadStream event %d: %s", i, d)
		}
	}
	all := r.readMine(ctx)
	if len(all) != len(got) {
		t.Fatalf("ReadAll found %d of this test's events, want %d", len(all), len(got))
	}
	for i, e := range all {
		if d := diffEnvelope(e, got[i]); d != "" {
			t.Errorf("ReadAll event %d: %s", i, d)
		}
	}
	if in[0].Stream != "" || in[0].Hash != "" {
		t.Errorf("Append changed the caller's slice")
	}
}

// testExpectedVersion walks one stream through every ExpectedVersion case,
// checking conflicts are errors.Is ErrConflict inside a *StoreError that
// names the op, stream and expected version.
func testExpectedVersion(t *testing.T, s events.Store, _ func() error) {
	ctx := context.Background()
	r := newRun(t, s)
	stream := r.stream("romeo")
	steps := []struct {
		name     string
		expected events.ExpectedVersion
		conflict bool
		version  uint64 // stream version after the step
	}{
		{"Exactly(1) on a missing stream conflicts", events.Exactly(1), true, 0},
		{"NoStream on a missing stream appends", events.NoStream, false, 1},
		{"NoStream on an existing stream conflicts", events.NoStream, true, 1},
		{"Exactly wrong (too low) conflicts", events.Exactly(0), true, 1},
		{"Exactly wrong (too high) conflicts", events.Exactly(5), true, 1},
		{"Exactly right appends", events.Exactly(1), false, 2},
		{"Any on an existing stream appends", events.Any, false, 3},
		{"Exactly right again appends", events.Exactly(3), false, 4},
	}
	for _, st := range steps {
		out, err := s.Append(ctx, stream, st.expected, Envelopes(t, 1, FullMeta())...)
		if st.conflict {
			if err == nil {
				t.Fatalf("%s: Append succeeded at version %d", st.name, out[0].Version)
			}
			wantStoreError(t, err, events.ErrConflict, "append", stream, int64(st.expected))
		} else if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		} else if out[0].Version != st.version {
			t.Fatalf("%s: version %d, want %d", st.name, out[0].Version, st.version)
		}
		if n := uint64(len(readStream(t, s, stream, 1))); n != st.version {
			t.Fatalf("%s: stream holds %d events, want %d", st.name, n, st.version)
		}
	}
	if _, err := s.Append(ctx, r.stream("new"), events.Any, Envelopes(t, 1, FullMeta())...); err != nil {
		t.Fatalf("Any on a missing stream: %v", err)
	}
}

// testConflictCommitsNothing proves a multi-event append that conflicts
// leaves no trace: not in the stream, not in the log.
func testConflictCommitsNothing(t *testing.T, s events.Store, _ func() error) {
	ctx := context.Background()
	r := newRun(t, s)
	stream := r.stream("tybalt")
	if _, err := s.Append(ctx, stream, events.NoStream, Envelopes(t, 3, FullMeta())...); err != nil {
		t.Fatal(err)
	}
	batch := Envelopes(t, 5, FullMeta())
	for i := range batch {
		batch[i].ID = NewID(t)
	}
	if _, err := s.Append(ctx, stream, events.Exactly(2), batch...); err == nil {
		t.Fatal("append at a stale version succeeded")
	} else {
		wantStoreError(t, err, events.ErrConflict, "append", stream, 2)
	}
	if _, err := s.Append(ctx, stream, events.NoStream, batch...); err == nil {
		t.Fatal("NoStream append on an existing stream succeeded")
	}
	all := r.readMine(ctx)
	if len(all) != 3 {
		t.Fatalf("log holds %d events of this test, want 3", len(all))
	}
	failed := map[string]bool{}
	for _, e := range batch {
		failed[e.ID] = true
	}
	for _, e := range all {
		if failed[e.ID] {
			t.Errorf("event %s of the failed batch was committed", e.ID)
		}
	}
	// The stream goes on from where it was.
	out, err := s.Append(ctx, stream, events.Exactly(3), batch...)
	if err != nil {
		t.Fatalf("retry at the right version: %v", err)
	}
	if out[0].Version != 4 || out[4].Version != 8 {
		t.Fatalf("retry got versions %d..%d, want 4..8", out[0].Version, out[4].Version)
	}
	checkChains(t, r.readMine(ctx))
}

// testLargeBatch appends 5,000 events in one call: all get consecutive
// versions, increasing positions, one valid chain, and a conflicting batch
// of the same size leaves nothing.
func testLargeBatch(t *testing.T, s events.Store, _ func() error) {
	const n = 5000
	ctx := context.Background()
	r := newRun(t, s)
	stream := r.stream("large")
	out, err := s.Append(ctx, stream, events.NoStream, Envelopes(t, n, FullMeta())...)
	if err != nil {
		t.Fatalf("Append %d events: %v", n, err)
	}
	if len(out) != n || out[n-1].Version != n {
		t.Fatalf("Append returned %d events ending at version %d", len(out), out[len(out)-1].Version)
	}
	if _, err := s.Append(ctx, stream, events.NoStream, Envelopes(t, n, FullMeta())...); err == nil {
		t.Fatal("second NoStream batch succeeded")
	}
	got := readStream(t, s, stream, 1)
	if len(got) != n {
		t.Fatalf("ReadStream: %d events, want %d", len(got), n)
	}
	for i := 1; i < n; i++ {
		if got[i].Position <= got[i-1].Position {
			t.Fatalf("event %d: position %d not after %d", i, got[i].Position, got[i-1].Position)
		}
	}
	if c := checkChains(t, got); c.Events != n {
		t.Fatalf("checked %d events", c.Events)
	}
	if all := r.readMine(ctx); len(all) != n {
		t.Fatalf("ReadAll: %d events, want %d", len(all), n)
	}
}

// testNonASCII proves stream names, metadata and payloads outside ASCII
// come back byte for byte and hash the same.
func testNonASCII(t *testing.T, s events.Store, _ func() error) {
	ctx := context.Background()
	r := newRun(t, s)
	stream := events.AccountStream("ñoño-" + r.tag + "@例え.jp")
	m := FullMeta()
	m.Actor = "ñoño-" + r.tag + "@例え.jp/携帯📱"
	e, err := events.New(events.PresenceAvailable{
		Resource: "携帯📱",
		Status:   "en la playa 🏖️ — ça va? Привет",
		Stanza:   "<presence><status>en la playa 🏖️ — ça va? Привет</status></presence>",
	}, m)
	if err != nil {
		t.Fatal(err)
	}
	e.Recorded = Envelopes(t, 1, m)[0].Recorded
	raw := Envelopes(t, 1, m)[0]
	raw.Data = []byte(`{"resource":"ñ","stanza":"\u00f1 and ñ are different bytes 😀"}`)
	out, err := s.Append(ctx, stream, events.NoStream, e, raw)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	got := readStream(t, s, stream, 1)
	if len(got) != 2 {
		t.Fatalf("ReadStream(%q): %d events, want 2", stream, len(got))
	}
	for i := range got {
		if d := diffEnvelope(got[i], out[i]); d != "" {
			t.Errorf("event %d: %s", i, d)
		}
	}
	checkChains(t, got)
	p, err := events.Decode(&got[0])
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if pa := p.(events.PresenceAvailable); pa.Resource != "携帯📱" {
		t.Errorf("decoded resource %q", pa.Resource)
	}
	if all := r.readMine(ctx); len(all) != 2 || all[0].Stream != stream {
		t.Errorf("ReadAll found %d events of %q", len(all), stream)
	}
}

// testStreamHeads checks, for a store that lists stream heads, that the
// listed head of every stream is its last event.
func testStreamHeads(t *testing.T, s events.Store, _ func() error) {
	lister, ok := s.(events.StreamHeadLister)
	if !ok {
		t.Skip("store does not implement events.StreamHeadLister")
	}
	ctx := context.Background()
	r := newRun(t, s)
	want := map[string]events.StreamHead{}
	for i, n := range []int{1, 3, 7} {
		stream := r.stream(string(rune('a' + i)))
		out, err := s.Append(ctx, stream, events.NoStream, Envelopes(t, n, FullMeta())...)
		if err != nil {
			t.Fatal(err)
		}
		last := out[len(out)-1]
		want[stream] = events.StreamHead{Stream: stream, Version: last.Version, Hash: last.Hash}
	}
	got := map[string]events.StreamHead{}
	for h, err := range lister.StreamHeads(ctx) {
		if err != nil {
			t.Fatalf("StreamHeads: %v", err)
		}
		if _, dup := got[h.Stream]; dup {
			t.Errorf("stream %s listed twice", h.Stream)
		}
		if r.mine(events.Envelope{Stream: h.Stream}) {
			got[h.Stream] = h
		}
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d heads of this test, want %d", len(got), len(want))
	}
	for s, w := range want {
		if got[s] != w {
			t.Errorf("head of %s = %+v, want %+v", s, got[s], w)
		}
	}
}

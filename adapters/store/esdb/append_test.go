package esdb

import (
	"errors"
	"reflect"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"xmppd/events"
)

// someHash is the hash of a stream's last event, as readHead would find it.
const someHash = "5f2b1c0e9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"

func TestPlanAppend(t *testing.T) {
	const stream = "account-alice@localhost"
	atThree := head{3, someHash}
	for _, tc := range []struct {
		name     string
		head     head
		expected events.ExpectedVersion
		wantRev  esdb.ExpectedRevision
		conflict bool
	}{
		{"new stream, no stream expected", emptyHead, events.NoStream, esdb.NoStream{}, false},
		{"new stream, any", emptyHead, events.Any, esdb.NoStream{}, false},
		{"new stream, exactly 1", emptyHead, events.Exactly(1), nil, true},
		{"at 3, exactly 3", atThree, events.Exactly(3), esdb.Revision(2), false},
		// Any still appends at the revision read, never esdb.Any{}: a
		// concurrent writer must fail the append, not fork the chain.
		{"at 3, any", atThree, events.Any, esdb.Revision(2), false},
		{"at 3, exactly 2", atThree, events.Exactly(2), nil, true},
		{"at 3, exactly 4", atThree, events.Exactly(4), nil, true},
		{"at 3, no stream", atThree, events.NoStream, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []events.Envelope{sampleEvent(t, 1), sampleEvent(t, 2)}
			orig := []events.Envelope{in[0], in[1]}
			sealed, data, rev, err := planAppend(stream, tc.head, tc.expected, in, sequentialIDs())
			if tc.conflict {
				if !errors.Is(err, events.ErrConflict) {
					t.Fatalf("err = %v, want ErrConflict", err)
				}
				if sealed != nil || data != nil {
					t.Error("a conflict prepared events to write")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rev, tc.wantRev) {
				t.Errorf("revision = %#v, want %#v", rev, tc.wantRev)
			}
			if !reflect.DeepEqual(in, orig) {
				t.Error("planAppend changed the caller's envelopes")
			}
			// The chain continues from the head read, computed by events.Seal.
			want := []events.Envelope{in[0], in[1]}
			for i := range want {
				if err := normalize(&want[i], sequentialIDsFrom(i+1)); err != nil {
					t.Fatal(err)
				}
			}
			events.Seal(stream, tc.head.version, tc.head.hash, want)
			if !reflect.DeepEqual(sealed, want) {
				t.Errorf("sealed =\n%+v\nwant\n%+v", sealed, want)
			}
			if sealed[0].Version != tc.head.version+1 || sealed[0].Prev != tc.head.hash || sealed[1].Prev != sealed[0].Hash {
				t.Errorf("versions %d,%d prev %s,%s", sealed[0].Version, sealed[1].Version, sealed[0].Prev, sealed[1].Prev)
			}
			for i := range sealed {
				if sealed[i].Hash != events.CanonicalHash(&sealed[i]) {
					t.Errorf("event %d hash does not match its content", i)
				}
				if data[i].EventID != mustEventID(sealed[i].ID) {
					t.Errorf("event %d written with id %s, envelope says %s", i, data[i].EventID, sealed[i].ID)
				}
			}
		})
	}
}

// sequentialIDsFrom is sequentialIDs starting at n.
func sequentialIDsFrom(n int) func() uuid.UUID {
	next := sequentialIDs()
	for range n - 1 {
		next()
	}
	return next
}

func TestPlanAppendRejects(t *testing.T) {
	for _, tc := range []struct {
		name     string
		expected events.ExpectedVersion
		evs      []events.Envelope
	}{
		{"invalid expected version", events.ExpectedVersion(-7), []events.Envelope{sampleEvent(t, 1)}},
		{"no type", events.Any, []events.Envelope{{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, data, _, err := planAppend("s", emptyHead, tc.expected, tc.evs, sequentialIDs())
			if err == nil || data != nil {
				t.Fatalf("err = %v, data = %v; want an error and nothing to write", err, data)
			}
			if errors.Is(err, events.ErrConflict) {
				t.Errorf("err = %v is not a conflict", err)
			}
		})
	}
}

// Appending to a stream whose head was read from EventStoreDB continues
// its chain: the checker accepts the old events followed by the new.
func TestAppendContinuesReadChain(t *testing.T) {
	const stream = "presence-alice@localhost"
	first, data1, _, err := planAppend(stream, emptyHead, events.NoStream,
		[]events.Envelope{sampleEvent(t, 1), sampleEvent(t, 2)}, uuid.New)
	if err != nil {
		t.Fatal(err)
	}
	last := recordedFrom(stream, 1, 200, data1[1])
	h, err := headOf(last)
	if err != nil {
		t.Fatal(err)
	}
	if h != (head{2, first[1].Hash}) {
		t.Fatalf("head = %+v, want version 2 and the last hash", h)
	}
	second, data2, rev, err := planAppend(stream, h, events.Exactly(2), []events.Envelope{sampleEvent(t, 3)}, uuid.New)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rev, esdb.Revision(1)) {
		t.Errorf("revision = %#v, want esdb.Revision(1)", rev)
	}
	check := events.NewChainChecker()
	for i, d := range append(data1, data2...) {
		e, err := fromRecorded(recordedFrom(stream, uint64(i), uint64(100*(i+1)), d))
		if err != nil {
			t.Fatal(err)
		}
		if err := check.Check(&e); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	if second[0].Version != 3 {
		t.Errorf("version = %d, want 3", second[0].Version)
	}
}

func TestHeadOfForeignEvent(t *testing.T) {
	rec := &esdb.RecordedEvent{StreamID: "account-a@b", EventType: "SomethingElse", EventNumber: 7, Data: []byte(`{}`)}
	var me *MetadataError
	if _, err := headOf(rec); !errors.As(err, &me) {
		t.Fatalf("err = %v, want *MetadataError", err)
	}
}

func TestMatchWritten(t *testing.T) {
	id := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	e := events.Envelope{ID: id.String(), Version: 5}
	named := events.Envelope{ID: "caller-chosen", Version: 5}
	for _, tc := range []struct {
		name string
		rec  esdb.RecordedEvent
		ok   bool
	}{
		{"same", esdb.RecordedEvent{EventID: id, EventNumber: 4}, true},
		{"name-based id", esdb.RecordedEvent{EventID: mustEventID(named.ID), EventNumber: 4}, true},
		{"other id", esdb.RecordedEvent{EventID: uuid.Nil, EventNumber: 4}, false},
		{"other revision", esdb.RecordedEvent{EventID: id, EventNumber: 5}, false},
	} {
		want := &e
		if tc.name == "name-based id" {
			want = &named
		}
		if err := matchWritten(want, &tc.rec); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

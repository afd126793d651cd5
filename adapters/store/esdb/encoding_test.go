package esdb

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"xmppd/events"
)

func TestToEventData(t *testing.T) {
	e := sampleEvent(t, 1)
	e.ID = "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"
	if err := normalize(&e, sequentialIDs()); err != nil {
		t.Fatal(err)
	}
	evs := []events.Envelope{e}
	events.Seal("account-alice@localhost", 0, events.GenesisHash, evs)
	e = evs[0]
	d, err := toEventData(&e)
	if err != nil {
		t.Fatal(err)
	}
	// Not canonical (upper case): mapped to a name-based UUID, kept verbatim.
	if d.EventID != uuid.NewSHA1(uuid.MustParse(idNamespace), []byte(e.ID)) {
		t.Errorf("EventID = %s", d.EventID)
	}
	if d.EventType != events.TypeRosterItemSet || d.ContentType != esdb.ContentTypeJson {
		t.Errorf("type %q content type %v", d.EventType, d.ContentType)
	}
	if string(d.Data) != string(e.Data) {
		t.Errorf("Data = %s, want the envelope's bytes unchanged %s", d.Data, e.Data)
	}
	var m map[string]any
	if err := json.Unmarshal(d.Metadata, &m); err != nil {
		t.Fatalf("metadata is not a JSON object: %v", err)
	}
	want := map[string]any{
		"id":     "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
		"schema": 1.0, "recorded": float64(e.Recorded.UnixNano()), "actor": "alice@localhost/phone",
		"session": "s1", "addr": "192.0.2.7:50000", "stanza_id": "push1",
		"causation": "0d9c2c4e-8d0c-4bd4-9d0b-8f2f7ad2b5a1", "correlation": "corr-1", "node": "node-a",
		"version": 1.0, "prev": events.GenesisHash, "hash": e.Hash,
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("metadata = %v\nwant %v", m, want)
	}
}

func TestEventID(t *testing.T) {
	ns := uuid.MustParse(idNamespace)
	for _, tc := range []struct {
		id   string
		want uuid.UUID
		keep bool
	}{
		{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), false},
		{"6BA7B810-9DAD-11D1-80B4-00C04FD430C8", uuid.NewSHA1(ns, []byte("6BA7B810-9DAD-11D1-80B4-00C04FD430C8")), true},
		{"urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", uuid.NewSHA1(ns, []byte("urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8")), true},
		{"caller-chosen-1", uuid.NewSHA1(ns, []byte("caller-chosen-1")), true},
		{"ñ-例え", uuid.NewSHA1(ns, []byte("ñ-例え")), true},
	} {
		got, keep := eventID(tc.id)
		if got != tc.want || keep != tc.keep {
			t.Errorf("eventID(%q) = %s, %v; want %s, %v", tc.id, got, keep, tc.want, tc.keep)
		}
	}
	// The namespace is part of the stored form: this value must never change.
	if got, _ := eventID("msg-1"); got.String() != "332afc70-40af-5eba-8801-c9e29f9ed9e0" {
		t.Errorf("eventID(msg-1) = %s: the id namespace changed", got)
	}
}

func TestNormalize(t *testing.T) {
	recorded := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -7*3600))
	for _, tc := range []struct {
		name, id, typ string
		wantID        string
		wantErr       string
	}{
		{"empty id is generated", "", "t", "00000000-0000-4000-8000-000000000001", ""},
		{"caller's id is kept as given", "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "t", "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", ""},
		{"any string is an id", "msg-1", "t", "msg-1", ""},
		{"no type", "", "", "", "no type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := events.Envelope{ID: tc.id, Type: tc.typ, Recorded: recorded, Data: json.RawMessage{}}
			err := normalize(&e, sequentialIDs())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != tc.wantID {
				t.Errorf("ID = %q, want %q", e.ID, tc.wantID)
			}
			if e.Recorded.Location() != time.UTC || !e.Recorded.Equal(recorded) {
				t.Errorf("Recorded = %v, want %v in UTC", e.Recorded, recorded)
			}
			if e.Data != nil {
				t.Errorf("empty Data = %#v, want nil (what a read returns)", e.Data)
			}
		})
	}
}

// An envelope written and read back is the same envelope, and its chain
// verifies: the property `xmppd verify` depends on.
func TestRecordedRoundTrip(t *testing.T) {
	const stream = "account-žofie@例え.jp"
	in := []events.Envelope{sampleEvent(t, 1), sampleEvent(t, 2), sampleEvent(t, 3)}
	in[1].Data = nil // a payload-less event
	in[2].Actor, in[2].SessionID = "admin:root", ""
	in[0].ID = "caller-chosen-1" // not a UUID: kept in the metadata
	in[2].ID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	sealed, data, _, err := planAppend(stream, emptyHead, events.NoStream, in, sequentialIDs())
	if err != nil {
		t.Fatal(err)
	}
	check := events.NewChainChecker()
	for i, d := range data {
		pos := uint64(1000 + 250*i)
		got, err := fromRecorded(recordedFrom(stream, uint64(i), pos, d))
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		want := sealed[i]
		want.Position = pos
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d read back as\n%+v\nwant\n%+v", i, got, want)
		}
		if err := check.Check(&got); err != nil {
			t.Errorf("chain: %v", err)
		}
	}
}

func TestFromRecordedBadMetadata(t *testing.T) {
	good := func() *esdb.RecordedEvent {
		e := sampleEvent(t, 1)
		_, data, _, err := planAppend("account-a@b", emptyHead, events.Any, []events.Envelope{e}, sequentialIDs())
		if err != nil {
			t.Fatal(err)
		}
		return recordedFrom("account-a@b", 0, 100, data[0])
	}
	for _, tc := range []struct {
		name   string
		change func(r *esdb.RecordedEvent)
		want   string
	}{
		{"no metadata", func(r *esdb.RecordedEvent) { r.UserMetadata = nil }, "no metadata: not written by xmppd"},
		{"not json", func(r *esdb.RecordedEvent) { r.UserMetadata = []byte("<xml/>") }, "metadata is not xmppd's"},
		{"someone else's json", func(r *esdb.RecordedEvent) { r.UserMetadata = []byte(`{"$correlationId":"x"}`) }, "metadata is not xmppd's"},
		{"unknown field", func(r *esdb.RecordedEvent) {
			r.UserMetadata = []byte(strings.Replace(string(r.UserMetadata), `{`, `{"extra":1,`, 1))
		}, `unknown field "extra"`},
		{"no hash", func(r *esdb.RecordedEvent) { r.UserMetadata = []byte(`{"schema":1,"recorded":0,"version":1}`) }, "no hash chain"},
		{"id does not match the event id", func(r *esdb.RecordedEvent) {
			r.UserMetadata = []byte(strings.Replace(string(r.UserMetadata), `{`, `{"id":"someone-else",`, 1))
		}, `metadata id "someone-else" does not map to the event id`},
		{"moved to another revision", func(r *esdb.RecordedEvent) { r.EventNumber = 4 }, "metadata says version 1, revision 4 means version 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.change(r)
			_, err := fromRecorded(r)
			var me *MetadataError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want *MetadataError", err)
			}
			if me.Stream != "account-a@b" || me.Revision != r.EventNumber || me.EventID != r.EventID.String() {
				t.Errorf("error names %s rev %d id %s", me.Stream, me.Revision, me.EventID)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// An event altered in EventStoreDB (here its data) still decodes, and the
// chain checker catches it: decoding does not hide tampering.
func TestFromRecordedTamperedDataFailsChain(t *testing.T) {
	sealed, data, _, err := planAppend("account-a@b", emptyHead, events.NoStream, []events.Envelope{sampleEvent(t, 1)}, sequentialIDs())
	if err != nil {
		t.Fatal(err)
	}
	r := recordedFrom("account-a@b", 0, 100, data[0])
	r.Data = []byte(`{"jid":"mallory@evil.example"}`)
	got, err := fromRecorded(r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != sealed[0].Hash {
		t.Fatalf("hash changed on decode")
	}
	if err := events.NewChainChecker().Check(&got); err == nil {
		t.Error("chain checker accepted altered data")
	}
}

func FuzzFromRecorded(f *testing.F) {
	f.Add([]byte(`{"schema":1,"recorded":1,"version":1,"prev":"0","hash":"1"}`), uint64(0))
	f.Add([]byte(`{}`), uint64(3))
	f.Add([]byte(`null`), uint64(0))
	f.Fuzz(func(t *testing.T, meta []byte, rev uint64) {
		rec := &esdb.RecordedEvent{EventID: uuid.Nil, StreamID: "s", EventType: "t", EventNumber: rev, UserMetadata: meta}
		e, err := fromRecorded(rec)
		if err != nil {
			var me *MetadataError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *MetadataError", err)
			}
			return
		}
		if e.Version != rev+1 || e.Hash == "" || e.Prev == "" {
			t.Fatalf("accepted %s at revision %d as version %d hash %q prev %q", meta, rev, e.Version, e.Hash, e.Prev)
		}
	})
}

package events_test

import (
	"encoding/json"
	"strings"
	"testing"

	"xmppd/events"
)

// rosterItemSetV2 stands for a future shape of roster.item_set in which
// groups became objects; it proves the upcaster chain runs oldest first.
type rosterItemSetV2 struct {
	Contact string    `json:"contact"`
	Groups  []groupV2 `json:"groups"`
	Origin  string    `json:"origin"`
}

type groupV2 struct {
	Name string `json:"name"`
}

func (rosterItemSetV2) EventType() string  { return events.TypeRosterItemSet }
func (rosterItemSetV2) SchemaVersion() int { return 3 }

func TestDecodeUpcastsOneStepAtATime(t *testing.T) {
	c := events.NewCodec()
	events.Register[rosterItemSetV2](c)
	var steps []int
	c.RegisterUpcaster(events.TypeRosterItemSet, 1, func(d json.RawMessage) (json.RawMessage, error) {
		steps = append(steps, 1)
		var v1 struct {
			Contact string   `json:"contact"`
			Groups  []string `json:"groups"`
		}
		if err := json.Unmarshal(d, &v1); err != nil {
			return nil, err
		}
		gs := make([]groupV2, len(v1.Groups))
		for i, g := range v1.Groups {
			gs[i] = groupV2{g}
		}
		return json.Marshal(map[string]any{"contact": v1.Contact, "groups": gs})
	})
	c.RegisterUpcaster(events.TypeRosterItemSet, 2, func(d json.RawMessage) (json.RawMessage, error) {
		steps = append(steps, 2)
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			return nil, err
		}
		m["origin"] = "upcast"
		return json.Marshal(m)
	})
	e, _ := events.New(events.RosterItemSet{Contact: "bob@localhost", Groups: []string{"Friends"}}, events.Meta{})
	p, err := c.Decode(&e)
	if err != nil {
		t.Fatal(err)
	}
	got := p.(rosterItemSetV2)
	if got.Contact != "bob@localhost" || len(got.Groups) != 1 || got.Groups[0].Name != "Friends" || got.Origin != "upcast" {
		t.Fatalf("decoded %+v", got)
	}
	if len(steps) != 2 || steps[0] != 1 || steps[1] != 2 {
		t.Fatalf("upcasters ran %v, want [1 2]", steps)
	}
}

func TestDecodeRefusesWhatItCannotRead(t *testing.T) {
	good, _ := events.New(events.AccountCreated{JID: "alice@localhost"}, events.Meta{})
	cases := []struct {
		name string
		e    events.Envelope
		want string
	}{
		{"unknown type", events.Envelope{Type: "account.renamed", SchemaVersion: 1, Data: good.Data}, "unknown event type"},
		{"newer schema", events.Envelope{Type: good.Type, SchemaVersion: 9, Data: good.Data}, "newer than this xmppd knows"},
		{"missing upcaster", events.Envelope{Type: good.Type, SchemaVersion: 0, Data: good.Data}, "no upcaster"},
		{"bad json", events.Envelope{Type: good.Type, SchemaVersion: 1, Data: []byte(`{"jid":`)}, "account.created"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := events.Decode(&tc.e)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestEveryCatalogueTypeRoundTrips(t *testing.T) {
	for _, p := range events.Catalogue() {
		e, err := events.New(p, events.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.Decode(&e)
		if err != nil {
			t.Fatalf("%s: %v", p.EventType(), err)
		}
		if got.EventType() != p.EventType() {
			t.Errorf("%s decoded as %s", p.EventType(), got.EventType())
		}
	}
}

func TestExpectedVersion(t *testing.T) {
	cases := []struct {
		x       events.ExpectedVersion
		current uint64
		want    bool
	}{
		{events.Any, 0, true}, {events.Any, 7, true},
		{events.NoStream, 0, true}, {events.NoStream, 1, false},
		{events.Exactly(3), 3, true}, {events.Exactly(3), 4, false}, {events.Exactly(3), 2, false},
		{events.ExpectedVersion(-5), 0, false},
	}
	for _, tc := range cases {
		if got := tc.x.Matches(tc.current); got != tc.want {
			t.Errorf("%v.Matches(%d) = %v, want %v", tc.x, tc.current, got, tc.want)
		}
	}
}

// DecodeArchiveEntry gives what Decode gives, without the content.
func TestDecodeArchiveEntryLeavesOutContent(t *testing.T) {
	p := events.ArchiveMessageStored{ID: "a1", With: "bob@localhost/x", Direction: events.ArchiveIn, Content: `<message xmlns="jabber:client"><body>"hi" \ ñ</body></message>`}
	e, err := events.New(p, events.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.DecodeArchiveEntry(&e)
	want := p
	want.Content = ""
	if err != nil || got != want {
		t.Fatalf("DecodeArchiveEntry = %+v, %v; want %+v", got, err, want)
	}
	full, err := events.Decode(&e)
	if err != nil || full != p {
		t.Fatalf("Decode = %+v, %v", full, err)
	}
}

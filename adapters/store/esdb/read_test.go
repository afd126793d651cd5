package esdb

import (
	"errors"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"xmppd/events"
)

func TestFromAll(t *testing.T) {
	_, data, _, err := planAppend("account-a@b", emptyHead, events.NoStream, []events.Envelope{sampleEvent(t, 1)}, sequentialIDs())
	if err != nil {
		t.Fatal(err)
	}
	ours := recordedFrom("account-a@b", 0, 500, data[0])
	system := &esdb.RecordedEvent{StreamID: "$stats-127.0.0.1:2113", EventType: "$statsCollected",
		Position: esdb.Position{Commit: 600, Prepare: 600}, Data: []byte(`{}`)}
	link := &esdb.RecordedEvent{StreamID: "$ce-account", EventType: "$>", Position: esdb.Position{Commit: 700, Prepare: 700}}
	foreign := &esdb.RecordedEvent{StreamID: "orders-1", EventType: "OrderPlaced",
		Position: esdb.Position{Commit: 800, Prepare: 800}, Data: []byte(`{}`)}
	for _, tc := range []struct {
		name    string
		ev      esdb.ResolvedEvent
		from    uint64
		wantOK  bool
		wantErr bool
	}{
		{"ours from 0", esdb.ResolvedEvent{Event: ours}, 0, true, false},
		{"ours at exactly from", esdb.ResolvedEvent{Event: ours}, 500, true, false},
		{"ours before from", esdb.ResolvedEvent{Event: ours}, 501, false, false},
		{"system stream", esdb.ResolvedEvent{Event: system}, 0, false, false},
		{"link event, resolved or not", esdb.ResolvedEvent{Event: ours, Link: link}, 0, false, false},
		{"another program's event", esdb.ResolvedEvent{Event: foreign}, 0, false, true},
		{"nothing", esdb.ResolvedEvent{}, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok, err := fromAll(&tc.ev, tc.from)
			if ok != tc.wantOK || (err != nil) != tc.wantErr {
				t.Fatalf("ok %v err %v; want ok %v, error %v", ok, err, tc.wantOK, tc.wantErr)
			}
			var me *MetadataError
			if tc.wantErr && !errors.As(err, &me) {
				t.Errorf("err = %v, want *MetadataError", err)
			}
			if ok && (e.Position != 500 || e.Stream != "account-a@b" || e.Version != 1) {
				t.Errorf("decoded position %d stream %s version %d", e.Position, e.Stream, e.Version)
			}
		})
	}
}

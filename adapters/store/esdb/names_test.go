package esdb

import (
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"xmppd/events"
)

func TestCheckStream(t *testing.T) {
	for _, tc := range []struct {
		stream string
		ok     bool
	}{
		{events.AccountStream("alice@localhost"), true},
		{events.PresenceStream("bob@example.org"), true},
		{events.OfflineStream("carol@example.org"), true},
		{events.ServerStream("localhost"), true},
		{events.AccountStream("žofie@例え.jp"), true},
		{events.AccountStream("ǆemal@xn--e1afmkfd.xn--p1ai"), true},
		{events.PresenceStream("дмитрий@пример.рф"), true},
		{"", false},
		{"$stats-127.0.0.1:2113", false},
		{"$$account-alice@localhost", false},
		{"account-\xff\xfe@localhost", false},
	} {
		err := checkStream(tc.stream)
		if (err == nil) != tc.ok {
			t.Errorf("checkStream(%q) = %v, want ok %v", tc.stream, err, tc.ok)
		}
	}
}

func TestIsSystem(t *testing.T) {
	for _, tc := range []struct {
		stream, typ string
		want        bool
	}{
		{"account-alice@localhost", events.TypeAccountCreated, false},
		{"server-localhost", events.TypeServerStarted, false},
		{"$stats-127.0.0.1:2113", "$statsCollected", true},
		{"$$account-alice@localhost", "$metadata", true},
		{"$ce-account", "$>", true},
		{"account-alice@localhost", "$>", true},
		{"$scavenges", "something", true},
	} {
		rec := &esdb.RecordedEvent{StreamID: tc.stream, EventType: tc.typ}
		if got := isSystem(rec); got != tc.want {
			t.Errorf("isSystem(%q, %q) = %v, want %v", tc.stream, tc.typ, got, tc.want)
		}
	}
}

// The server-side filter the subscription uses must exclude exactly what
// isSystem calls a system event type.
func TestSystemFilterIsOnEventType(t *testing.T) {
	f := esdb.ExcludeSystemEventsFilter()
	if f.Type != esdb.EventFilterType || f.Regex != `^[^\$].*` {
		t.Errorf("ExcludeSystemEventsFilter() = %+v; the subscription relies on it filtering event types starting with $", f)
	}
}

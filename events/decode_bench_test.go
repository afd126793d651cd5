package events_test

import (
	"testing"

	"xmppd/events"
)

func BenchmarkDecodePresenceAvailable(b *testing.B) {
	e, _ := events.New(events.PresenceAvailable{Resource: "laptop", Show: "away", Status: "in a meeting", Priority: 5,
		Stanza: `<presence xmlns="jabber:client" from="alice@localhost/laptop" id="p1"><show>away</show><status>in a meeting</status><priority>5</priority></presence>`}, events.Meta{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Decode(&e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSubscriptionChanged(b *testing.B) {
	e, _ := events.New(events.SubscriptionChanged{Contact: "bob@localhost", Cause: events.InSubscribe, Before: events.StateNone, After: events.StateNonePendingIn}, events.Meta{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Decode(&e); err != nil {
			b.Fatal(err)
		}
	}
}

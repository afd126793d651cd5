package projections_test

import (
	"strings"
	"testing"

	"xmppd/events"
)

// TestDumpShowsEveryState checks that each kind of state a view holds
// shows in the dump: two logs that differ by one event give different
// dumps, and the dump names what the event changed.
func TestDumpShowsEveryState(t *testing.T) {
	base := func(l *logBuilder) []events.Envelope {
		return []events.Envelope{
			l.add(jacct, events.AccountCreated{JID: juliet}, events.Meta{}),
			l.add(jpres, events.SessionStarted{Resource: "phone", Node: "node-a"}, phone),
		}
	}
	tests := []struct {
		name  string
		extra func(l *logBuilder) events.Envelope
		shows string
	}{
		{"pre-approval without an item", func(l *logBuilder) events.Envelope {
			return l.add(jacct, events.PreapprovalSet{Contact: "nurse@example.com"}, phone)
		}, "nurse@example.com"},
		{"request without an item", func(l *logBuilder) events.Envelope {
			return l.add(jacct, events.SubscriptionChanged{Contact: "paris@example.org", Cause: events.InSubscribe, Before: events.StateNone, After: events.StateNonePendingIn, Stanza: "<presence type='subscribe'/>"}, phone)
		}, "paris@example.org"},
		{"roster item", func(l *logBuilder) events.Envelope {
			return l.add(jacct, events.RosterItemSet{Contact: "romeo@example.net", Groups: []string{"Verona"}}, phone)
		}, "Verona"},
		{"credentials", func(l *logBuilder) events.Envelope {
			return l.add(jacct, events.CredentialsSet{Scram: []events.ScramKeys{{Mechanism: "SCRAM-SHA-1", StoredKey: []byte("k")}}}, events.Meta{})
		}, "SCRAM-SHA-1"},
		{"available presence", func(l *logBuilder) events.Envelope {
			return l.add(jpres, events.PresenceAvailable{Resource: "phone", Status: "on the balcony", Stanza: "<presence/>"}, phone)
		}, "on the balcony"},
		{"directed presence", func(l *logBuilder) events.Envelope {
			return l.add(jpres, events.DirectedPresence{Resource: "phone", To: "room@muc.example.org/j", Available: true}, phone)
		}, "room@muc.example.org/j"},
		{"session", func(l *logBuilder) events.Envelope {
			return l.add(jpres, events.SessionStarted{Resource: "tablet", Node: "node-z"}, events.Meta{})
		}, "node-z"},
		{"offline item", func(l *logBuilder) events.Envelope {
			return l.add(joff, events.OfflineQueued{Kind: "message", Stanza: "<message>wherefore</message>"}, events.Meta{})
		}, "wherefore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLog(t)
			evs := base(l)
			without := dumpOf(t, applyAll(t, evs))
			with := dumpOf(t, applyAll(t, append(evs, tt.extra(l))))
			if with == without || !strings.Contains(with, tt.shows) {
				t.Fatalf("the dump does not show %q:\n%s", tt.shows, with)
			}
		})
	}
	t.Run("no secrets", func(t *testing.T) {
		l := newLog(t)
		key := []byte("stored-key-bytes")
		d := dumpOf(t, applyAll(t, []events.Envelope{l.add(jacct, events.CredentialsSet{Scram: []events.ScramKeys{{Mechanism: "SCRAM-SHA-256", StoredKey: key, ServerKey: key}}}, events.Meta{})}))
		for _, enc := range []string{string(key), "c3RvcmVkLWtleS1ieXRlcw"} { // raw and base64
			if strings.Contains(d, enc) {
				t.Fatalf("the dump holds a SCRAM key:\n%s", d)
			}
		}
	})
}

package projections_test

import (
	"reflect"
	"strings"
	"testing"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
)

const juliet = "juliet@example.com"

var (
	jacct = events.AccountStream(juliet)
	jpres = events.PresenceStream(juliet)
	joff  = events.OfflineStream(juliet)
	phone = events.Meta{Actor: juliet + "/phone", SessionID: "sess-1", ClientAddr: "192.0.2.7:4000", Node: "node-a"}
)

// TestApplyFoldsEachView feeds small stories and checks what each view
// shows afterwards.
func TestApplyFoldsEachView(t *testing.T) {
	tests := []struct {
		name  string
		story func(l *logBuilder) []events.Envelope
		check func(t *testing.T, v *projections.Views)
	}{{
		name: "roster and pending request",
		story: func(l *logBuilder) []events.Envelope {
			return []events.Envelope{
				l.add(jacct, events.AccountCreated{JID: juliet}, events.Meta{}),
				l.add(jacct, events.RosterItemSet{Contact: "romeo@example.net", Name: "Romeo", Groups: []string{"Friends"}}, phone),
				l.add(jacct, events.SubscriptionChanged{Contact: "romeo@example.net", Cause: events.OutSubscribe, Before: events.StateNone, After: events.StateNonePendingOut}, phone),
				l.add(jacct, events.SubscriptionChanged{Contact: "nurse@example.com", Cause: events.InSubscribe, Before: events.StateNone, After: events.StateNonePendingIn, Stanza: "<presence type='subscribe'/>"}, phone),
				l.add(jacct, events.SubscriptionIgnored{Contact: "x@example.org", Cause: events.InSubscribed, State: events.StateNone}, phone),
			}
		},
		check: func(t *testing.T, v *projections.Views) {
			if !v.WithAccount(juliet, func(a *domain.Account, p *domain.PresenceView) {
				r := a.Roster()
				if !a.Exists || len(r) != 1 || r[0].Name != "Romeo" || r[0].Subscription != events.StateNonePendingOut {
					t.Errorf("roster %+v", r)
				}
				if pr := a.PendingRequests(); len(pr) != 1 || pr[0].PendingStanza != "<presence type='subscribe'/>" {
					t.Errorf("pending requests %+v", pr)
				}
			}) {
				t.Error("WithAccount does not know juliet")
			}
			// The ignored input folds into nothing but the stream version.
			if a, _ := v.Accounts.Get(juliet); !a.Exists || a.StreamVersion != 5 {
				t.Errorf("account %+v, want existing at version 5", a)
			}
		},
	}, {
		name: "sessions open and end",
		story: func(l *logBuilder) []events.Envelope {
			tablet := events.Meta{SessionID: "sess-2", Node: "node-b"}
			return []events.Envelope{
				l.add(jpres, events.SessionStarted{Resource: "phone", ClientAddr: "192.0.2.7:4000", Node: "node-a", TLS: "TLS1.3", Mechanism: "SCRAM-SHA-256"}, phone),
				l.add(jpres, events.SessionStarted{Resource: "tablet", ClientAddr: "192.0.2.8:4000", Node: "node-b"}, tablet),
				l.add(jpres, events.SessionStarted{Resource: "laptop", ClientAddr: "192.0.2.9:4000", Node: "node-a"}, events.Meta{SessionID: "sess-3"}),
				l.add(jpres, events.PresenceAvailable{Resource: "phone", Priority: 5, Stanza: "<presence/>"}, phone),
				l.add(jpres, events.SessionEnded{Resource: "laptop", Cause: events.EndClientClosed}, events.Meta{}),
				// Ended by an xmppd that wrote session.ended schema 1.
				l.add(jpres, events.SessionStarted{Resource: "desk", Node: "node-a"}, events.Meta{SessionID: "sess-5"}),
				l.add(jpres, sessionEndedV1{Resource: "desk", Reason: "client closed the stream"}, events.Meta{}),
				l.add(events.PresenceStream("romeo@example.net"), events.SessionStarted{Resource: "r", Node: "node-a"}, events.Meta{SessionID: "sess-4"}),
			}
		},
		check: func(t *testing.T, v *projections.Views) {
			got := v.Sessions(juliet)
			if len(got) != 2 || got[0].Resource != "phone" || got[1].Resource != "tablet" {
				t.Fatalf("sessions %+v, want phone and tablet", got)
			}
			want := projections.Session{JID: juliet, Resource: "phone", SessionID: "sess-1", Node: "node-a", ClientAddr: "192.0.2.7:4000",
				TLS: "TLS1.3", Mechanism: "SCRAM-SHA-256", Started: got[0].Started}
			if got[0] != want || got[0].Started.IsZero() {
				t.Errorf("phone session %+v, want %+v", got[0], want)
			}
			var on []string
			for _, s := range v.OpenSessionsOnNode("node-a") {
				on = append(on, s.JID+"/"+s.Resource)
			}
			if want := []string{juliet + "/phone", "romeo@example.net/r"}; !reflect.DeepEqual(on, want) {
				t.Errorf("open on node-a %v, want %v", on, want)
			}
			v.WithAccount(juliet, func(_ *domain.Account, p *domain.PresenceView) {
				if av := p.Available(); len(av) != 1 || av[0].Priority != 5 {
					t.Errorf("available %+v", av)
				}
			})
		},
	}, {
		name: "offline queue delivered in part",
		story: func(l *logBuilder) []events.Envelope {
			var out []events.Envelope
			for _, body := range []string{"one", "two", "three"} {
				out = append(out, l.add(joff, events.OfflineQueued{Kind: "message", From: "romeo@example.net/r", Stanza: "<message><body>" + body + "</body></message>"}, events.Meta{}))
			}
			return append(out, l.add(joff, events.OfflineDelivered{Through: 2, Resource: "phone"}, phone))
		},
		check: func(t *testing.T, v *projections.Views) {
			q := v.Offline(juliet)
			if len(q) != 1 || q[0].Version != 3 || !strings.Contains(q[0].Stanza, "three") || q[0].From != "romeo@example.net/r" || q[0].Recorded.IsZero() {
				t.Fatalf("offline %+v, want only the third", q)
			}
			q[0].Stanza = "changed"
			if v.Offline(juliet)[0].Stanza == "changed" {
				t.Error("Offline returned the view's own slice, not a copy")
			}
		},
	}, {
		// A deleted account's queue is never delivered: an account
		// registered again with the address starts empty (and after an
		// erasure the views hold nothing opened with the destroyed key).
		name: "offline queue dropped with its account",
		story: func(l *logBuilder) []events.Envelope {
			return []events.Envelope{
				l.add(jacct, events.AccountCreated{JID: juliet}, events.Meta{}),
				l.add(joff, events.OfflineQueued{Kind: "message", From: "romeo@example.net/r", Stanza: "<message><body>old</body></message>"}, events.Meta{}),
				l.add(jacct, events.AccountDeleted{JID: juliet}, events.Meta{}),
				l.add(jacct, events.AccountCreated{JID: juliet}, events.Meta{}),
				l.add(joff, events.OfflineQueued{Kind: "message", From: "romeo@example.net/r", Stanza: "<message><body>new</body></message>"}, events.Meta{}),
			}
		},
		check: func(t *testing.T, v *projections.Views) {
			if q := v.Offline(juliet); len(q) != 1 || !strings.Contains(q[0].Stanza, "new") {
				t.Fatalf("offline %+v, want only what came after the deletion", q)
			}
		},
	}, {
		name: "events no view folds",
		story: func(l *logBuilder) []events.Envelope {
			return []events.Envelope{
				l.add(events.ServerStream("example.com"), events.ServerStarted{Node: "node-a"}, events.Meta{}),
				l.add(jpres, events.AuthFailed{Username: "juliet", Mechanism: "PLAIN", Condition: "not-authorized"}, events.Meta{}),
				{Stream: "$et-something", Type: "not.ours", Position: 99},
			}
		},
		check: func(t *testing.T, v *projections.Views) {
			if v.Position() != 99 {
				t.Errorf("position %d, want 99", v.Position())
			}
			if len(v.Sessions(juliet)) != 0 || len(v.Accounts.List()) != 0 {
				t.Error("an unfolded event changed a view")
			}
		},
	}, {
		name:  "unknown account",
		story: func(l *logBuilder) []events.Envelope { return nil },
		check: func(t *testing.T, v *projections.Views) {
			if v.WithAccount("nobody@example.com", func(*domain.Account, *domain.PresenceView) { t.Error("fn called") }) {
				t.Error("WithAccount knows an account the log never named")
			}
			if v.Sessions("nobody@example.com") != nil || v.Offline("nobody@example.com") != nil {
				t.Error("copies for an unknown account are not empty")
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, applyAll(t, tt.story(newLog(t))))
		})
	}
}

// TestApplyIsIdempotentAndOrdered checks that an event at or before the
// position changes nothing, whatever it holds.
func TestApplyIsIdempotentAndOrdered(t *testing.T) {
	l := newLog(t)
	evs := []events.Envelope{
		l.add(jacct, events.AccountCreated{JID: juliet}, events.Meta{}),
		l.add(jacct, events.RosterItemSet{Contact: "romeo@example.net", Name: "Romeo"}, phone),
		l.add(jpres, events.SessionStarted{Resource: "phone", Node: "node-a"}, phone),
		l.add(joff, events.OfflineQueued{Kind: "message", Stanza: "<message/>"}, events.Meta{}),
	}
	v := applyAll(t, evs)
	want := dumpOf(t, v)
	stale := l.add(jacct, events.RosterItemSet{Contact: "paris@example.org"}, phone)
	stale.Position = 2 // a position already applied, by an event never seen
	bad := evs[1]
	bad.Data = []byte("not json") // already applied: not even decoded
	for name, e := range map[string]events.Envelope{
		"the last event again":  evs[3],
		"the first event again": evs[0],
		"every event again":     evs[2],
		"a stale position":      stale,
		"a stale bad event":     bad,
		"an uncommitted event":  {Stream: jacct, Type: events.TypeRosterItemSet, Data: []byte(`{"contact":"x@y"}`)},
	} {
		if err := v.Apply(&e); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if got := dumpOf(t, v); got != want || v.Position() != 4 {
			t.Errorf("%s changed the views (position %d):\n%s", name, v.Position(), firstDiff(want, got))
		}
	}
}

// TestApplyReportsBadEvents checks that an event a view cannot fold is an
// error, and leaves views and position as they were.
func TestApplyReportsBadEvents(t *testing.T) {
	tests := []struct {
		name string
		e    events.Envelope
		want string
	}{
		{"malformed roster item", events.Envelope{Stream: jacct, Type: events.TypeRosterItemSet, SchemaVersion: 1, Data: []byte(`{"contact":`)}, "roster.item_set"},
		{"malformed presence", events.Envelope{Stream: jpres, Type: events.TypePresenceAvailable, SchemaVersion: 1, Data: []byte(`[]`)}, "presence.available"},
		{"newer schema", events.Envelope{Stream: joff, Type: events.TypeOfflineQueued, SchemaVersion: 9, Data: []byte(`{}`)}, "newer than this xmppd knows"},
		{"unknown type in a folded stream", events.Envelope{Stream: jacct, Type: "roster.item_renamed", SchemaVersion: 1, Data: []byte(`{}`)}, `unknown event type "roster.item_renamed"`},
		{"unknown type in the server stream", events.Envelope{Stream: events.ServerStream("x"), Type: "server.exploded", Data: []byte(`{}`)}, "unknown event type"},
		{"malformed JID in the stream name", events.Envelope{Stream: events.PresenceStream("@@"), Type: events.TypeSessionEnded, SchemaVersion: 1, Data: []byte(`{"resource":"r"}`)}, "malformed JID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLog(t)
			v := applyAll(t, []events.Envelope{l.add(jacct, events.AccountCreated{JID: juliet}, events.Meta{})})
			before := dumpOf(t, v)
			e := tt.e
			e.Position, e.Version = 2, 2
			err := v.Apply(&e)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "projections: apply ") {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
			if v.Position() != 1 || dumpOf(t, v) != before {
				t.Fatalf("a failed event changed the views (position %d)", v.Position())
			}
		})
	}
}

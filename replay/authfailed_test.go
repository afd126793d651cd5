package replay_test

import (
	"context"
	"testing"
	"time"

	"xmppd/events"
	"xmppd/projections/projtest"
	"xmppd/replay"
)

// authFailedV1 is session.auth_failed as an xmppd writing schema 1 stored
// it: no throttle decision.
type authFailedV1 struct {
	Username   string `json:"username"`
	Mechanism  string `json:"mechanism"`
	ClientAddr string `json:"addr"`
	Condition  string `json:"condition"`
}

func (authFailedV1) EventType() string  { return events.TypeAuthFailed }
func (authFailedV1) SchemaVersion() int { return 1 }

// TestAuditFailedLogins: the audit says what the throttle did to a failed
// login, and nothing for events that predate the record (schema 1).
func TestAuditFailedLogins(t *testing.T) {
	const bare = "alice@localhost"
	cases := []struct {
		p    events.Payload
		text string
	}{
		{authFailedV1{"alice", "PLAIN", "192.0.2.1:5", "not-authorized"},
			"authentication failed: PLAIN from 192.0.2.1:5 (not-authorized)"},
		{events.AuthFailed{Username: "alice", Mechanism: "PLAIN", ClientAddr: "192.0.2.1:5", Condition: "not-authorized", Throttle: events.ThrottleNone},
			"authentication failed: PLAIN from 192.0.2.1:5 (not-authorized)"},
		{events.AuthFailed{Username: "alice", Mechanism: "SCRAM-SHA-256", ClientAddr: "192.0.2.1:5", Condition: "not-authorized", Throttle: events.ThrottleDelayed, DelayMillis: 4000},
			"authentication failed: SCRAM-SHA-256 from 192.0.2.1:5 (not-authorized; throttled: answer delayed 4s)"},
		{events.AuthFailed{Username: "alice", Mechanism: "PLAIN", ClientAddr: "192.0.2.1:5", Condition: "temporary-auth-failure", Throttle: events.ThrottleRefused},
			"authentication failed: PLAIN from 192.0.2.1:5 (temporary-auth-failure; throttled: refused without checking the password)"},
	}
	var log []events.Envelope
	for i, tc := range cases {
		e, err := events.New(tc.p, events.Meta{Actor: "server:n", Node: "n"})
		if err != nil {
			t.Fatal(err)
		}
		e.Stream, e.Recorded = events.PresenceStream(bare), projtest.Start().Add(time.Duration(i)*time.Second)
		log = append(log, e)
	}
	store := tempStore(t)
	commit(t, store, log, 100)
	var got []replay.Entry
	if err := replay.Audit(context.Background(), store, bare, replay.Filter{}, nil, func(e replay.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cases) {
		t.Fatalf("%d entries, want %d", len(got), len(cases))
	}
	for i, tc := range cases {
		if got[i].Text != tc.text {
			t.Errorf("entry %d: %q\nwant      %q", i, got[i].Text, tc.text)
		}
	}
}

package events_test

import (
	"strings"
	"testing"

	"xmppd/events"
)

// TestAuthFailedV1Upcast: session.auth_failed schema 1, as stored before
// the throttle's decision was recorded, decodes to schema 2 with every
// field kept and the decision "unrecorded" (never a guess), whatever its
// condition was.
func TestAuthFailedV1Upcast(t *testing.T) {
	for _, cond := range []string{"not-authorized", "temporary-auth-failure", "malformed-request"} {
		data := `{"username":"alice","mechanism":"PLAIN","addr":"203.0.113.9:4242","condition":"` + cond + `"}`
		e := events.Envelope{Stream: events.ServerStream("localhost"), Version: 9,
			Type: events.TypeAuthFailed, SchemaVersion: 1, Data: []byte(data)}
		p, err := events.Decode(&e)
		if err != nil {
			t.Fatal(err)
		}
		want := events.AuthFailed{Username: "alice", Mechanism: "PLAIN", ClientAddr: "203.0.113.9:4242",
			Condition: cond, Throttle: events.ThrottleUnrecorded}
		if p != want {
			t.Errorf("%s: decoded %+v, want %+v", cond, p, want)
		}
	}
	bad := events.Envelope{Stream: events.ServerStream("localhost"), Version: 9,
		Type: events.TypeAuthFailed, SchemaVersion: 1, Data: []byte(`{"username":`)}
	if _, err := events.Decode(&bad); err == nil || !strings.Contains(err.Error(), "upcast session.auth_failed schema 1") {
		t.Errorf("broken schema 1 data: err = %v", err)
	}
}

// TestAuthFailedV2RoundTrips: what xmppd writes now is schema 2 and
// decodes unchanged; the delay is left out when there was none.
func TestAuthFailedV2RoundTrips(t *testing.T) {
	for _, in := range []events.AuthFailed{
		{Username: "alice", Mechanism: "PLAIN", ClientAddr: "127.0.0.2:1", Condition: "not-authorized", Throttle: events.ThrottleDelayed, DelayMillis: 2000},
		{Username: "alice", Mechanism: "PLAIN", ClientAddr: "127.0.0.2:1", Condition: "temporary-auth-failure", Throttle: events.ThrottleRefused},
	} {
		e, err := events.New(in, events.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if e.SchemaVersion != 2 {
			t.Fatalf("written as schema %d", e.SchemaVersion)
		}
		p, err := events.Decode(&e)
		if err != nil {
			t.Fatal(err)
		}
		if p != in {
			t.Errorf("decoded %+v, want %+v", p, in)
		}
	}
	e, _ := events.New(events.AuthFailed{Username: "a", Mechanism: "PLAIN", ClientAddr: "x", Condition: "not-authorized", Throttle: events.ThrottleNone}, events.Meta{})
	if got := string(e.Data); got != `{"username":"a","mechanism":"PLAIN","addr":"x","condition":"not-authorized","throttle":"none"}` {
		t.Errorf("data %s", got)
	}
}

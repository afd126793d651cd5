package replay_test

import (
	"context"
	"testing"
	"time"

	"xmppd/events"
	"xmppd/projections/projtest"
	"xmppd/replay"
)

// TestAuditServerRefusalSummaries: AuditServer tells server-<domain>'s
// story, and says in words what a summary of refused logins stands for:
// how many, from which address (or from the addresses not counted
// apart), between when and when. An account's audit does not include it.
func TestAuditServerRefusalSummaries(t *testing.T) {
	first := time.Date(2026, 11, 20, 10, 1, 2, 0, time.UTC)
	cases := []struct {
		p    events.Payload
		text string
	}{
		{events.AuthFailed{Username: "", Mechanism: "PLAIN", ClientAddr: "192.0.2.7:5", Condition: "temporary-auth-failure", Throttle: events.ThrottleRefused},
			"authentication failed: PLAIN from 192.0.2.7:5 (temporary-auth-failure; throttled: refused without checking the password)"},
		{events.AuthRefusalsSummarised{ClientAddr: "192.0.2.7", Count: 499, First: first, Last: first.Add(59 * time.Second)},
			"499 further logins from 192.0.2.7 refused by the throttle without checking a password, between 2026-11-20T10:01:02Z and 2026-11-20T10:02:01Z (counted, not recorded one by one)"},
		{events.AuthRefusalsSummarised{ClientAddr: "", Count: 1, First: first, Last: first},
			"1 further login from addresses not counted apart (the count of addresses was full) refused by the throttle without checking a password, between 2026-11-20T10:01:02Z and 2026-11-20T10:01:02Z (counted, not recorded one by one)"},
	}
	var log []events.Envelope
	for i, tc := range cases {
		e, err := events.New(tc.p, events.Meta{Actor: "server:n", Node: "n"})
		if err != nil {
			t.Fatal(err)
		}
		e.Stream, e.Recorded = events.ServerStream("localhost"), projtest.Start().Add(time.Duration(i)*time.Second)
		log = append(log, e)
	}
	store := tempStore(t)
	commit(t, store, log, 100)
	var got []replay.Entry
	f := replay.Filter{Categories: []string{"session"}}
	if err := replay.AuditServer(context.Background(), store, "localhost", f, nil, func(e replay.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cases) {
		t.Fatalf("%d entries, want %d", len(got), len(cases))
	}
	for i, tc := range cases {
		if got[i].Text != tc.text || got[i].Category != "session" {
			t.Errorf("entry %d: %s %q\nwant session %q", i, got[i].Category, got[i].Text, tc.text)
		}
	}
	n := 0
	if err := replay.Audit(context.Background(), store, "alice@localhost", replay.Filter{}, nil, func(replay.Entry) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("an account's audit: %d entries, %v", n, err)
	}
}

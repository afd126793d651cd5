package replay_test

import (
	"context"
	"testing"
	"time"

	"xmppd/events"
	"xmppd/projections/projtest"
	"xmppd/replay"
)

// sessionEndedV1 is session.ended as an xmppd writing schema 1 stored it.
type sessionEndedV1 struct {
	Resource string `json:"resource"`
	Reason   string `json:"reason"`
}

func (sessionEndedV1) EventType() string  { return events.TypeSessionEnded }
func (sessionEndedV1) SchemaVersion() int { return 1 }

// TestAuditSessionEnds: the audit tells a session's end by its cause in
// words and the stream error condition, for events written at schema 2
// and at schema 1 (read through the upcaster) alike, and gives cause,
// condition and detail as fields.
func TestAuditSessionEnds(t *testing.T) {
	const bare = "alice@localhost"
	cases := []struct {
		p                         events.Payload
		text, cause, cond, detail string
	}{
		{sessionEndedV1{"laptop", "client closed the stream"},
			"session ended: resource laptop (client closed the stream)", "client_closed", "", "client closed the stream"},
		{sessionEndedV1{"laptop", "conflict"},
			"session ended: resource laptop (replaced by a new session with the same resource, stream error <conflict/>)", "conflict", "conflict", "conflict"},
		{sessionEndedV1{"laptop", "policy-violation"},
			"session ended: resource laptop (stream error <policy-violation/> from the server)", "stream_error", "policy-violation", "policy-violation"},
		{sessionEndedV1{"laptop", "shutdown"},
			"session ended: resource laptop (server shutdown, stream error <system-shutdown/>)", "shutdown", "system-shutdown", "shutdown"},
		{sessionEndedV1{"laptop", "bind timed out"},
			"session ended: resource laptop (bind not completed in time: bind timed out)", "bind_failed", "", "bind timed out"},
		{sessionEndedV1{"laptop", "gremlins"},
			"session ended: resource laptop (cause unknown: gremlins)", "unknown", "", "gremlins"},
		{events.SessionEnded{Resource: "phone", Cause: events.EndClientClosed},
			"session ended: resource phone (client closed the stream)", "client_closed", "", ""},
		{events.SessionEnded{Resource: "phone", Cause: events.EndClientClosed, Condition: "undefined-condition", Detail: "the client sent a stream error"},
			"session ended: resource phone (client closed the stream with stream error <undefined-condition/>: the client sent a stream error)", "client_closed", "undefined-condition", "the client sent a stream error"},
		{events.SessionEnded{Resource: "phone", Cause: events.EndStreamError, Condition: "policy-violation", Detail: "stanza too large"},
			"session ended: resource phone (stream error <policy-violation/> from the server: stanza too large)", "stream_error", "policy-violation", "stanza too large"},
		{events.SessionEnded{Resource: "phone", Cause: events.EndConnectionLost, Detail: "EOF"},
			"session ended: resource phone (connection lost: EOF)", "connection_lost", "", "EOF"},
		{events.SessionEnded{Resource: "phone", Cause: events.EndTimeout, Condition: "connection-timeout"},
			"session ended: resource phone (timed out, the client sent nothing, stream error <connection-timeout/>)", "timeout", "connection-timeout", ""},
		{events.SessionEnded{Resource: "phone", Cause: events.EndRestart},
			"session ended: resource phone (ended at restart, its server process had stopped without ending it)", "restart", "", ""},
		{events.SessionEnded{Resource: "phone", Cause: events.EndAccountDeleted, Condition: "not-authorized", Detail: "account deleted"},
			"session ended: resource phone (account deleted, stream error <not-authorized/>)", "account_deleted", "not-authorized", "account deleted"},
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
		e := got[i]
		if e.Text != tc.text || e.Cause != tc.cause || e.Condition != tc.cond || e.Detail != tc.detail || e.Category != "session" {
			t.Errorf("entry %d: text %q cause %q condition %q detail %q category %q\nwant text %q cause %q condition %q detail %q",
				i, e.Text, e.Cause, e.Condition, e.Detail, e.Category, tc.text, tc.cause, tc.cond, tc.detail)
		}
	}
}

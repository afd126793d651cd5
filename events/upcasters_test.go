package events_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"xmppd/events"
)

// v1SessionEnded is a session.ended event as an xmppd writing schema 1
// stored it.
func v1SessionEnded(t *testing.T, resource, reason string) events.Envelope {
	t.Helper()
	data, err := json.Marshal(map[string]string{"resource": resource, "reason": reason})
	if err != nil {
		t.Fatal(err)
	}
	return events.Envelope{Stream: events.PresenceStream("alice@localhost"), Version: 3,
		Type: events.TypeSessionEnded, SchemaVersion: 1, Data: data}
}

// TestSessionEndedV1Upcast decodes session.ended schema 1 with every
// reason an xmppd writing schema 1 could record (the strings of its
// adapters/c2s and im), and some it never wrote, through the
// default codec: each gets one cause, the stream error condition when one
// was sent, and its text verbatim in Detail.
func TestSessionEndedV1Upcast(t *testing.T) {
	cases := []struct {
		reason    string
		cause     events.SessionEndCause
		condition string
	}{
		// c2s reader: </stream:stream>, and (schema 1 could not tell) a
		// client's stream error, EOF or a network error.
		{"client closed the stream", events.EndClientClosed, ""},
		// c2s writer, and the write of the bind result.
		{"write failed", events.EndConnectionLost, ""},
		// c2s Session.Close.
		{"closed by server", events.EndServerClosed, ""},
		// Server: a new session with the same resource; c2s sent <conflict/>.
		{"conflict", events.EndConflict, "conflict"},
		// Server during shutdown; c2s sent <system-shutdown/>.
		{"shutdown", events.EndShutdown, "system-shutdown"},
		// c2s's shutdown, before the server knew it was stopping.
		{"system-shutdown", events.EndShutdown, "system-shutdown"},
		// Server at start-up, for sessions a killed process left open.
		{"restart", events.EndRestart, ""},
		// Server; c2s then sent <not-authorized/> "account deleted".
		{"account deleted", events.EndAccountDeleted, "not-authorized"},
		// Server, when a session start was recorded after the bind gave up.
		{"bind timed out", events.EndBindFailed, ""},
		// c2s read timeout (RFC 6120 4.9.3.4).
		{"connection-timeout", events.EndTimeout, "connection-timeout"},
		// c2s, client too slow to read its queue.
		{"resource-constraint", events.EndStreamError, "resource-constraint"},
		// c2s streamErrorFor and the stanza checks: the stream errors a
		// bound session could be sent.
		{"policy-violation", events.EndStreamError, "policy-violation"},
		{"not-well-formed", events.EndStreamError, "not-well-formed"},
		{"restricted-xml", events.EndStreamError, "restricted-xml"},
		{"bad-format", events.EndStreamError, "bad-format"},
		{"invalid-namespace", events.EndStreamError, "invalid-namespace"},
		{"unsupported-stanza-type", events.EndStreamError, "unsupported-stanza-type"},
		{"internal-server-error", events.EndStreamError, "internal-server-error"},
		{"not-authorized", events.EndStreamError, "not-authorized"},
		// RFC 6120 conditions xmppd never sent on a bound session.
		{"host-unknown", events.EndStreamError, "host-unknown"},
		{"unsupported-version", events.EndStreamError, "unsupported-version"},
		{"reset", events.EndStreamError, "reset"},
		{"see-other-host", events.EndStreamError, "see-other-host"},
		{"undefined-condition", events.EndStreamError, "undefined-condition"},
		// Never written by xmppd (tests only, or foreign): unknown, text kept.
		{"closed", events.EndUnknown, ""},
		{"error", events.EndUnknown, ""},
		{"", events.EndUnknown, ""},
		{"Client closed the stream", events.EndUnknown, ""},
		{" conflict", events.EndUnknown, ""},
		{"<stream:error/> & \"quotes\" ñ", events.EndUnknown, ""},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			e := v1SessionEnded(t, "laptop", tc.reason)
			stored := bytes.Clone(e.Data)
			p, err := events.Decode(&e)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := p.(events.SessionEnded)
			if !ok {
				t.Fatalf("decoded %T", p)
			}
			want := events.SessionEnded{Resource: "laptop", Cause: tc.cause, Condition: tc.condition, Detail: tc.reason}
			if got != want {
				t.Errorf("decoded %+v\nwant    %+v", got, want)
			}
			if !slices.Contains(events.SessionEndCauses(), got.Cause) {
				t.Errorf("cause %q is not in SessionEndCauses", got.Cause)
			}
			// Upcasting works on a copy: the stored bytes, which the hash
			// covers, are untouched.
			if !bytes.Equal(e.Data, stored) || e.SchemaVersion != 1 {
				t.Errorf("decode changed the envelope: schema %d, data %s", e.SchemaVersion, e.Data)
			}
		})
	}
}

// TestSessionEndedV1UpcastEveryCondition: every defined condition of RFC
// 6120 section 4.9.3, as a schema 1 reason, is kept as the condition.
func TestSessionEndedV1UpcastEveryCondition(t *testing.T) {
	conds := strings.Fields(`bad-format bad-namespace-prefix conflict connection-timeout host-gone
		host-unknown improper-addressing internal-server-error invalid-from invalid-namespace
		invalid-xml not-authorized not-well-formed policy-violation remote-connection-failed
		reset resource-constraint restricted-xml see-other-host system-shutdown
		undefined-condition unsupported-encoding unsupported-feature unsupported-stanza-type
		unsupported-version`)
	if len(conds) != 25 {
		t.Fatalf("%d conditions, RFC 6120 4.9.3 defines 25", len(conds))
	}
	for _, c := range conds {
		e := v1SessionEnded(t, "r", c)
		p, err := events.Decode(&e)
		if err != nil {
			t.Fatal(err)
		}
		got := p.(events.SessionEnded)
		if got.Condition != c || got.Detail != c || got.Cause == events.EndUnknown {
			t.Errorf("%s: decoded %+v", c, got)
		}
	}
}

// TestSessionEndedV1UpcastRefusesBrokenData: data that is not schema 1
// JSON is an error naming the step, not a silent "unknown".
func TestSessionEndedV1UpcastRefusesBrokenData(t *testing.T) {
	for _, data := range []string{`{"resource":`, `[]`, `{"reason":5}`} {
		e := events.Envelope{Stream: "presence-alice@localhost", Version: 2, Type: events.TypeSessionEnded, SchemaVersion: 1, Data: []byte(data)}
		if _, err := events.Decode(&e); err == nil || !strings.Contains(err.Error(), "upcast session.ended schema 1") {
			t.Errorf("%s: err = %v", data, err)
		}
	}
}

// TestSessionEndedV2RoundTrips: what xmppd writes now decodes unchanged,
// with no upcaster.
func TestSessionEndedV2RoundTrips(t *testing.T) {
	for _, c := range events.SessionEndCauses() {
		in := events.SessionEnded{Resource: "phone", Cause: c, Condition: "conflict", Detail: "d"}
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
	// Condition and detail are left out when empty.
	e, _ := events.New(events.SessionEnded{Resource: "phone", Cause: events.EndClientClosed}, events.Meta{})
	if got := string(e.Data); got != `{"resource":"phone","cause":"client_closed"}` {
		t.Errorf("data %s", got)
	}
}

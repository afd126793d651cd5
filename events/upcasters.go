package events

import (
	"encoding/json"
	"fmt"

	gojson "github.com/goccy/go-json"
)

// registerUpcasters adds every schema step xmppd has shipped. Each step
// gets a golden file for the old version in testdata/golden, decoded by
// TestGoldenFiles, so that old logs keep replaying.
//
// Upcasting happens on decode only: the store keeps the bytes an event was
// appended with, and its hash covers them, so an old event is never
// rewritten (export shows it as it was written, schema 1 and all).
//
// An upcaster reads and writes frozen copies of the two shapes it joins,
// never the current payload types: when a shape changes again, the old
// steps stay as they were and a new step is added after them.
func registerUpcasters(c *Codec) {
	c.RegisterUpcaster(TypeSessionEnded, 1, upcastSessionEndedV1)
	c.RegisterUpcaster(TypeAuthFailed, 1, upcastAuthFailedV1)
	// Schema 2 of the personal payloads only adds the optional sealed
	// field (seal.go): schema 1 data is schema 2 data with nothing
	// sealed, so the step is the identity, and old events, which their
	// hashes forbid rewriting, stay readable, and in clear, as they are.
	for _, typ := range []string{TypeVCardSet, TypePrivateSet, TypePEPPublished, TypePresenceAvailable} {
		c.RegisterUpcaster(typ, 1, unchanged)
	}
	// Schema 2 of archive.message_stored likewise only adds sealed: a
	// schema 1 message, archived in clear, reads as it was written.
	c.RegisterUpcaster(TypeArchiveMessageStored, 1, unchanged)
	// Schema 2 of presence.directed and offline.queued likewise only adds
	// sealed: a directed presence or an offline stanza of an older log
	// reads in clear, as it was written.
	c.RegisterUpcaster(TypeDirectedPresence, 1, unchanged)
	c.RegisterUpcaster(TypeOfflineQueued, 1, unchanged)
}

// unchanged is the step between two schema versions whose only
// difference is an added optional field.
func unchanged(data json.RawMessage) (json.RawMessage, error) { return data, nil }

// sessionEndedV1 is session.ended schema 1, as xmppd wrote it until
// schema 2: the reason was free text.
type sessionEndedV1 struct {
	Resource string `json:"resource"`
	Reason   string `json:"reason"`
}

// sessionEndedV2 is session.ended schema 2 (SessionEnded when this step
// was written).
type sessionEndedV2 struct {
	Resource  string `json:"resource"`
	Cause     string `json:"cause"`
	Condition string `json:"condition,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// v1EndReason is the cause and stream error condition of a schema 1
// reason.
type v1EndReason struct {
	cause     SessionEndCause
	condition string
}

// v1EndReasons maps every reason text that an xmppd writing schema 1 could
// record (found in its code: adapters/c2s, im) to its schema
// 2 cause and condition:
//
//   - "client closed the stream": c2s's reader, when no stream error was
//     due. It also covered a client's own <stream:error/>, EOF and network
//     errors: schema 1 could not tell them apart, so all read as
//     client_closed.
//   - "write failed": c2s's writer, or the write of the bind result.
//   - "closed by server": c2s Session.Close (no caller in xmppd's core).
//   - "conflict": the core, replacing a session with the same resource,
//     to which c2s then sent <conflict/>.
//   - "shutdown": the core, for every end during shutdown; c2s then sent
//     <system-shutdown/>.
//   - "system-shutdown": c2s's shutdown, if the core had not yet noticed it
//     was stopping.
//   - "restart": the core, ending at start-up the sessions a killed
//     process left open.
//   - "account deleted": the core, before sending <not-authorized/>.
//   - "bind timed out": the core, when the session start was recorded
//     after c2s had given up on the bind.
//   - "resource-constraint": c2s, for a client too slow to read.
//   - any other RFC 6120 section 4.9.3 condition name: c2s, after sending
//     that stream error (bad-format, invalid-namespace, not-well-formed,
//     policy-violation, restricted-xml, unsupported-stanza-type,
//     internal-server-error, ...); connection-timeout is the read timeout.
//
// Anything else ("closed" and "error" appear only in tests) becomes
// EndUnknown: an upcaster must not fail on data its version wrote, and
// the text survives in Detail.
var v1EndReasons = map[string]v1EndReason{
	"client closed the stream": {EndClientClosed, ""},
	"write failed":             {EndConnectionLost, ""},
	"closed by server":         {EndServerClosed, ""},
	"conflict":                 {EndConflict, "conflict"},
	"shutdown":                 {EndShutdown, "system-shutdown"},
	"system-shutdown":          {EndShutdown, "system-shutdown"},
	"restart":                  {EndRestart, ""},
	"account deleted":          {EndAccountDeleted, "not-authorized"},
	"bind timed out":           {EndBindFailed, ""},
	"connection-timeout":       {EndTimeout, "connection-timeout"},
}

// streamErrorConditions are the defined conditions of RFC 6120 section
// 4.9.3, in its order.
var streamErrorConditions = []string{
	"bad-format", "bad-namespace-prefix", "conflict", "connection-timeout", "host-gone",
	"host-unknown", "improper-addressing", "internal-server-error", "invalid-from",
	"invalid-namespace", "invalid-xml", "not-authorized", "not-well-formed",
	"policy-violation", "remote-connection-failed", "reset", "resource-constraint",
	"restricted-xml", "see-other-host", "system-shutdown", "undefined-condition",
	"unsupported-encoding", "unsupported-feature", "unsupported-stanza-type",
	"unsupported-version",
}

// v1EndReasonOf returns the cause and condition of a schema 1 reason.
func v1EndReasonOf(reason string) v1EndReason {
	if r, ok := v1EndReasons[reason]; ok {
		return r
	}
	for _, c := range streamErrorConditions {
		if reason == c {
			return v1EndReason{EndStreamError, c}
		}
	}
	return v1EndReason{EndUnknown, ""}
}

// upcastSessionEndedV1 turns session.ended schema 1 into schema 2: the
// reason becomes a cause and a condition (v1EndReasons), and is kept
// verbatim in detail.
func upcastSessionEndedV1(data json.RawMessage) (json.RawMessage, error) {
	var v1 sessionEndedV1
	if err := gojson.Unmarshal(data, &v1); err != nil {
		return nil, fmt.Errorf("session.ended schema 1: %w", err)
	}
	r := v1EndReasonOf(v1.Reason)
	// Only decoded, never stored: any valid JSON of the shape will do.
	return gojson.Marshal(sessionEndedV2{Resource: v1.Resource, Cause: string(r.cause), Condition: r.condition, Detail: v1.Reason})
}

// authFailedV1 is session.auth_failed schema 1, as xmppd wrote it until
// schema 2: no throttle decision.
type authFailedV1 struct {
	Username   string `json:"username"`
	Mechanism  string `json:"mechanism"`
	ClientAddr string `json:"addr"`
	Condition  string `json:"condition"`
}

// authFailedV2 is session.auth_failed schema 2 (AuthFailed when this step
// was written).
type authFailedV2 struct {
	Username    string `json:"username"`
	Mechanism   string `json:"mechanism"`
	ClientAddr  string `json:"addr"`
	Condition   string `json:"condition"`
	Throttle    string `json:"throttle"`
	DelayMillis int64  `json:"delay_ms,omitempty"`
}

// upcastAuthFailedV1 turns session.auth_failed schema 1 into schema 2.
// Schema 1 did not say what the throttle decided, and it cannot be
// guessed: its <temporary-auth-failure/> was either the old throttle's
// refusal or a credentials lookup that failed. So the decision reads
// ThrottleUnrecorded, never a guess.
func upcastAuthFailedV1(data json.RawMessage) (json.RawMessage, error) {
	var v1 authFailedV1
	if err := gojson.Unmarshal(data, &v1); err != nil {
		return nil, fmt.Errorf("session.auth_failed schema 1: %w", err)
	}
	return gojson.Marshal(authFailedV2{Username: v1.Username, Mechanism: v1.Mechanism,
		ClientAddr: v1.ClientAddr, Condition: v1.Condition, Throttle: string(ThrottleUnrecorded)})
}

package events

// TypeAlteredLogAccepted records an operator's decision to serve a log
// whose start-up check found streams that do not match their recorded
// heads (`xmppd serve --accept-altered-log`). It is written to
// server-<domain> before server.started.
const TypeAlteredLogAccepted = "server.altered_log_accepted"

// AlteredLogAccepted is TypeAlteredLogAccepted's payload: what the check
// found, per stream, and who decided to go on.
type AlteredLogAccepted struct {
	// Node is the server process that found and accepted the alteration.
	Node string `json:"node"`
	// Operator is who ran it: admin:<operating system user>.
	Operator string `json:"operator"`
	// Streams are the altered streams, in name order.
	Streams []AlteredStream `json:"streams"`
}

// AlteredStream is one stream the start-up check refused.
type AlteredStream struct {
	Stream string `json:"stream"`
	// Problem is tail_removed, last_event_edited or head_row_edited.
	Problem string `json:"problem"`
	// Detail says the same for a person.
	Detail string `json:"detail"`
	// RecordedVersion and RecordedHash are the head the store had
	// recorded; FoundVersion and FoundHash the last event actually in
	// the log.
	RecordedVersion uint64 `json:"recorded_version"`
	RecordedHash    string `json:"recorded_hash"`
	FoundVersion    uint64 `json:"found_version"`
	FoundHash       string `json:"found_hash"`
	// Rebased says appends now continue the chain from the found event
	// (the recorded head was moved back to it).
	Rebased bool `json:"rebased"`
}

func (AlteredLogAccepted) EventType() string  { return TypeAlteredLogAccepted }
func (AlteredLogAccepted) SchemaVersion() int { return 1 }

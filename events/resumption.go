package events

// XEP-0198 Stream Management: a session whose connection is lost while
// stream resumption is enabled is suspended rather than ended. It stays
// available, and what is sent to it waits, until the client resumes it on
// a new connection (perhaps from another network) or the resumption
// timeout passes, when it ends (session.ended with cause
// EndResumptionExpired). Both are in the account's presence stream, with
// the session as actor, so replay and audit show a phone that moved from
// one network to another.
const (
	TypeSessionSuspended = "session.suspended"
	TypeSessionResumed   = "session.resumed"
)

// SessionSuspended records that a resumable session lost its connection
// (XEP-0198 section 5; section 7: a stream not cleanly closed).
type SessionSuspended struct {
	Resource string `json:"resource"`
	// Cause is EndConnectionLost or EndTimeout, as session.ended would
	// have said had the session not been resumable.
	Cause  SessionEndCause `json:"cause"`
	Detail string          `json:"detail,omitempty"`
	// Unacked is how many stanzas the client had not acknowledged; they
	// are sent again on resumption.
	Unacked int `json:"unacked,omitempty"`
	// ResumeWithinSeconds is how long the session waits to be resumed.
	ResumeWithinSeconds int64 `json:"resume_within_s"`
}

// SessionResumed records that a suspended (or not yet noticed as lost)
// session was resumed on a new connection (XEP-0198 section 5), with
// where the new connection comes from; the event's meta carries the same
// client address.
type SessionResumed struct {
	Resource   string `json:"resource"`
	ClientAddr string `json:"addr"`
	TLS        string `json:"tls,omitempty"`
	Mechanism  string `json:"mechanism,omitempty"`
	// Resent is how many unacknowledged stanzas were sent again.
	Resent int `json:"resent"`
}

func (SessionSuspended) EventType() string  { return TypeSessionSuspended }
func (SessionSuspended) SchemaVersion() int { return 1 }
func (SessionResumed) EventType() string    { return TypeSessionResumed }
func (SessionResumed) SchemaVersion() int   { return 1 }

package events

// XEP-0191 (Blocking Command) changes to an account's block list, in the
// account's stream, with the session that asked as actor.
const (
	TypeBlockingBlocked   = "blocking.blocked"
	TypeBlockingUnblocked = "blocking.unblocked"
)

// BlockingBlocked adds JIDs to the account's block list (XEP-0191 3.3).
type BlockingBlocked struct {
	// JIDs are the addresses newly blocked, as the server normalised them.
	JIDs []string `json:"jids"`
}

// BlockingUnblocked removes JIDs from the block list (XEP-0191 3.4), or
// every JID when All is set (3.5).
type BlockingUnblocked struct {
	JIDs []string `json:"jids,omitempty"`
	All  bool     `json:"all,omitempty"`
}

func (BlockingBlocked) EventType() string    { return TypeBlockingBlocked }
func (BlockingBlocked) SchemaVersion() int   { return 1 }
func (BlockingUnblocked) EventType() string  { return TypeBlockingUnblocked }
func (BlockingUnblocked) SchemaVersion() int { return 1 }

package events

// The catalogue. Names are chosen strings, never derived from Go types,
// and never change once an event has been stored: a new shape gets a new
// schema version and an upcaster (see codec.go and upcasters.go). Every
// type is at schema 1 except session.ended, at schema 2.
//
// Every payload names the account it belongs to only through its stream;
// JIDs inside payloads are canonical strings (bare unless said otherwise).
const (
	TypeAccountCreated = "account.created"
	TypeAccountDeleted = "account.deleted"
	TypeCredentialsSet = "account.credentials_set"

	TypeRosterItemSet     = "roster.item_set"
	TypeRosterItemRemoved = "roster.item_removed"

	TypeSubscriptionChanged = "subscription.changed"
	TypeSubscriptionIgnored = "subscription.input_ignored"
	TypePreapprovalSet      = "subscription.preapproved"
	TypePreapprovalCleared  = "subscription.preapproval_cleared"

	TypeSessionStarted = "session.started"
	TypeSessionEnded   = "session.ended"
	TypeAuthFailed     = "session.auth_failed"

	TypePresenceAvailable   = "presence.available"
	TypePresenceUnavailable = "presence.unavailable"
	TypeDirectedPresence    = "presence.directed"

	TypeOfflineQueued    = "offline.queued"
	TypeOfflineDelivered = "offline.delivered"

	TypeServerStarted = "server.started"
	TypeServerStopped = "server.stopped"
	TypeAdminAction   = "server.admin_action"
)

// Payload is the decoded Data of an event. Each payload type states its
// catalogue name and the schema version it encodes as.
type Payload interface {
	EventType() string
	SchemaVersion() int
}

// AccountCreated opens an account stream.
type AccountCreated struct {
	JID string `json:"jid"`
}

// AccountDeleted closes an account. The stream is kept for audit; a new
// account of the same JID continues the same stream.
type AccountDeleted struct {
	JID    string `json:"jid"`
	Reason string `json:"reason,omitempty"`
}

// ScramKeys are the stored form of one SCRAM mechanism's credential
// (RFC 5802 section 3): never the password, nor the salted password.
type ScramKeys struct {
	Mechanism  string `json:"mechanism"` // "SCRAM-SHA-1" or "SCRAM-SHA-256"
	Salt       []byte `json:"salt"`
	Iterations int    `json:"iterations"`
	StoredKey  []byte `json:"stored_key"`
	ServerKey  []byte `json:"server_key"`
}

// CredentialsSet replaces every credential of the account.
type CredentialsSet struct {
	Scram []ScramKeys `json:"scram"`
}

// RosterItemSet records the user-editable part of a roster item (RFC 6121
// section 2.1.2): its name and groups. Subscription state changes only
// through SubscriptionChanged.
type RosterItemSet struct {
	Contact string   `json:"contact"`
	Name    string   `json:"name,omitempty"`
	Groups  []string `json:"groups,omitempty"`
}

// RosterItemRemoved deletes an item (RFC 6121 section 2.5).
type RosterItemRemoved struct {
	Contact string `json:"contact"`
}

// SubscriptionInput is one of the eight inputs of RFC 6121 Appendix A:
// a presence subscription stanza of some type, sent (outbound) or received
// (inbound) by the account whose stream records it.
type SubscriptionInput string

const (
	OutSubscribe    SubscriptionInput = "outbound_subscribe"
	OutSubscribed   SubscriptionInput = "outbound_subscribed"
	OutUnsubscribe  SubscriptionInput = "outbound_unsubscribe"
	OutUnsubscribed SubscriptionInput = "outbound_unsubscribed"
	InSubscribe     SubscriptionInput = "inbound_subscribe"
	InSubscribed    SubscriptionInput = "inbound_subscribed"
	InUnsubscribe   SubscriptionInput = "inbound_unsubscribe"
	InUnsubscribed  SubscriptionInput = "inbound_unsubscribed"
)

// SubscriptionState is one of the nine states of RFC 6121 Appendix A,
// spelled as the appendix spells them.
type SubscriptionState string

const (
	StateNone             SubscriptionState = "None"
	StateNonePendingOut   SubscriptionState = "None + Pending Out"
	StateNonePendingIn    SubscriptionState = "None + Pending In"
	StateNonePendingOutIn SubscriptionState = "None + Pending Out/In"
	StateTo               SubscriptionState = "To"
	StateToPendingIn      SubscriptionState = "To + Pending In"
	StateFrom             SubscriptionState = "From"
	StateFromPendingOut   SubscriptionState = "From + Pending Out"
	StateBoth             SubscriptionState = "Both"
)

// SubscriptionChanged records one transition of Appendix A: the input that
// caused it and the states before and after.
type SubscriptionChanged struct {
	Contact string            `json:"contact"`
	Cause   SubscriptionInput `json:"cause"`
	Before  SubscriptionState `json:"before"`
	After   SubscriptionState `json:"after"`
	// Stanza is the subscription request's full XML for inbound subscribe
	// (kept so it can be redelivered whole, extensions included).
	Stanza string `json:"stanza,omitempty"`
}

// SubscriptionIgnored records an input that Appendix A says changes
// nothing, for the audit trail.
type SubscriptionIgnored struct {
	Contact string            `json:"contact"`
	Cause   SubscriptionInput `json:"cause"`
	State   SubscriptionState `json:"state"`
}

// PreapprovalSet records a pre-approved subscription (RFC 6121 3.4).
type PreapprovalSet struct {
	Contact string `json:"contact"`
}

// PreapprovalCleared records the end of a pre-approval: used by an
// incoming request, cancelled by unsubscribed, or removed with the item.
type PreapprovalCleared struct {
	Contact string `json:"contact"`
	Reason  string `json:"reason"`
}

// SessionStarted records a bound resource (RFC 6120 section 7).
type SessionStarted struct {
	Resource   string `json:"resource"`
	ClientAddr string `json:"addr"`
	Node       string `json:"node"`
	TLS        string `json:"tls,omitempty"` // e.g. "TLS1.3 TLS_AES_128_GCM_SHA256"
	Mechanism  string `json:"mechanism,omitempty"`
}

// SessionEnded records the end of a session and why: one cause from a
// closed set, the stream error condition if one ended the stream, and
// optional words for people.
//
// Schema 2. Schema 1 had only {resource, reason}, reason being free text
// ("client closed the stream", "conflict", "policy-violation", ...); the
// upcaster in upcasters.go reads it as schema 2, with the old text in
// Detail.
type SessionEnded struct {
	Resource string          `json:"resource"`
	Cause    SessionEndCause `json:"cause"`
	// Condition is the RFC 6120 section 4.9.3 stream error condition
	// ("conflict", "policy-violation", "connection-timeout",
	// "system-shutdown", ...) that the server sent, or, for
	// EndClientClosed, that the client sent; empty when the stream ended
	// without one.
	Condition string `json:"condition,omitempty"`
	// Detail is free text for people (a stream error's text, the network
	// error); schema 1's reason, for upcast events. Never parse it.
	Detail string `json:"detail,omitempty"`
}

// SessionEndCause is why a session ended (session.ended schema 2): a closed
// set of values, stable once stored like the type names above. A new cause
// may be added; an existing one is never renamed or given a new meaning.
type SessionEndCause string

const (
	// EndClientClosed: the client closed its stream, with
	// </stream:stream> (RFC 6120 section 4.4) or with a stream error of
	// its own (section 4.9), whose condition is then the event's
	// Condition. Schema 1 wrote "client closed the stream" also for a
	// lost connection; upcast events keep that ambiguity.
	EndClientClosed SessionEndCause = "client_closed"
	// EndConflict: a new session bound the same resource and replaced
	// this one, which was sent <conflict/> (RFC 6120 sections 7.7.2.2
	// and 4.9.3.3).
	EndConflict SessionEndCause = "conflict"
	// EndStreamError: the server ended the stream with a stream error
	// (RFC 6120 section 4.9) for a cause not listed separately here, e.g.
	// <policy-violation/> for a stanza over the size limit,
	// <not-well-formed/>, <resource-constraint/> for a client too slow to
	// read. Condition names it.
	EndStreamError SessionEndCause = "stream_error"
	// EndConnectionLost: the connection failed or reached EOF without
	// </stream:stream>: a TCP or TLS error, or a failed write.
	EndConnectionLost SessionEndCause = "connection_lost"
	// EndTimeout: the client sent nothing, not even a whitespace
	// keepalive, within the read timeout, or left a stanza incomplete
	// for longer than the stanza timeout (Detail then says so); the
	// server sent <connection-timeout/> (RFC 6120 sections 4.6.1 and
	// 4.9.3.4).
	EndTimeout SessionEndCause = "timeout"
	// EndShutdown: the server shut down; the session was sent
	// <system-shutdown/> (RFC 6120 section 4.9.3.19).
	EndShutdown SessionEndCause = "shutdown"
	// EndRestart: the process that held the session died without ending
	// it, and the next start of the same node ended it. No stream error
	// reached the client.
	EndRestart SessionEndCause = "restart"
	// EndAccountDeleted: the account was deleted; the session was sent
	// <not-authorized/>.
	EndAccountDeleted SessionEndCause = "account_deleted"
	// EndServerClosed: the server closed the stream gracefully, with
	// </stream:stream> and no stream error (c2s Session.Close).
	EndServerClosed SessionEndCause = "server_closed"
	// EndBindFailed: the session's start was recorded but the bind did
	// not complete in time, so the client was refused the resource and
	// the session never carried a stanza.
	EndBindFailed SessionEndCause = "bind_failed"
	// EndResumptionExpired: the session was suspended (session.suspended,
	// XEP-0198 section 5) and not resumed within the resumption timeout.
	EndResumptionExpired SessionEndCause = "resumption_expired"
	// EndUnknown is written by no xmppd: the upcaster gives it to a
	// schema 1 reason it does not recognise, keeping the text in Detail.
	EndUnknown SessionEndCause = "unknown"
)

// SessionEndCauses returns every SessionEndCause, in the order above.
func SessionEndCauses() []SessionEndCause {
	return []SessionEndCause{
		EndClientClosed, EndConflict, EndStreamError, EndConnectionLost, EndTimeout,
		EndShutdown, EndRestart, EndAccountDeleted, EndServerClosed, EndBindFailed, EndResumptionExpired, EndUnknown,
	}
}

// AuthFailed records a failed SASL attempt (schema 2) and what the
// failed-login throttle decided about it. Schema 1 had no Throttle or
// DelayMillis; it decodes with Throttle ThrottleUnrecorded.
type AuthFailed struct {
	Username   string `json:"username"`
	Mechanism  string `json:"mechanism"`
	ClientAddr string `json:"addr"`
	Condition  string `json:"condition"`
	// Throttle is the throttle's decision about this attempt.
	Throttle ThrottleDecision `json:"throttle"`
	// DelayMillis is how long the answer was held back, in milliseconds,
	// when Throttle is ThrottleDelayed.
	DelayMillis int64 `json:"delay_ms,omitempty"`
}

// ThrottleDecision is what the failed-login throttle decided about one
// authentication attempt.
type ThrottleDecision string

// The throttle's decisions.
const (
	// ThrottleNone: the attempt was answered at normal speed.
	ThrottleNone ThrottleDecision = "none"
	// ThrottleDelayed: the answer was held back because the address had
	// failed before.
	ThrottleDelayed ThrottleDecision = "delayed"
	// ThrottleRefused: the attempt was refused without checking the
	// password (<temporary-auth-failure/>, RFC 6120 section 6.5.12).
	ThrottleRefused ThrottleDecision = "refused"
	// ThrottleUnrecorded: written by an xmppd that did not record the
	// decision (session.auth_failed schema 1).
	ThrottleUnrecorded ThrottleDecision = "unrecorded"
)

// PresenceAvailable records available presence broadcast by a resource
// (RFC 6121 4.2 and 4.4), with the stanza kept whole.
type PresenceAvailable struct {
	Resource string `json:"resource"`
	Show     string `json:"show,omitempty"`
	Status   string `json:"status,omitempty"`
	Priority int    `json:"priority"`
	Stanza   string `json:"stanza"`
	// Sealed (schema 2) holds Status and Stanza, encrypted (seal.go);
	// Show and Priority stay clear. A schema 1 event is a valid schema 2
	// one with nothing sealed.
	Sealed *Sealed `json:"sealed,omitempty"`
}

// PresenceUnavailable records unavailable presence of a resource (RFC 6121
// 4.5), with the stanza kept whole.
type PresenceUnavailable struct {
	Resource string `json:"resource"`
	Stanza   string `json:"stanza"`
}

// DirectedPresence records presence sent by a resource to one entity
// outside the broadcast (RFC 6121 4.6).
type DirectedPresence struct {
	Resource  string `json:"resource"`
	To        string `json:"to"` // full or bare JID
	Available bool   `json:"available"`
	Stanza    string `json:"stanza"`
	// Sealed (schema 2) holds Stanza, encrypted under the sender's key
	// (seal.go); who sent presence to whom stays clear, as the
	// subscription record does. A schema 1 event is a valid schema 2 one
	// with nothing sealed.
	Sealed *Sealed `json:"sealed,omitempty"`
}

// OfflineQueued records a stanza kept for an account with no available
// resource (XEP-0160; RFC 6121 3.1.3 for subscription requests).
type OfflineQueued struct {
	Kind   string `json:"kind"` // "message" or "presence"
	From   string `json:"from"`
	Stanza string `json:"stanza"`
	// Sealed (schema 2) holds Stanza, encrypted under the key of the
	// queue's owner, the recipient (seal.go): erasing the recipient
	// makes what waited for them unreadable. Kind and From stay clear.
	// A schema 1 event is a valid schema 2 one with nothing sealed.
	Sealed *Sealed `json:"sealed,omitempty"`
}

// OfflineDelivered records delivery of every queued stanza up to and
// including stream version Through to a resource.
type OfflineDelivered struct {
	Through  uint64 `json:"through"`
	Resource string `json:"resource"`
}

// ServerStarted records a server process starting.
type ServerStarted struct {
	Node         string `json:"node"`
	Version      string `json:"version"`
	ConfigDigest string `json:"config_digest"`
}

// ServerStopped records a clean stop, or a stop found at the next start.
type ServerStopped struct {
	Node   string `json:"node"`
	Reason string `json:"reason"`
}

// AdminAction records an administrative command run against the server.
type AdminAction struct {
	Command string `json:"command"`
	Target  string `json:"target,omitempty"`
}

func (AccountCreated) EventType() string      { return TypeAccountCreated }
func (AccountDeleted) EventType() string      { return TypeAccountDeleted }
func (CredentialsSet) EventType() string      { return TypeCredentialsSet }
func (RosterItemSet) EventType() string       { return TypeRosterItemSet }
func (RosterItemRemoved) EventType() string   { return TypeRosterItemRemoved }
func (SubscriptionChanged) EventType() string { return TypeSubscriptionChanged }
func (SubscriptionIgnored) EventType() string { return TypeSubscriptionIgnored }
func (PreapprovalSet) EventType() string      { return TypePreapprovalSet }
func (PreapprovalCleared) EventType() string  { return TypePreapprovalCleared }
func (SessionStarted) EventType() string      { return TypeSessionStarted }
func (SessionEnded) EventType() string        { return TypeSessionEnded }
func (AuthFailed) EventType() string          { return TypeAuthFailed }
func (PresenceAvailable) EventType() string   { return TypePresenceAvailable }
func (PresenceUnavailable) EventType() string { return TypePresenceUnavailable }
func (DirectedPresence) EventType() string    { return TypeDirectedPresence }
func (OfflineQueued) EventType() string       { return TypeOfflineQueued }
func (OfflineDelivered) EventType() string    { return TypeOfflineDelivered }
func (ServerStarted) EventType() string       { return TypeServerStarted }
func (ServerStopped) EventType() string       { return TypeServerStopped }
func (AdminAction) EventType() string         { return TypeAdminAction }

func (AccountCreated) SchemaVersion() int      { return 1 }
func (AccountDeleted) SchemaVersion() int      { return 1 }
func (CredentialsSet) SchemaVersion() int      { return 1 }
func (RosterItemSet) SchemaVersion() int       { return 1 }
func (RosterItemRemoved) SchemaVersion() int   { return 1 }
func (SubscriptionChanged) SchemaVersion() int { return 1 }
func (SubscriptionIgnored) SchemaVersion() int { return 1 }
func (PreapprovalSet) SchemaVersion() int      { return 1 }
func (PreapprovalCleared) SchemaVersion() int  { return 1 }
func (SessionStarted) SchemaVersion() int      { return 1 }
func (SessionEnded) SchemaVersion() int        { return 2 }
func (AuthFailed) SchemaVersion() int          { return 2 }
func (PresenceAvailable) SchemaVersion() int   { return 2 }
func (PresenceUnavailable) SchemaVersion() int { return 1 }
func (DirectedPresence) SchemaVersion() int    { return 2 }
func (OfflineQueued) SchemaVersion() int       { return 2 }
func (OfflineDelivered) SchemaVersion() int    { return 1 }
func (ServerStarted) SchemaVersion() int       { return 1 }
func (ServerStopped) SchemaVersion() int       { return 1 }
func (AdminAction) SchemaVersion() int         { return 1 }

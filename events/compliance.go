package events

import "time"

// The compliance stream (compliance-<domain>, streams.go) records what
// the organisation does with its people's archives (issue 13): legal
// holds placed and released, and the keys retention destroyed. Its
// events name the account concerned in their payload, since the stream
// is the domain's; they hold no message content.
const (
	// TypeHoldPlaced records a legal hold on an account: from then on
	// retention destroys none of its keys and erasure refuses, until the
	// hold is released.
	TypeHoldPlaced = "hold.placed"
	// TypeHoldReleased records the end of a legal hold.
	TypeHoldReleased = "hold.released"
	// TypeKeysExpired records that retention destroyed keys of an
	// account: everything sealed under them reads as expired from then
	// on, in this log and in every copy of it.
	TypeKeysExpired = "keys.expired"
	// TypeErasureBegun records that an erasure of an account is about to
	// destroy its keys. It is appended to the compliance stream at the
	// version whose holds the erasure checked, before any key goes: a
	// hold placed at the same moment either comes first in the log, and
	// the erasure refuses, or comes after this event, and is refused.
	TypeErasureBegun = "erasure.begun"
)

// HoldPlaced is TypeHoldPlaced's payload. The envelope's actor is the
// administrator who placed it ("admin:<OS user>").
type HoldPlaced struct {
	// Account is the bare JID held.
	Account string `json:"account"`
	// Case names the matter the hold is for (the organisation's case or
	// docket number); one account may be held by several cases.
	Case   string `json:"case"`
	Reason string `json:"reason"`
	// Command is the command that placed it ("xmppd hold add").
	Command string `json:"command,omitempty"`
}

func (HoldPlaced) EventType() string  { return TypeHoldPlaced }
func (HoldPlaced) SchemaVersion() int { return 1 }

// HoldReleased is TypeHoldReleased's payload.
type HoldReleased struct {
	Account string `json:"account"`
	Case    string `json:"case"`
	Reason  string `json:"reason,omitempty"`
	Command string `json:"command,omitempty"`
}

func (HoldReleased) EventType() string  { return TypeHoldReleased }
func (HoldReleased) SchemaVersion() int { return 1 }

// KeysExpired is TypeKeysExpired's payload. It is recorded before the
// keys are destroyed, with the compliance stream's expected version: a
// hold placed at the same moment either comes first in the log, and the
// keys are kept, or after this event, which then shows it came too late
// for these periods.
type KeysExpired struct {
	Account string `json:"account"`
	// Periods are the key periods destroyed (KeyPeriod.Name), oldest
	// first.
	Periods []string `json:"periods"`
	// Retention is the account's retention as configured ("2555d"), and
	// Before the cut-off it gave: keys whose period ended at or before
	// it were destroyed.
	Retention string    `json:"retention"`
	Before    time.Time `json:"before"`
}

func (KeysExpired) EventType() string  { return TypeKeysExpired }
func (KeysExpired) SchemaVersion() int { return 1 }

// ErasureBegun is TypeErasureBegun's payload. The account.erased in the
// account's own stream completes it.
type ErasureBegun struct {
	Account string `json:"account"`
}

func (ErasureBegun) EventType() string  { return TypeErasureBegun }
func (ErasureBegun) SchemaVersion() int { return 1 }

package events

import "time"

// TypeAuthRefusalsSummarised stands for many failed logins that the
// failed-login throttle refused, from one address, which were counted
// instead of recorded one by one. It is written to server-<domain>.
//
// Why a new type and not session.auth_failed schema 3 with a count: a
// summary is a different fact. session.auth_failed is one SASL attempt,
// with the username and mechanism the client sent and the condition it
// was answered with; a summary stands for many attempts whose usernames
// (mostly not even sent: a refused address is refused before its name is
// read) are not kept, so every field of session.auth_failed but the
// address would be empty or a guess. Old logs need no upcaster, and a
// reader that counts session.auth_failed events keeps its meaning: one
// event, one attempt.
const TypeAuthRefusalsSummarised = "session.auth_refusals_summarised"

// AuthRefusalsSummarised is TypeAuthRefusalsSummarised's payload. The
// first refusal of an address (and the first after a quiet interval) is
// recorded whole as session.auth_failed with throttle "refused"; the
// refusals after it are counted, and each summary covers those not yet
// recorded, so the session.auth_failed events with throttle "refused"
// plus the Counts of the summaries are every refused attempt.
type AuthRefusalsSummarised struct {
	// ClientAddr is the address as the throttle counts it: an IPv4
	// address, or an IPv6 /64 prefix. Empty: addresses that were not
	// counted apart, because the bookkeeping was full.
	ClientAddr string `json:"addr"`
	// Count is how many refused attempts this event stands for; none of
	// them is recorded otherwise.
	Count int64 `json:"count"`
	// First and Last are when the first and the last of them were
	// refused.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

func (AuthRefusalsSummarised) EventType() string  { return TypeAuthRefusalsSummarised }
func (AuthRefusalsSummarised) SchemaVersion() int { return 1 }

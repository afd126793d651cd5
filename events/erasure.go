package events

// TypeAccountErased records that an account's keys were destroyed on a
// request for erasure (GDPR article 17, issue 13): everything sealed
// under them is unreadable from then on, in this log and every copy. It
// holds no personal data; the stream it is in names the account, as
// every event of the stream does. The account.deleted that follows it
// removes the credentials.
const TypeAccountErased = "account.erased"

// AccountErased is TypeAccountErased's payload.
type AccountErased struct {
	// Keys is how many keys (account and month) were destroyed.
	Keys int `json:"keys"`
	// Periods are the months those keys sealed ("2026-12"), oldest first.
	Periods []string `json:"periods,omitempty"`
}

func (AccountErased) EventType() string  { return TypeAccountErased }
func (AccountErased) SchemaVersion() int { return 1 }

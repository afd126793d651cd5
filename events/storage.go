package events

// Per-account XML the user stores on the server, in the account's stream.
const (
	// TypeVCardSet records a user's vCard (XEP-0054 section 3.2).
	TypeVCardSet = "vcard.set"
	// TypePrivateSet records one element of private XML storage
	// (XEP-0049 section 2).
	TypePrivateSet = "private.set"
)

// VCardSet is TypeVCardSet's payload: the <vCard xmlns='vcard-temp'/>
// element as the user sent it, serialised.
type VCardSet struct {
	XML string `json:"xml"`
}

// PrivateSet is TypePrivateSet's payload: the stored element, keyed by
// its local name and namespace; it replaces what was stored under them.
type PrivateSet struct {
	Local     string `json:"local"`
	Namespace string `json:"namespace"`
	XML       string `json:"xml"`
}

func (VCardSet) EventType() string    { return TypeVCardSet }
func (VCardSet) SchemaVersion() int   { return 1 }
func (PrivateSet) EventType() string  { return TypePrivateSet }
func (PrivateSet) SchemaVersion() int { return 1 }

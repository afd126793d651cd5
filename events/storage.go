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
//
// Schema 2 adds Sealed: from then on XML is empty in the log and the
// vCard travels sealed (seal.go). A schema 1 event is a valid schema 2
// one with nothing sealed.
type VCardSet struct {
	XML    string  `json:"xml"`
	Sealed *Sealed `json:"sealed,omitempty"`
}

// PrivateSet is TypePrivateSet's payload: the stored element, keyed by
// its local name and namespace; it replaces what was stored under them.
type PrivateSet struct {
	Local     string `json:"local"`
	Namespace string `json:"namespace"`
	XML       string `json:"xml"`
	// Sealed (schema 2) holds XML, encrypted (seal.go).
	Sealed *Sealed `json:"sealed,omitempty"`
}

func (VCardSet) EventType() string    { return TypeVCardSet }
func (VCardSet) SchemaVersion() int   { return 2 }
func (PrivateSet) EventType() string  { return TypePrivateSet }
func (PrivateSet) SchemaVersion() int { return 2 }

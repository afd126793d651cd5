package events

// XEP-0163 Personal Eventing Protocol: an account's PEP nodes and their
// items, in the account's stream, with the session that published as
// actor.
const (
	// TypePEPNodeConfigured records a node's creation (auto-create on
	// first publish, XEP-0163 section 4 / XEP-0060 7.1.4) or a change of
	// its configuration (publish-options, XEP-0060 7.1.5; configure,
	// 8.2).
	TypePEPNodeConfigured = "pep.node_configured"
	// TypePEPPublished records an item published to a node (XEP-0060
	// 7.1); an item with the id of a stored one replaces it.
	TypePEPPublished = "pep.published"
	// TypePEPRetracted records an item deleted from a node (XEP-0060
	// 7.2).
	TypePEPRetracted = "pep.retracted"
	// TypePEPNodeDeleted records a node deleted with all its items
	// (XEP-0060 8.4).
	TypePEPNodeDeleted = "pep.node_deleted"
)

// PEPNodeConfigured is TypePEPNodeConfigured's payload: the node's whole
// configuration after the change.
type PEPNodeConfigured struct {
	Node string `json:"node"`
	// AccessModel is "presence", "open" or "whitelist" (XEP-0060 4.5).
	AccessModel  string `json:"access_model"`
	PersistItems bool   `json:"persist_items"`
	// MaxItems is how many items the node keeps, the newest ones.
	MaxItems int `json:"max_items"`
	// Created is set when the node did not exist before.
	Created bool `json:"created,omitempty"`
}

// PEPPublished is TypePEPPublished's payload: the item's payload XML (the
// child of <item/>, serialised; empty for an item without payload).
type PEPPublished struct {
	Node string `json:"node"`
	ID   string `json:"id"`
	XML  string `json:"xml"`
	// Sealed (schema 2) holds XML, encrypted (seal.go); a schema 1 event
	// is a valid schema 2 one with nothing sealed.
	Sealed *Sealed `json:"sealed,omitempty"`
}

// PEPRetracted is TypePEPRetracted's payload.
type PEPRetracted struct {
	Node string `json:"node"`
	ID   string `json:"id"`
	// Notify records that subscribers were told (retract notify='true').
	Notify bool `json:"notify,omitempty"`
}

// PEPNodeDeleted is TypePEPNodeDeleted's payload.
type PEPNodeDeleted struct {
	Node string `json:"node"`
}

func (PEPNodeConfigured) EventType() string  { return TypePEPNodeConfigured }
func (PEPNodeConfigured) SchemaVersion() int { return 1 }
func (PEPPublished) EventType() string       { return TypePEPPublished }
func (PEPPublished) SchemaVersion() int      { return 2 }
func (PEPRetracted) EventType() string       { return TypePEPRetracted }
func (PEPRetracted) SchemaVersion() int      { return 1 }
func (PEPNodeDeleted) EventType() string     { return TypePEPNodeDeleted }
func (PEPNodeDeleted) SchemaVersion() int    { return 1 }

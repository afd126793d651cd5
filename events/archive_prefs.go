package events

// TypeArchivePrefsSet records an account's message archive preferences
// (XEP-0441, set in the urn:xmpp:mam:2 namespace), in its archive stream:
// the latest one is in force for every message archived after it. Which
// messages were kept under which preferences is then part of the record.
const TypeArchivePrefsSet = "archive.prefs_set"

// ArchivePrefsSet is TypeArchivePrefsSet's payload: the preferences as
// applied, the JIDs in canonical form. JIDs are kept in clear, as roster
// items are.
type ArchivePrefsSet struct {
	// Default is "always", "never" or "roster" (XEP-0441 2.1.1).
	Default string `json:"default"`
	// Always and Never are the JIDs whose messages are always or never
	// archived (2.1.2, 2.1.3), bare or full.
	Always []string `json:"always,omitempty"`
	Never  []string `json:"never,omitempty"`
}

func (ArchivePrefsSet) EventType() string  { return TypeArchivePrefsSet }
func (ArchivePrefsSet) SchemaVersion() int { return 1 }

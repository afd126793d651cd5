package events

// TypeArchiveMessageRetracted marks an archived message as retracted by
// its sender (XEP-0424), in the archive stream of each party that holds
// it, after the retraction message itself is archived there. The original
// archive.message_stored stays in the log as it was: the record is
// whole, and an auditor reads what was said and that it was withdrawn;
// a MAM client is shown the original as a XEP-0424 tombstone.
const TypeArchiveMessageRetracted = "archive.message_retracted"

// ArchiveMessageRetracted is TypeArchiveMessageRetracted's payload. Its
// time is the envelope's Recorded time (the tombstone's 'stamp'). It
// holds ids and an address only, no content: nothing in it is sealed.
type ArchiveMessageRetracted struct {
	// ID is the retracted message's archive id in this archive.
	ID string `json:"id"`
	// By is the bare JID that retracted it: always the original's
	// sender (XEP-0424 section 5), else nothing is recorded.
	By string `json:"by"`
	// Retraction is the retraction message's archive id in this
	// archive ("" if this archive did not keep it, XEP-0441).
	Retraction string `json:"retraction,omitempty"`
	// RetractionStanzaID is the retraction message's 'id' attribute,
	// which the tombstone's <retracted id=.../> carries (XEP-0424
	// section 4).
	RetractionStanzaID string `json:"retraction_stanza_id,omitempty"`
}

func (ArchiveMessageRetracted) EventType() string  { return TypeArchiveMessageRetracted }
func (ArchiveMessageRetracted) SchemaVersion() int { return 1 }

package events

// Reading an archive is itself recorded (issue 13, "audit of the
// auditors"): every `xmppd archive export` and `xmppd archive search` that
// reaches the log appends one of these to the compliance stream of the
// archive owner's domain (ComplianceStream), once its work is done, so an
// organisation can show who read whose messages, when, from where, and
// what they were looking for. A run that fails after it has begun reading
// is recorded too, with its error: what it wrote before failing may have
// been read. The events hold no message content; a search's words are
// kept, since what an auditor looked for is the record.
const (
	TypeArchiveExported = "archive.exported"
	TypeArchiveSearched = "archive.searched"
)

// ArchiveReader says who read an archive: the operating system user, the
// host and process, and the command line as typed. The envelope's Actor
// is "admin:<OS user>", as for every command-line change.
type ArchiveReader struct {
	OSUser  string   `json:"os_user"`
	Host    string   `json:"host"`
	PID     int      `json:"pid"`
	Command []string `json:"command"`
}

// ArchiveSelection is which messages of which archive were read: the
// owner (a bare JID), and the filters as given (the other party, bare or
// full; the bounds of the archive time, RFC 3339, "" for none).
type ArchiveSelection struct {
	Account string `json:"account"`
	With    string `json:"with,omitempty"`
	Since   string `json:"since,omitempty"`
	Until   string `json:"until,omitempty"`
}

// ArchiveExported is TypeArchiveExported's payload.
type ArchiveExported struct {
	ArchiveSelection
	// Format is "jsonl", "eml" (a file per message) or "mbox".
	Format string `json:"format"`
	// Out is where the export was written ("" for standard output).
	Out string `json:"out,omitempty"`
	// Count is how many messages were written, Gone how many of them
	// without their content (erased or expired).
	Count int `json:"count"`
	Gone  int `json:"gone"`
	// Error is why the export failed, after writing Count messages.
	Error string        `json:"error,omitempty"`
	By    ArchiveReader `json:"by"`
}

// ArchiveSearched is TypeArchiveSearched's payload.
type ArchiveSearched struct {
	ArchiveSelection
	// Text is the search as typed, Words the words it looked for, as
	// typed (compared without regard to case).
	Text  string   `json:"text"`
	Words []string `json:"words"`
	// Scanned is how many archived messages were read, Count how many
	// matched.
	Scanned int `json:"scanned"`
	Count   int `json:"count"`
	// Error is why the search failed, after Scanned messages.
	Error string        `json:"error,omitempty"`
	By    ArchiveReader `json:"by"`
}

func (ArchiveExported) EventType() string  { return TypeArchiveExported }
func (ArchiveExported) SchemaVersion() int { return 1 }
func (ArchiveSearched) EventType() string  { return TypeArchiveSearched }
func (ArchiveSearched) SchemaVersion() int { return 1 }

package events

import "strings"

// Stream name prefixes (DESIGN.md, Streams). Every stream name is a prefix
// followed by a bare JID or a domain, as the JID's canonical string.
const (
	AccountPrefix  = "account-"
	PresencePrefix = "presence-"
	OfflinePrefix  = "offline-"
	ServerPrefix   = "server-"
	// CompliancePrefix names a domain's compliance stream (issue 13):
	// the record of what the organisation did with the archive (legal
	// holds, retention's key destructions, exports and searches: who
	// read whose messages). Its events hold no message content.
	CompliancePrefix = "compliance-"
	// ArchivePrefix is in archive.go.
)

// AccountStream names the stream of an account's own facts.
func AccountStream(bare string) string { return AccountPrefix + bare }

// PresenceStream names the stream of an account's sessions and presence.
func PresenceStream(bare string) string { return PresencePrefix + bare }

// OfflineStream names the stream of an account's offline queue.
func OfflineStream(bare string) string { return OfflinePrefix + bare }

// ServerStream names the stream of one domain's server lifecycle.
func ServerStream(domain string) string { return ServerPrefix + domain }

// ComplianceStream names the compliance stream of one domain.
func ComplianceStream(domain string) string { return CompliancePrefix + domain }

// SplitStream returns the prefix (without its dash) and the JID or domain
// of a stream name, or ok=false for a name that is not xmppd's.
func SplitStream(stream string) (kind, id string, ok bool) {
	for _, p := range [...]string{AccountPrefix, PresencePrefix, OfflinePrefix, ServerPrefix, ArchivePrefix, CompliancePrefix} {
		if rest, found := strings.CutPrefix(stream, p); found {
			return p[:len(p)-1], rest, true
		}
	}
	return "", "", false
}

package projections

import (
	"time"

	"xmppd/domain"
	"xmppd/events"
)

// What the archive index keeps beside its entries: the retractions of
// archived messages (XEP-0424) and the account's archiving preferences
// (XEP-0441). Both are folded from the archive stream.

// ArchiveRetraction is what the index knows of a retracted entry: enough
// for a XEP-0424 tombstone (section 4), no content.
type ArchiveRetraction struct {
	// By is the bare JID that retracted the message (its sender).
	By string
	// Retraction is the retraction message's archive id ("" if this
	// archive did not keep it); StanzaID its 'id' attribute.
	Retraction, StanzaID string
	nanos                int64
}

// Time is when the retraction was recorded (the tombstone's 'stamp').
func (r ArchiveRetraction) Time() time.Time { return time.Unix(0, r.nanos).UTC() }

// foldRetracted marks an entry retracted. The first retraction of an
// entry is the one kept: a message is withdrawn once. A retraction of an
// id the index does not hold (an entry dropped by an erasure) changes
// nothing.
func (a *archiveIndex) foldRetracted(e *events.Envelope, r events.ArchiveMessageRetracted) {
	if _, ok := a.byID[r.ID]; !ok {
		return
	}
	if _, done := a.retracted[r.ID]; done {
		return
	}
	if a.retracted == nil {
		a.retracted = make(map[string]ArchiveRetraction)
	}
	a.retracted[r.ID] = ArchiveRetraction{By: r.By, Retraction: r.Retraction, StanzaID: r.RetractionStanzaID, nanos: e.Recorded.UnixNano()}
}

// ArchivePrefs returns bare's XEP-0441 preferences as set, and false
// when the account set none.
func (v *Views) ArchivePrefs(bare string) (domain.ArchivePrefs, bool) {
	s := v.lookup(bare)
	if s == nil {
		return domain.ArchivePrefs{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.archive.prefs == nil {
		return domain.ArchivePrefs{}, false
	}
	return *s.archive.prefs, true
}

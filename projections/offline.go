package projections

import (
	"time"

	"xmppd/events"
)

// OfflineItem is one stanza queued for an account and not yet delivered.
type OfflineItem struct {
	// Version is the offline.queued event's version in the offline
	// stream: offline.delivered acknowledges every item up to a version.
	Version  uint64    `json:"version"`
	Kind     string    `json:"kind"` // "message" or "presence"
	From     string    `json:"from"`
	Stanza   string    `json:"stanza"`
	Recorded time.Time `json:"recorded"`
	// Gone says why Stanza is empty when the key that sealed it (the
	// owner's, events.OfflineQueued) is destroyed: "erased", "expired"
	// or "missing" (events.GoneOf); "" when the stanza is there.
	Gone string `json:"gone,omitempty"`
}

// foldOffline applies an event of s's offline stream, decoded into p.
// Called with s.mu held for writing.
func (s *accountState) foldOffline(e *events.Envelope, p events.Payload) {
	switch p := p.(type) {
	case events.OfflineQueued:
		s.offline = append(s.offline, OfflineItem{
			Version: e.Version, Kind: p.Kind, From: p.From, Stanza: p.Stanza, Recorded: e.Recorded,
			Gone: events.GoneOf(p),
		})
	case events.OfflineDelivered:
		// Items are in version order (one stream, folded in order), so
		// the delivered ones are a prefix.
		n := 0
		for n < len(s.offline) && s.offline[n].Version <= p.Through {
			n++
		}
		if n == len(s.offline) {
			s.offline = nil // let the stanzas be collected
			return
		}
		s.offline = append(s.offline[:0:0], s.offline[n:]...)
	}
}

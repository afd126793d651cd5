package projections

import (
	"time"

	"xmppd/events"
)

// lastGone is when an account last went offline (XEP-0012 section 3):
// the end of its last session, and the unavailable presence it sent
// last.
type lastGone struct {
	at          time.Time
	unavailable string // the last presence.unavailable's stanza ("" if none)
}

// foldLast applies a presence stream event. Called with s.mu held for
// writing.
func (s *accountState) foldLast(e *events.Envelope, p events.Payload) {
	switch p := p.(type) {
	case events.SessionEnded:
		s.last.at = e.Recorded
	case events.PresenceUnavailable:
		s.last.at, s.last.unavailable = e.Recorded, p.Stanza
	case events.PresenceAvailable:
		s.last.unavailable = "" // a status from before this session is stale
	}
}

// LastActivity is what the views know of an account's last activity.
type LastActivity struct {
	// Online says a session is open (connected or available).
	Online bool
	// Gone is when the last session ended or the last unavailable
	// presence was sent (zero if never, since the log began).
	Gone time.Time
	// Unavailable is the last unavailable presence stanza ("" if none).
	Unavailable string
}

// LastActivity returns bare's last activity.
func (v *Views) LastActivity(bare string) LastActivity {
	s := v.lookup(bare)
	if s == nil {
		return LastActivity{}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return LastActivity{Online: len(s.sessions) > 0 || len(s.presence.Connected()) > 0, Gone: s.last.at, Unavailable: s.last.unavailable}
}

package projections

import (
	"cmp"
	"slices"

	"xmppd/domain"
)

// WithAccount calls fn with the roster and presence view of the account
// bare, under that account's read lock, and reports whether the log knows
// anything of bare (if not, fn is not called).
//
// The rule for fn: it must only read, must not block (no I/O, no channel
// operation, no waiting on another account), must not call back into v
// (a second read lock taken while Apply waits for the write lock
// deadlocks), and must not keep a or p, or anything they return by
// reference, after it returns. Apply waits for fn before it can change
// this account, so a slow fn delays every view. Decisions (domain.Decide*)
// fit: they are pure and return fresh values.
func (v *Views) WithAccount(bare string, fn func(a *domain.Account, p *domain.PresenceView)) bool {
	s := v.lookup(bare)
	if s == nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(s.roster, s.presence)
	return true
}

// Sessions returns a copy of the open sessions of bare, sorted by resource.
func (v *Views) Sessions(bare string) []Session {
	s := v.lookup(bare)
	if s == nil {
		return nil
	}
	s.mu.RLock()
	out := s.sessionList()
	s.mu.RUnlock()
	return out
}

// sessionList returns the sessions sorted by resource. Called with s.mu
// held.
func (s *accountState) sessionList() []Session {
	out := make([]Session, 0, len(s.sessions))
	for _, x := range s.sessions {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b Session) int { return cmp.Compare(a.Resource, b.Resource) })
	return out
}

// OpenSessionsOnNode returns every open session, of any account, that the
// node named node started, sorted by JID and resource. At start-up a node
// ends those its previous process left open.
func (v *Views) OpenSessionsOnNode(node string) []Session {
	return v.openSessions(func(x Session) bool { return x.Node == node })
}

// OpenSessions returns every session open in the log, of any node, sorted
// by JID and resource.
func (v *Views) OpenSessions() []Session {
	return v.openSessions(func(Session) bool { return true })
}

func (v *Views) openSessions(keep func(Session) bool) []Session {
	v.mu.RLock()
	states := make([]*accountState, 0, len(v.accounts))
	for _, s := range v.accounts {
		states = append(states, s)
	}
	v.mu.RUnlock()
	var out []Session
	for _, s := range states {
		s.mu.RLock()
		for _, x := range s.sessions {
			if keep(x) {
				out = append(out, x)
			}
		}
		s.mu.RUnlock()
	}
	slices.SortFunc(out, func(a, b Session) int {
		return cmp.Or(cmp.Compare(a.JID, b.JID), cmp.Compare(a.Resource, b.Resource))
	})
	return out
}

// Offline returns a copy of the undelivered queue of bare, oldest first.
func (v *Views) Offline(bare string) []OfflineItem {
	s := v.lookup(bare)
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.offline)
}

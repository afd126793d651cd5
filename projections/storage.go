package projections

import "xmppd/events"

// userStorage is what a user stored on the server: their vCard
// (XEP-0054) and private XML (XEP-0049), each as serialised XML. The
// account's deletion forgets both.
type userStorage struct {
	vcard string
	// vcardGone is why the vCard's content is gone (events.GoneErased,
	// GoneExpired): its key was destroyed. vcard is then empty, and the
	// server answers as if none were stored.
	vcardGone string
	private   map[string]string // by privateKey
}

func privateKey(local, space string) string { return local + " " + space }

// apply folds an account event. Called with the account's lock held.
func (u *userStorage) apply(p events.Payload) {
	switch e := p.(type) {
	case events.VCardSet:
		u.vcard, u.vcardGone = e.XML, events.GoneOf(e)
	case events.PrivateSet:
		if u.private == nil {
			u.private = map[string]string{}
		}
		if events.GoneOf(e) != "" {
			// Shredded: as if never stored (XEP-0049 answers empty).
			delete(u.private, privateKey(e.Local, e.Namespace))
			return
		}
		u.private[privateKey(e.Local, e.Namespace)] = e.XML
	case events.AccountDeleted:
		*u = userStorage{}
	}
}

// VCard returns bare's stored vCard XML ("" if none) and whether the
// account exists.
func (v *Views) VCard(bare string) (xml string, exists bool) {
	s := v.lookup(bare)
	if s == nil {
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.storage.vcard, s.roster.Exists
}

// VCardGone returns why bare's vCard content is gone ("" if it is not):
// its key was destroyed (issue 13), for replay to say so.
func (v *Views) VCardGone(bare string) string {
	s := v.lookup(bare)
	if s == nil {
		return ""
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.storage.vcardGone
}

// Private returns the private XML bare stored under the element local in
// namespace space ("" if none).
func (v *Views) Private(bare, local, space string) string {
	s := v.lookup(bare)
	if s == nil {
		return ""
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.storage.private[privateKey(local, space)]
}

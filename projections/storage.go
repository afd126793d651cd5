package projections

import "xmppd/events"

// userStorage is what a user stored on the server: their vCard
// (XEP-0054) and private XML (XEP-0049), each as serialised XML. The
// account's deletion forgets both.
type userStorage struct {
	vcard   string
	private map[string]string // by privateKey
}

func privateKey(local, space string) string { return local + " " + space }

// apply folds an account event. Called with the account's lock held.
func (u *userStorage) apply(p events.Payload) {
	switch e := p.(type) {
	case events.VCardSet:
		u.vcard = e.XML
	case events.PrivateSet:
		if u.private == nil {
			u.private = map[string]string{}
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

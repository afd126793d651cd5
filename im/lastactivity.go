package im

import (
	"strconv"

	"xmppd/domain"
	"xmppd/stanza"
)

// lastActivityIQ answers XEP-0012 section 3, a last activity query to an
// account's bare JID, on the account's behalf: only the account's user
// and contacts with a subscription to its presence (from or both) may
// ask (else forbidden); an account with a connected or available
// resource answers seconds='0'; otherwise the seconds since its last
// session ended, with the status of its last unavailable presence.
func (s *Core) lastActivityIQ(bare string, x *session, st stanza.Stanza) {
	if st.Type != "get" {
		s.reply(x, errorReply(st.El, errFeatureNotImplemented))
		return
	}
	from := st.From.Bare().String()
	exists, allowed := false, false
	s.views.WithAccount(bare, func(a *domain.Account, _ *domain.PresenceView) {
		exists = a.Exists
		allowed = from == bare || domain.HasFrom(a.Contact(from).Subscription)
	})
	switch {
	case !exists:
		s.reply(x, errorReply(st.El, errServiceUnavailable))
		return
	case !allowed:
		s.reply(x, errorReply(st.El, stanza.Error{Type: stanza.Auth, Condition: stanza.Forbidden}))
		return
	}
	last := s.views.LastActivity(bare)
	q := stanza.New(stanza.NSLast, "query", "seconds", "0")
	switch {
	case last.Online:
	case last.Gone.IsZero():
		// Nothing recorded since the log began.
		s.reply(x, errorReply(st.El, stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound}))
		return
	default:
		secs := int64(max(s.now().Sub(last.Gone).Seconds(), 0))
		q.SetAttr("seconds", strconv.FormatInt(secs, 10))
		if last.Unavailable != "" {
			if el, err := stanza.ParseBytes([]byte(last.Unavailable), stanza.Limits{}); err == nil {
				if status := el.Child("status", stanza.NSClient); status != nil && status.Text() != "" {
					q.AddText(status.Text())
				}
			}
		}
	}
	s.reply(x, iqResult(st.El, s.mustJID(bare)).AddChild(q))
}

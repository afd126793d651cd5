package im

import (
	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// clientMessage routes a message from x (RFC 6121 5). Messages record no
// event on the sender's side; the recipient's actor decides delivery
// (8.5) and records offline storage. done, if not nil, is called once the
// message is delivered, stored, bounced or dropped. It runs on x's
// account's actor or, when nothing of x's waits there, on x's c2s reader
// (Stanza).
func (s *Core) clientMessage(x *session, st stanza.Stanza, meta events.Meta, done func()) {
	to := st.To
	if s.refuseBlocked(x, st) { // XEP-0191 3.3
		if done != nil {
			done()
		}
		return
	}
	switch {
	case domain.IsRemote(to, s.cfg.Domain):
		s.reply(x, errorReply(st.El, errRemoteServerNotFound))
	case to.Equal(jid.JID{}):
		// RFC 6120 10.3.1: no 'to' is the sender's own bare JID.
		st.El.SetAttr("to", x.bare)
		stripForgedStanzaIDs(st.El, x.full, x.bare)
		s.forwardThen(st.El, meta, done)
		return
	case s.toServer(to):
		// RFC 6120 10.3.1 / 8.3.3.19: the server has no service for
		// messages addressed to itself.
		s.reply(x, errorReply(st.El, errServiceUnavailable))
	default:
		stripForgedStanzaIDs(st.El, to, x.bare)
		s.carbonSent(x, st)
		s.forwardThen(st.El, meta, done)
		return
	}
	if done != nil {
		done()
	}
}
